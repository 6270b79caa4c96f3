{#- rules §3.5, portfolio metrics per day: the branches' rows summed per day, ratios recomputed
    from the sums (never an average of ratios); active borrowers are distinct customers of the
    whole portfolio (int_loan_days, loans of the officers of dim_officers), not a sum. Incremental
    like officer_metrics_daily (docs/incremental.md): a change to int_loan_days rewrites the
    branch days it reaches, which moves this window. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_daily_window(
            this, changes=ref('int_daily_changes'), upstream=ref('branch_metrics_daily')
        ) }}",
    )
}}

{#- the branch measures that add up (every one of branch_metrics_daily but the ratios and
    active_borrowers); active_borrowers keeps its column position, after active_loans -#}
{%- set measures = additive_daily_measures() -%}
{%- set count_measures = ['officers_with_active_loans'] + measures['count'] -%}
{%- set amount_measures = measures['amount'] -%}
{%- set count_columns = daily_count_columns(count_measures) %}

with branch_metrics as (
    select * from {{ ref('branch_metrics_daily') }}
),

loan_days as (
    select * from {{ ref('int_loan_days') }}
),

officers as (
    select * from {{ ref('dim_officers') }}
),

run_window as (
    {{ daily_run_window(this, changes=ref('int_daily_changes')) }}
),

portfolio_sums as (
    select
        metric_date,
        {%- for measure in count_measures + amount_measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        count(*) filter (where active_loans > 0) as branches_with_active_loans
    from branch_metrics
    where metric_date >= (select run_window.window_start_date from run_window)
    group by metric_date
),

-- rules §3.5: a customer with active loans under two officers or branches counts once
portfolio_borrowers as (
    {{ distinct_active_borrowers(
        'loan_days', 'officers', [], '(select run_window.window_start_date from run_window)'
    ) }}
),

portfolio_measures as (
    select
        portfolio_sums.*,
        coalesce(portfolio_borrowers.active_borrowers, 0) as active_borrowers
    from portfolio_sums
    left join portfolio_borrowers
        on portfolio_sums.metric_date = portfolio_borrowers.metric_date
),

final as (
    select
        metric_date::date as metric_date,
        branches_with_active_loans::integer as branches_with_active_loans,
        {%- for measure in count_columns %}
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
    from portfolio_measures
)

select * from final
