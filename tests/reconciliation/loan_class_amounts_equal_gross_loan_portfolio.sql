{#- rules §5.1, §3.1: every active loan is in exactly one CBN class, so at every level the class
    amounts add up to the gross loan portfolio, and the required provision is the sum over classes
    of class amount x the seed's provision rate. Amounts are stored with 10 decimals, rounded per
    column: tolerance 1e-6 NGN. -#}
{%- set class_columns = var('loan_class_columns') -%}
with levels as (
    select
        'officer_metrics_daily' as model_name,
        metric_date,
        officer_id::text as grain_key,
        {%- for class in class_columns %}
            {{ class.column_prefix }}_amount,
        {%- endfor %}
        required_provision_amount,
        gross_loan_portfolio
    from {{ ref('officer_metrics_daily') }}

    union all

    select
        'branch_metrics_daily' as model_name,
        metric_date,
        branch as grain_key,
        {%- for class in class_columns %}
            {{ class.column_prefix }}_amount,
        {%- endfor %}
        required_provision_amount,
        gross_loan_portfolio
    from {{ ref('branch_metrics_daily') }}

    union all

    select
        'region_metrics_daily' as model_name,
        metric_date,
        region as grain_key,
        {%- for class in class_columns %}
            {{ class.column_prefix }}_amount,
        {%- endfor %}
        required_provision_amount,
        gross_loan_portfolio
    from {{ ref('region_metrics_daily') }}

    union all

    select
        'portfolio_metrics_daily' as model_name,
        metric_date,
        'portfolio' as grain_key,
        {%- for class in class_columns %}
            {{ class.column_prefix }}_amount,
        {%- endfor %}
        required_provision_amount,
        gross_loan_portfolio
    from {{ ref('portfolio_metrics_daily') }}
),

rates as (
    select
        {%- for class in class_columns %}
            max(provision_rate) filter (
                where class_name = '{{ class.class }}'
            ) as {{ class.column_prefix }}_rate,
        {%- endfor %}
        count(*) as class_count
    from {{ ref('loan_classes') }}
),

class_totals as (
    select
        levels.model_name,
        levels.metric_date,
        levels.grain_key,
        levels.gross_loan_portfolio,
        levels.required_provision_amount,
        0
        {%- for class in class_columns %}
            + levels.{{ class.column_prefix }}_amount
        {%- endfor %} as class_amount,
        0
        {%- for class in class_columns %}
            + levels.{{ class.column_prefix }}_amount * rates.{{ class.column_prefix }}_rate
        {%- endfor %} as expected_provision_amount
    from levels
    cross join rates
)

select *
from class_totals
where
    abs(class_amount - gross_loan_portfolio) > 0.000001
    or abs(required_provision_amount - expected_provision_amount) > 0.000001
    or expected_provision_amount is null
