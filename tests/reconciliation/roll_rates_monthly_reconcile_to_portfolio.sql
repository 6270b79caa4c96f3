{#- Roll rates, period to period: the opening principal and loans of each from_bucket equal the
    portfolio's bucket balance and loan count at the end of the period's start day
    (portfolio_metrics_daily on period_start_date), and the roll rates out of a non-empty bucket
    add up to 1 (every loan ends the period in exactly one bucket, closed included). -#}
with roll_rates as (
    select * from {{ ref('roll_rates_monthly') }}
),

portfolio as (
    select * from {{ ref('portfolio_metrics_daily') }}
),

opening_buckets as (
    {%- for bucket in var('dpd_bucket_columns') %}
        select
            metric_date,
            '{{ bucket.bucket }}' as bucket_name,
            {{ bucket.column_prefix }}_loans as bucket_loans,
            {{ bucket.column_prefix }}_amount as bucket_amount
        from portfolio
        {{ 'union all' if not loop.last }}
    {%- endfor %}
),

from_buckets as (
    select
        month_start_date,
        period_start_date,
        from_bucket,
        max(from_bucket_loans) as from_bucket_loans,
        max(from_bucket_principal_amount) as from_bucket_principal_amount,
        min(from_bucket_loans) as min_from_bucket_loans,
        sum(rolled_loans) as rolled_loans,
        sum(roll_rate_ratio) as roll_rate_total
    from roll_rates
    group by month_start_date, period_start_date, from_bucket
)

select
    from_buckets.*,
    opening_buckets.bucket_loans,
    opening_buckets.bucket_amount
from from_buckets
left join opening_buckets
    on
        from_buckets.period_start_date = opening_buckets.metric_date
        and from_buckets.from_bucket = opening_buckets.bucket_name
where
    from_buckets.from_bucket_loans <> from_buckets.min_from_bucket_loans
    or from_buckets.rolled_loans <> from_buckets.from_bucket_loans
    or from_buckets.from_bucket_loans <> coalesce(opening_buckets.bucket_loans, 0)
    or abs(from_buckets.from_bucket_principal_amount - coalesce(opening_buckets.bucket_amount, 0))
    > 0.000001
    or (
        from_buckets.from_bucket_principal_amount > 0
        and abs(from_buckets.roll_rate_total - 1) > 0.000001
    )
    or (from_buckets.from_bucket_principal_amount = 0 and from_buckets.roll_rate_total is not null)
