{#- rules §3.6, DPD transitions: one row per loan per day D whose DPD bucket differs from the
    bucket on D-1 (including `-> closed`, on the closing day, and, rules §2.5, `-> written_off` on
    the write-off day and `written_off -> closed` on a full recovery). The disbursement day has no D-1
    state, so it never has a row. Incremental (docs/incremental.md): the pre_hook
    deletes every day from the first one a change reaches; the D-1 state of the first recomputed
    day comes from int_loan_days, which keeps the full history. transition_date is the day
    column the incremental window works on. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_daily_window(
            this, changes=ref('int_daily_changes'), upstream=ref('int_loan_days'),
            date_column='transition_date'
        ) }}",
    )
}}

with loan_days as (
    select * from {{ ref('int_loan_days') }}
),

run_window as (
    {{ daily_run_window(this, changes=ref('int_daily_changes'), date_column='transition_date') }}
),

consecutive_days as (
    select
        loan_id,
        officer_id,
        metric_date,
        dpd_bucket,
        dpd_bucket_order,
        dpd_days,
        principal_outstanding_amount,
        is_active,
        is_written_off,
        lag(metric_date) over loan_history as previous_metric_date,
        lag(dpd_bucket) over loan_history as previous_dpd_bucket,
        lag(dpd_bucket_order) over loan_history as previous_dpd_bucket_order,
        lag(dpd_days) over loan_history as previous_dpd_days,
        lag(principal_outstanding_amount) over loan_history as previous_principal_outstanding_amount
    from loan_days
    where metric_date >= (select run_window.window_start_date - 1 from run_window)
    window loan_history as (partition by loan_id order by metric_date)
),

transitions as (
    select
        *,
        case
            when is_written_off then 'written_off'
            when not is_active then 'closed'
            when dpd_bucket_order > previous_dpd_bucket_order then 'worsened'
            else 'improved'
        end as transition_type
    from consecutive_days
    where
        previous_metric_date = metric_date - 1
        and dpd_bucket <> previous_dpd_bucket
        and metric_date >= (select run_window.window_start_date from run_window)
),

final as (
    select
        loan_id::integer as loan_id,
        officer_id::integer as officer_id,
        metric_date::date as transition_date,
        previous_dpd_bucket::text as from_bucket,
        dpd_bucket::text as to_bucket,
        previous_dpd_days::integer as from_dpd,
        dpd_days::integer as to_dpd,
        previous_principal_outstanding_amount::numeric(38, 10) as principal_outstanding_before,
        principal_outstanding_amount::numeric(38, 10) as principal_outstanding_after,
        previous_dpd_bucket_order::integer as from_bucket_order,
        dpd_bucket_order::integer as to_bucket_order,
        transition_type::text as transition_type,
        (select run_window.source_loaded_at from run_window) as source_loaded_at,
        '{{ run_started_at }}'::timestamptz as computed_at
    from transitions
)

select * from final
