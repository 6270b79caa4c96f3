{#- rules §3.4, officer metrics per day: one row per officer per day from the officer's first
    disbursement to the as-of date (days without any loan included), loans attributed to their
    current officer. Incremental (docs/incremental.md): the pre_hook
    deletes every day from the first one a change reaches (officers moving branch included), the
    body recomputes from the first missing day; the days before it are kept. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_daily_window(
            this, changes=ref('int_daily_changes'), upstream=ref('int_loan_days'),
            officer_changes=true
        ) }}",
    )
}}

{#- PAR levels (rules §3.2, var par_levels): the principal of active loans with DPD above each
    level's threshold -#}
{%- set par_levels = par_level_columns() -%}

with loan_days as (
    select * from {{ ref('int_loan_days') }}
),

loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

installments as (
    select * from {{ ref('int_loan_installments') }}
),

repayments as (
    select * from {{ ref('fct_repayments') }}
),

officers as (
    select * from {{ ref('dim_officers') }}
),

loan_classes as (
    select * from {{ ref('loan_classes') }}
),

-- rules §5.1: each active loan-day in its CBN class (the seed's inclusive DPD ranges cover every
-- DPD >= 0 exactly once, a tested property of the seed), with the class's provision rate
classed_loan_days as (
    select
        loan_days.*,
        loan_classes.class_name,
        loan_classes.provision_rate
    from loan_days
    left join loan_classes
        on
            loan_days.is_active
            and loan_days.dpd_days >= loan_classes.min_dpd
            and (loan_classes.max_dpd is null or loan_days.dpd_days <= loan_classes.max_dpd)
),

run_window as (
    {{ daily_run_window(this, changes=ref('int_daily_changes')) }}
),

officer_days as (
    select
        officers.officer_id,
        officers.branch,
        officers.region,
        days.metric_date::date as metric_date
    from officers
    cross join run_window
    cross join
        lateral generate_series(
            greatest(officers.first_disbursement_date, run_window.window_start_date),
            {{ as_of_date() }},
            interval '1 day'
        ) as days (metric_date)
    where officers.first_disbursement_date is not null
),

portfolio_state as (
    select
        officer_id,
        metric_date,
        count(*) filter (where is_active) as active_loans,
        count(distinct customer_id) filter (where is_active) as active_borrowers,
        sum(principal_outstanding_amount) filter (where is_active) as gross_loan_portfolio,
        sum(outstanding_balance_amount) filter (where is_active) as total_outstanding_amount,
        sum(arrears_amount) filter (where is_active) as arrears_amount,
        {%- for level in par_levels %}
            count(*) filter (where is_active and dpd_days > {{ level.dpd_above }})
                as {{ level.loans }},
            sum(principal_outstanding_amount) filter (
                where is_active and dpd_days > {{ level.dpd_above }}
            ) as {{ level.amount }},
        {%- endfor %}
        {%- for bucket in var('dpd_bucket_columns') %}
            count(*) filter (
                where is_active and dpd_bucket = '{{ bucket.bucket }}'
            ) as {{ bucket.column_prefix }}_loans,
            sum(principal_outstanding_amount) filter (
                where is_active and dpd_bucket = '{{ bucket.bucket }}'
            ) as {{ bucket.column_prefix }}_amount,
        {%- endfor %}
        count(*) filter (where is_active and is_fimr) as fimr_loans,
        -- rules §5.2: loans written off on D, their principal outstanding on W - 1, the
        -- recoveries paid on D, the principal still outstanding of the written-off loans
        count(*) filter (where metric_date = write_off_date) as written_off_loans,
        sum(written_off_amount) as written_off_amount,
        sum(recovered_amount) as recovered_amount,
        sum(principal_outstanding_amount) filter (where is_written_off)
            as written_off_outstanding_amount,
        -- rules §5.1: principal outstanding per CBN class, and the provision it requires
        {%- for class in var('loan_class_columns') %}
            sum(principal_outstanding_amount) filter (
                where is_active and class_name = '{{ class.class }}'
            ) as {{ class.column_prefix }}_amount,
        {%- endfor %}
        sum(principal_outstanding_amount * provision_rate) filter (where is_active)
            as required_provision_amount
    from classed_loan_days
    where metric_date >= (select run_window.window_start_date from run_window)
    group by officer_id, metric_date
),

disbursements as (
    select
        officer_id,
        disbursement_date as metric_date,
        count(*) as disbursed_count,
        sum(principal_amount) as disbursed_amount
    from loans
    where
        is_metric_eligible
        and disbursement_date >= (select run_window.window_start_date from run_window)
    group by officer_id, disbursement_date
),

-- rules §3.4: an installment due on D counts only if its loan was neither closed nor written off
-- before D. A loan closed before D has no loan-day on D (its last row is its closing day); a loan
-- written off before D has write_off_date < D on its day D. Due dates before the disbursement
-- day (no loan-day yet) count: the loan was not closed before them.
dues as (
    select
        loans.officer_id,
        installments.due_date as metric_date,
        sum(installments.due_amount) as due_amount
    from installments
    inner join loans
        on installments.loan_id = loans.loan_id
    left join loan_days as due_day
        on
            installments.loan_id = due_day.loan_id
            and installments.due_date = due_day.metric_date
    where
        installments.due_date >= (select run_window.window_start_date from run_window)
        and (
            installments.due_date < loans.disbursement_date
            or (
                due_day.loan_id is not null
                and not coalesce(due_day.write_off_date < installments.due_date, false)
            )
        )
    group by loans.officer_id, installments.due_date
),

collections as (
    select
        officer_id,
        paid_date as metric_date,
        sum(repayment_amount) as collected_amount
    from repayments
    where
        is_counted
        and paid_date >= (select run_window.window_start_date from run_window)
    group by officer_id, paid_date
),

measures as (
    select
        officer_days.metric_date,
        officer_days.officer_id,
        officer_days.branch,
        officer_days.region,
        coalesce(portfolio_state.active_loans, 0) as active_loans,
        coalesce(portfolio_state.active_borrowers, 0) as active_borrowers,
        coalesce(portfolio_state.gross_loan_portfolio, 0) as gross_loan_portfolio,
        coalesce(portfolio_state.total_outstanding_amount, 0) as total_outstanding_amount,
        coalesce(portfolio_state.arrears_amount, 0) as arrears_amount,
        {%- for level in par_levels %}
            coalesce(portfolio_state.{{ level.loans }}, 0) as {{ level.loans }},
            coalesce(portfolio_state.{{ level.amount }}, 0) as {{ level.amount }},
        {%- endfor %}
        {%- for bucket in var('dpd_bucket_columns') %}
            coalesce(portfolio_state.{{ bucket.column_prefix }}_loans, 0)
                as {{ bucket.column_prefix }}_loans,
            coalesce(portfolio_state.{{ bucket.column_prefix }}_amount, 0)
                as {{ bucket.column_prefix }}_amount,
        {%- endfor %}
        coalesce(disbursements.disbursed_count, 0) as disbursed_count,
        coalesce(disbursements.disbursed_amount, 0) as disbursed_amount,
        coalesce(dues.due_amount, 0) as due_amount,
        coalesce(collections.collected_amount, 0) as collected_amount,
        coalesce(portfolio_state.fimr_loans, 0) as fimr_loans,
        coalesce(portfolio_state.written_off_loans, 0) as written_off_loans,
        coalesce(portfolio_state.written_off_amount, 0) as written_off_amount,
        coalesce(portfolio_state.recovered_amount, 0) as recovered_amount,
        coalesce(portfolio_state.written_off_outstanding_amount, 0)
            as written_off_outstanding_amount,
        {%- for class in var('loan_class_columns') %}
            coalesce(portfolio_state.{{ class.column_prefix }}_amount, 0)
                as {{ class.column_prefix }}_amount,
        {%- endfor %}
        coalesce(portfolio_state.required_provision_amount, 0) as required_provision_amount,
        run_window.source_loaded_at
    from officer_days
    cross join run_window
    left join portfolio_state
        on
            officer_days.officer_id = portfolio_state.officer_id
            and officer_days.metric_date = portfolio_state.metric_date
    left join disbursements
        on
            officer_days.officer_id = disbursements.officer_id
            and officer_days.metric_date = disbursements.metric_date
    left join dues
        on
            officer_days.officer_id = dues.officer_id
            and officer_days.metric_date = dues.metric_date
    left join collections
        on
            officer_days.officer_id = collections.officer_id
            and officer_days.metric_date = collections.metric_date
),

final as (
    select
        metric_date::date as metric_date,
        officer_id::integer as officer_id,
        branch::text as branch,
        region::text as region,
        active_loans::integer as active_loans,
        active_borrowers::integer as active_borrowers,
        gross_loan_portfolio::numeric(38, 10) as gross_loan_portfolio,
        total_outstanding_amount::numeric(38, 10) as total_outstanding_amount,
        arrears_amount::numeric(38, 10) as arrears_amount,
        {%- for level in par_levels %}
            {{ level.amount }}::numeric(38, 10) as {{ level.amount }},
        {%- endfor %}
        {%- for level in par_levels %}
            {{ safe_ratio(level.amount, 'gross_loan_portfolio') }} as {{ level.ratio }},
        {%- endfor %}
        {%- for level in par_levels %}
            {{ level.loans }}::integer as {{ level.loans }},
        {%- endfor %}
        {%- for bucket in var('dpd_bucket_columns') %}
            {{ bucket.column_prefix }}_loans::integer as {{ bucket.column_prefix }}_loans,
            {{ bucket.column_prefix }}_amount::numeric(38, 10) as {{ bucket.column_prefix }}_amount,
        {%- endfor %}
        disbursed_count::integer as disbursed_count,
        disbursed_amount::numeric(38, 10) as disbursed_amount,
        due_amount::numeric(38, 10) as due_amount,
        collected_amount::numeric(38, 10) as collected_amount,
        fimr_loans::integer as fimr_loans,
        written_off_loans::integer as written_off_loans,
        written_off_amount::numeric(38, 10) as written_off_amount,
        recovered_amount::numeric(38, 10) as recovered_amount,
        written_off_outstanding_amount::numeric(38, 10) as written_off_outstanding_amount,
        {%- for class in var('loan_class_columns') %}
            {{ class.column_prefix }}_amount::numeric(38, 10) as {{ class.column_prefix }}_amount,
        {%- endfor %}
        required_provision_amount::numeric(38, 10) as required_provision_amount,
        source_loaded_at::timestamptz as source_loaded_at,
        '{{ run_started_at }}'::timestamptz as computed_at
    from measures
)

select * from final
