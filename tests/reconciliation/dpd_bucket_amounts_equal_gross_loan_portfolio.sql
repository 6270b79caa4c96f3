{#- rules §2.9, §3.1: every active loan is in exactly one non-closed DPD bucket, so at every level
    the bucket balances add up to the gross loan portfolio and the bucket loan counts to the
    active loans; closed loans are in no bucket column (they have no principal outstanding).
    Amounts are stored with 10 decimals, rounded per column: tolerance 1e-6 NGN. -#}
with levels as (
    select
        'officer_metrics_daily' as model_name,
        metric_date,
        officer_id::text as grain_key,
        {%- for bucket in var('dpd_bucket_columns') %}
            {{ bucket.column_prefix }}_loans,
            {{ bucket.column_prefix }}_amount,
        {%- endfor %}
        active_loans,
        gross_loan_portfolio
    from {{ ref('officer_metrics_daily') }}

    union all

    select
        'branch_metrics_daily' as model_name,
        metric_date,
        branch as grain_key,
        {%- for bucket in var('dpd_bucket_columns') %}
            {{ bucket.column_prefix }}_loans,
            {{ bucket.column_prefix }}_amount,
        {%- endfor %}
        active_loans,
        gross_loan_portfolio
    from {{ ref('branch_metrics_daily') }}

    union all

    select
        'region_metrics_daily' as model_name,
        metric_date,
        region as grain_key,
        {%- for bucket in var('dpd_bucket_columns') %}
            {{ bucket.column_prefix }}_loans,
            {{ bucket.column_prefix }}_amount,
        {%- endfor %}
        active_loans,
        gross_loan_portfolio
    from {{ ref('region_metrics_daily') }}

    union all

    select
        'portfolio_metrics_daily' as model_name,
        metric_date,
        'portfolio' as grain_key,
        {%- for bucket in var('dpd_bucket_columns') %}
            {{ bucket.column_prefix }}_loans,
            {{ bucket.column_prefix }}_amount,
        {%- endfor %}
        active_loans,
        gross_loan_portfolio
    from {{ ref('portfolio_metrics_daily') }}
),

bucket_totals as (
    select
        model_name,
        metric_date,
        grain_key,
        active_loans,
        gross_loan_portfolio,
        0
        {%- for bucket in var('dpd_bucket_columns') %}
            + {{ bucket.column_prefix }}_loans
        {%- endfor %} as bucket_loans,
        0
        {%- for bucket in var('dpd_bucket_columns') %}
            + {{ bucket.column_prefix }}_amount
        {%- endfor %} as bucket_amount
    from levels
)

select *
from bucket_totals
where
    bucket_loans <> active_loans
    or abs(bucket_amount - gross_loan_portfolio) > 0.000001
