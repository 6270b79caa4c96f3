{#- rules §3.7, roll rates, period to period (never two buckets of the same day): for each
    calendar month M, the loans active at the period start (end of the last day of the month
    before M) are placed in their bucket then and in their bucket at the period end (end of M's
    last day, or of the as-of date for the running month; `closed` when the loan closed in
    between). roll_rate_ratio(a -> b) = principal outstanding at the start of the loans that went
    from a to b / principal outstanding at the start of all loans in a. Loans disbursed during M
    are not in M's matrix. Every (from, to) pair of the seed's buckets has a row for every month.
    Incremental (docs/incremental.md, on month_end_date, the month's last day): a month whose last
    day is on or after the window start is deleted and recomputed; a month that ended
    before it depends only on two earlier days, which the window says are unchanged. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_daily_window(
            this, changes=ref('int_daily_changes'), upstream=ref('int_loan_days'),
            date_column='month_end_date'
        ) }}",
    )
}}

with loan_days as (
    select * from {{ ref('int_loan_days') }}
),

loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

dpd_buckets as (
    select * from {{ ref('dpd_buckets') }}
),

run_window as (
    {{ daily_run_window(this, changes=ref('int_daily_changes'), date_column='month_end_date') }}
),

first_day as (
    select min(disbursement_date) as first_disbursement_date
    from loans
    where is_metric_eligible
),

month_periods as (
    select
        month_starts.month_start::date as month_start_date,
        (month_starts.month_start - interval '1 day')::date as period_start_date,
        least(
            (month_starts.month_start + interval '1 month' - interval '1 day')::date,
            {{ as_of_date() }}
        ) as period_end_date,
        (month_starts.month_start + interval '1 month' - interval '1 day')::date as month_end_date
    from first_day
    cross join lateral generate_series(
        date_trunc('month', first_day.first_disbursement_date) + interval '1 month',
        date_trunc('month', {{ as_of_date() }}),
        interval '1 month'
    ) as month_starts (month_start)
),

-- the months whose rows (by month_end_date) the window deletes: recomputed
months as (
    select *
    from month_periods
    where month_end_date >= (select run_window.window_start_date from run_window)
),

start_states as (
    select
        months.month_start_date,
        loan_days.loan_id,
        loan_days.dpd_bucket as from_bucket,
        loan_days.principal_outstanding_amount
    from months
    inner join loan_days
        on months.period_start_date = loan_days.metric_date
    where loan_days.is_active
),

end_states as (
    select
        months.month_start_date,
        loan_days.loan_id,
        loan_days.dpd_bucket as to_bucket
    from months
    inner join loan_days
        on months.period_end_date = loan_days.metric_date
),

moves as (
    select
        start_states.month_start_date,
        start_states.from_bucket,
        -- no row at the period end: the loan closed before it
        coalesce(end_states.to_bucket, 'closed') as to_bucket,
        count(*) as rolled_loans,
        sum(start_states.principal_outstanding_amount) as rolled_principal_amount
    from start_states
    left join end_states
        on
            start_states.month_start_date = end_states.month_start_date
            and start_states.loan_id = end_states.loan_id
    group by
        start_states.month_start_date,
        start_states.from_bucket,
        coalesce(end_states.to_bucket, 'closed')
),

matrix as (
    select
        months.month_start_date,
        months.period_start_date,
        months.period_end_date,
        months.month_end_date,
        months.period_end_date = months.month_end_date as is_complete_month,
        from_buckets.bucket_name as from_bucket,
        from_buckets.sort_order as from_bucket_order,
        to_buckets.bucket_name as to_bucket,
        to_buckets.sort_order as to_bucket_order
    from months
    cross join dpd_buckets as from_buckets
    cross join dpd_buckets as to_buckets
    where from_buckets.loan_state = 'active'
),

rolled as (
    select
        matrix.*,
        coalesce(moves.rolled_loans, 0) as rolled_loans,
        coalesce(moves.rolled_principal_amount, 0) as rolled_principal_amount,
        sum(coalesce(moves.rolled_loans, 0)) over from_bucket_at_start as from_bucket_loans,
        sum(coalesce(moves.rolled_principal_amount, 0))
            over from_bucket_at_start
            as from_bucket_principal_amount
    from matrix
    left join moves
        on
            matrix.month_start_date = moves.month_start_date
            and matrix.from_bucket = moves.from_bucket
            and matrix.to_bucket = moves.to_bucket
    window from_bucket_at_start as (partition by matrix.month_start_date, matrix.from_bucket)
),

final as (
    select
        month_start_date::date as month_start_date,
        period_start_date::date as period_start_date,
        period_end_date::date as period_end_date,
        is_complete_month::boolean as is_complete_month,
        from_bucket::text as from_bucket,
        from_bucket_order::integer as from_bucket_order,
        to_bucket::text as to_bucket,
        to_bucket_order::integer as to_bucket_order,
        rolled_loans::integer as rolled_loans,
        rolled_principal_amount::numeric(38, 10) as rolled_principal_amount,
        from_bucket_loans::integer as from_bucket_loans,
        from_bucket_principal_amount::numeric(38, 10) as from_bucket_principal_amount,
        {{ safe_ratio('rolled_principal_amount', 'from_bucket_principal_amount') }}
            as roll_rate_ratio,
        -- the month's last day even while it runs: the running month's row must fall in the next
        -- run's window (its period end, the old as-of day, can be before that window starts)
        month_end_date::date as month_end_date,
        (select run_window.source_loaded_at from run_window) as source_loaded_at,
        '{{ run_started_at }}'::timestamptz as computed_at
    from rolled
)

select * from final
