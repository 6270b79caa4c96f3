{#- The first metric_date an incremental run of a daily model recomputes (a SQL date expression).
    One rule for int_loan_days and every daily mart: see macros/daily_window_start.yml for the
    contract. `this_relation` is the model's own existing table ({{ this }}). -#}
{% macro daily_window_start(this_relation, compare_loan_terms=none, settings=none) -%}
    {#- the model's window settings: given by the model body (daily_run_window), else read from
        its config meta `daily_window` (the strategy's delete runs outside the model body) -#}
    {%- if settings is none -%}
        {%- set settings = config.meta_get('daily_window') or {} -%}
    {%- endif -%}
    {%- if compare_loan_terms is none -%}
        {%- set is_loan_days = this_relation.identifier == 'int_loan_days' -%}
    {%- else -%}
        {%- set is_loan_days = compare_loan_terms -%}
    {%- endif -%}
    (
        with stored as (
            select
                max(metric_date) as last_metric_date,
                max(source_loaded_at) as last_source_loaded_at,
                max(computed_at) as last_computed_at
            from {{ this_relation }}
        ),

        -- repayments loaded since the last run, whatever their (possibly old) paid day; a change
        -- on day P also moves is_fimr of loans whose grace period ends on or after P
        changed_repayments as (
            select min(repayments.paid_date) - {{ var('fimr_grace_days') }} as first_changed_date
            from {{ ref('stg_django__repayments') }} as repayments
            inner join stored
                on repayments.loaded_at > stored.last_source_loaded_at
        ),

        {%- if is_loan_days %}

        -- loans whose terms, officer, eligibility or schedule may have changed since the last run
        changed_holidays as (
            select count(*) > 0 as has_changed_holidays
            from {{ ref('stg_django__holidays') }} as holidays
            inner join stored
                on holidays.loaded_at > stored.last_source_loaded_at
        ),

        candidate_loans as (
            select loans.loan_id
            from {{ ref('stg_django__loans') }} as loans
            inner join stored
                on loans.loaded_at > stored.last_source_loaded_at
            union
            select schedules.loan_id
            from {{ ref('stg_django__loan_schedules') }} as schedules
            inner join stored
                on schedules.loaded_at > stored.last_source_loaded_at
            union
            select cleaned.loan_id
            from {{ ref('int_loans_cleaned') }} as cleaned
            cross join changed_holidays
            where
                changed_holidays.has_changed_holidays
                and not cleaned.has_source_schedule
        ),

        current_terms as (
            select
                cleaned.loan_id,
                cleaned.disbursement_date,
                cleaned.loan_terms_hash,
                {{ loan_schedule_hash('installments') }} as schedule_hash
            from {{ ref('int_loans_cleaned') }} as cleaned
            inner join candidate_loans
                on cleaned.loan_id = candidate_loans.loan_id
            left join {{ ref('int_loan_installments') }} as installments
                on cleaned.loan_id = installments.loan_id
            where cleaned.is_metric_eligible
            group by cleaned.loan_id, cleaned.disbursement_date, cleaned.loan_terms_hash
        ),

        stored_terms as (
            select
                candidate_loans.loan_id,
                first_row.metric_date as first_metric_date,
                first_row.loan_terms_hash,
                first_row.schedule_hash
            from candidate_loans
            cross join lateral (
                select
                    loan_days.metric_date,
                    loan_days.loan_terms_hash,
                    loan_days.schedule_hash
                from {{ this_relation }} as loan_days
                where loan_days.loan_id = candidate_loans.loan_id
                order by loan_days.metric_date
                limit 1
            ) as first_row
        ),

        changed_loans as (
            select min(least(stored_terms.first_metric_date, current_terms.disbursement_date)) as first_changed_date
            from current_terms
            full outer join stored_terms
                on current_terms.loan_id = stored_terms.loan_id
            where
                current_terms.loan_terms_hash is distinct from stored_terms.loan_terms_hash
                or current_terms.schedule_hash is distinct from stored_terms.schedule_hash
        )

        {%- else %}
        {#- the daily model this one is computed from (setting `upstream`, default int_loan_days):
            the days it rewrote since this model's last run must be rewritten here too -#}
        {%- set upstream = settings.get('upstream') or 'int_loan_days' %}

        changed_loans as (
            select min(changed.first_changed_date) as first_changed_date
            from (
                -- {{ upstream }} rows rewritten since this model's last run (changed loans,
                -- schedules, holidays and repayments rewrite int_loan_days from the first day
                -- they affect)
                select upstream_rows.metric_date as first_changed_date
                from {{ ref(upstream) }} as upstream_rows
                inner join stored
                    on upstream_rows.computed_at > stored.last_computed_at
                {%- if settings.get('officer_attributes') %}

                union all

                -- officers whose branch or region (dim_officers, current) differ from the stored
                -- rows of the last day: attribution is current, so all their days change
                select officers.first_disbursement_date as first_changed_date
                from {{ ref('dim_officers') }} as officers
                inner join {{ this_relation }} as stored_rows
                    on officers.officer_id = stored_rows.officer_id
                inner join stored
                    on stored_rows.metric_date = stored.last_metric_date
                where
                    officers.branch is distinct from stored_rows.branch
                    or officers.region is distinct from stored_rows.region
                {%- endif %}
            ) as changed
        )

        {%- endif %}

        select
            least(
                {{ as_of_date() }} + 1,
                coalesce(stored.last_metric_date + 1, date '1900-01-01'),
                changed_repayments.first_changed_date,
                changed_loans.first_changed_date
            ) - {{ var('incremental_lookback_days') }} as window_start_date
        from stored
        cross join changed_repayments
        cross join changed_loans
    )
{%- endmacro %}
