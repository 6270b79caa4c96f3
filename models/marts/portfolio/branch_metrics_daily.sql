{#- rules §3.5, branch metrics per day: the officers' rows summed per branch and day, ratios
    recomputed from the sums (never an average of ratios), plus the number of officers with an
    active loan. Incremental like officer_metrics_daily (docs/incremental.md). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_daily_window(
            this, changes=ref('int_daily_changes'), upstream=ref('officer_metrics_daily')
        ) }}",
    )
}}

{#- the officer measures that add up (every one of officer_metrics_daily but the ratios) -#}
{%- set measures = additive_daily_measures() -%}
{%- set count_measures = measures['count'] -%}
{%- set amount_measures = measures['amount'] %}

with officer_metrics as (
    select * from {{ ref('officer_metrics_daily') }}
),

run_window as (
    {{ daily_run_window(this, changes=ref('int_daily_changes')) }}
),

branch_sums as (
    select
        metric_date,
        branch,
        region,
        {%- for measure in count_measures + amount_measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        count(*) filter (where active_loans > 0) as officers_with_active_loans
    from officer_metrics
    where metric_date >= (select run_window.window_start_date from run_window)
    group by metric_date, branch, region
),

final as (
    select
        metric_date::date as metric_date,
        branch::text as branch,
        region::text as region,
        officers_with_active_loans::integer as officers_with_active_loans,
        {%- for measure in count_measures %}
            {{ measure }}::integer as {{ measure }},
        {%- endfor %}
        {%- for measure in amount_measures %}
            {{ measure }}::numeric(38, 10) as {{ measure }},
        {%- endfor %}
        {%- for level in par_level_columns() %}
            {{ safe_ratio(level.amount, 'gross_loan_portfolio') }} as {{ level.ratio }},
        {%- endfor %}
        (select run_window.source_loaded_at from run_window) as source_loaded_at,
        '{{ run_started_at }}'::timestamptz as computed_at
    from branch_sums
)

select * from final
