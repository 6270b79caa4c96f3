{#- rules §3.8, PAR15 snapshots: one row per officer per snapshot day with GLP, PAR15 amount,
    ratio and counts, read from officer_metrics_daily so the two always agree. Every day by
    default; var par15_snapshots_mid_month_only keeps only the mid-month day (var
    par15_snapshot_mid_month_day, the 15th), which is flagged either way (AYR divides by it).
    Incremental (docs/incremental.md) on snapshot_date. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_daily_window(
            this, changes=ref('int_daily_changes'), upstream=ref('officer_metrics_daily'),
            date_column='snapshot_date'
        ) }}",
    )
}}

with officer_metrics as (
    select * from {{ ref('officer_metrics_daily') }}
),

run_window as (
    {{ daily_run_window(this, changes=ref('int_daily_changes'), date_column='snapshot_date') }}
),

snapshots as (
    select
        *,
        extract(day from metric_date) = {{ var('par15_snapshot_mid_month_day') }} as is_mid_month
    from officer_metrics
    where metric_date >= (select run_window.window_start_date from run_window)
),

final as (
    select
        metric_date::date as snapshot_date,
        officer_id::integer as officer_id,
        branch::text as branch,
        region::text as region,
        gross_loan_portfolio::numeric(38, 10) as gross_loan_portfolio,
        par15_amount::numeric(38, 10) as par15_amount,
        par15_ratio::numeric(38, 10) as par15_ratio,
        active_loans::integer as active_loans,
        par15_loans::integer as par15_loans,
        is_mid_month::boolean as is_mid_month,
        (select run_window.source_loaded_at from run_window) as source_loaded_at,
        '{{ run_started_at }}'::timestamptz as computed_at
    from snapshots
    {%- if var('par15_snapshots_mid_month_only') %}
        where is_mid_month
    {%- endif %}
)

select * from final
