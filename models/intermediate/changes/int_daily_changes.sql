{#- The change feed of the daily models (docs/incremental.md): an append-only log of what changed
    in the raw data since the feed's previous run, one row per loan or officer, with the earliest
    day whose daily rows it affects and why. Every daily model deletes and recomputes its rows from
    the earliest first_changed_date logged after the feed position it last saw (macro
    delete_daily_window), so no daily model reads staging to find its window.

    detected_at, the feed position, is the raw watermark of the run that logged the row: the latest
    `_loaded_at` over the raw tables the loan-day state and officer attribution depend on, and
    always later than the previous run's position. Loan and officer rows carry the
    state they changed to, which the next run compares the current state with; on a new feed
    (first build, --full-refresh) nothing is stored, so every loan and officer is logged as added,
    with one `feed_rebuilt` row telling daily models kept across it to recompute all days. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[
            {'columns': ['detected_at']},
            {'columns': ['loan_id', 'detected_at']},
        ],
    )
}}

with loan_facts as (
    select * from {{ ref('int_loan_facts') }}
),

officers as (
    select * from {{ ref('int_officers_cleaned') }}
),

repayments as (
    select * from {{ ref('stg_django__repayments') }}
),

-- what the feed logged in its previous runs (nothing on a new feed)
stored_changes as (
    {%- if is_incremental() %}
        select * from {{ this }}
    {%- else %}
        select
            null::timestamptz as detected_at,
            null::text as changed_entity,
            null::integer as loan_id,
            null::integer as officer_id,
            null::text as change_reason,
            null::date as disbursement_date,
            null::text as loan_terms_hash,
            null::text as schedule_hash,
            null::text as branch,
            null::text as region
        where false
    {%- endif %}
),

raw_watermark as (
    select max(watermarks.loaded_at) as detected_at
    from (
        select max(loaded_at) as loaded_at from {{ ref('stg_django__loans') }}
        union all
        select max(loaded_at) as loaded_at from {{ ref('stg_django__loan_schedules') }}
        union all
        select max(loaded_at) as loaded_at from repayments
        union all
        select max(loaded_at) as loaded_at from {{ ref('stg_django__holidays') }}
        union all
        select max(loaded_at) as loaded_at from {{ ref('stg_django__users') }}
    ) as watermarks
),

previous_run as (
    select max(detected_at) as detected_at
    from stored_changes
),

-- this run's feed position: the raw watermark, and always after the previous position, so that
-- rows logged without a newer raw load (an edited seed, a table loaded alone) are still seen
feed_position as (
    select
        greatest(
            raw_watermark.detected_at, previous_run.detected_at + interval '1 microsecond'
        ) as detected_at
    from raw_watermark
    cross join previous_run
),

-- the state every loan and officer had at its last logged change (repayment rows carry none);
-- a loan that left the eligible set was logged with no hashes
last_loan_states as (
    select distinct on (loan_id)
        loan_id,
        disbursement_date,
        loan_terms_hash,
        schedule_hash
    from stored_changes
    where changed_entity = 'loan' and change_reason <> 'repayment_loaded'
    order by loan_id asc, detected_at desc
),

present_loan_states as (
    select *
    from last_loan_states
    where loan_terms_hash is not null
),

last_officer_states as (
    select distinct on (officer_id)
        officer_id,
        branch,
        region
    from stored_changes
    where changed_entity = 'officer'
    order by officer_id asc, detected_at desc
),

current_officers as (
    select
        officer_id,
        branch,
        region,
        first_disbursement_date
    from officers
    where first_disbursement_date is not null
),

-- a new feed: daily models kept across the rebuild must recompute all their days
feed_changes as (
    select
        'feed' as changed_entity,
        null::integer as loan_id,
        null::integer as officer_id,
        'feed_rebuilt' as change_reason,
        date '1900-01-01' as first_changed_date,
        null::date as disbursement_date,
        null::text as loan_terms_hash,
        null::text as schedule_hash,
        null::text as branch,
        null::text as region
    from previous_run
    where previous_run.detected_at is null
),

-- repayments loaded since the previous run, whatever their (possibly old) paid day, counted or
-- not (a row turned into a reversal changes history too); a payment on day P also moves is_fimr
-- of loans whose grace period ends on or after P
repayment_changes as (
    select
        'loan' as changed_entity,
        repayments.loan_id,
        null::integer as officer_id,
        'repayment_loaded' as change_reason,
        min(repayments.paid_date) - {{ var('fimr_grace_days') }} as first_changed_date,
        null::date as disbursement_date,
        null::text as loan_terms_hash,
        null::text as schedule_hash,
        null::text as branch,
        null::text as region
    from repayments
    inner join previous_run
        on repayments.loaded_at > previous_run.detected_at
    -- a row without a paid day changes no day (its old paid day is unknown: a blind spot)
    where repayments.paid_date is not null
    group by repayments.loan_id
),

-- loans that appeared, left the metric-eligible set, or whose terms or schedule changed: their
-- whole history, from the earlier of the old and the new disbursement day
loan_changes as (
    select
        'loan' as changed_entity,
        coalesce(loan_facts.loan_id, last_loan_states.loan_id) as loan_id,
        null::integer as officer_id,
        case
            when last_loan_states.loan_id is null then 'loan_added'
            when loan_facts.loan_id is null then 'loan_removed'
            when
                loan_facts.loan_terms_hash <> last_loan_states.loan_terms_hash
                then 'loan_terms_changed'
            when loan_facts.has_source_schedule then 'loan_schedule_changed'
            else 'derived_schedule_moved'
        end as change_reason,
        least(loan_facts.disbursement_date, last_loan_states.disbursement_date)
            as first_changed_date,
        loan_facts.disbursement_date,
        loan_facts.loan_terms_hash,
        loan_facts.schedule_hash,
        null::text as branch,
        null::text as region
    from loan_facts
    full outer join present_loan_states as last_loan_states
        on loan_facts.loan_id = last_loan_states.loan_id
    where
        loan_facts.loan_terms_hash is distinct from last_loan_states.loan_terms_hash
        or loan_facts.schedule_hash is distinct from last_loan_states.schedule_hash
),

-- officers who appeared or whose branch or region changed: attribution is current, so all
-- their days change
officer_changes as (
    select
        'officer' as changed_entity,
        null::integer as loan_id,
        current_officers.officer_id,
        case
            when last_officer_states.officer_id is null then 'officer_added'
            else 'officer_moved'
        end as change_reason,
        current_officers.first_disbursement_date as first_changed_date,
        null::date as disbursement_date,
        null::text as loan_terms_hash,
        null::text as schedule_hash,
        current_officers.branch,
        current_officers.region
    from current_officers
    left join last_officer_states
        on current_officers.officer_id = last_officer_states.officer_id
    where
        last_officer_states.officer_id is null
        or current_officers.branch is distinct from last_officer_states.branch
        or current_officers.region is distinct from last_officer_states.region
),

changes as (
    select * from feed_changes
    union all
    select * from repayment_changes
    union all
    select * from loan_changes
    union all
    select * from officer_changes
),

final as (
    select
        feed_position.detected_at::timestamptz as detected_at,
        concat_ws(
            ':',
            changes.changed_entity,
            coalesce(changes.loan_id, changes.officer_id),
            changes.change_reason
        )::text as change_key,
        changes.changed_entity::text as changed_entity,
        changes.loan_id::integer as loan_id,
        changes.officer_id::integer as officer_id,
        changes.change_reason::text as change_reason,
        changes.first_changed_date::date as first_changed_date,
        changes.disbursement_date::date as disbursement_date,
        changes.loan_terms_hash::text as loan_terms_hash,
        changes.schedule_hash::text as schedule_hash,
        changes.branch::text as branch,
        changes.region::text as region,
        '{{ run_started_at }}'::timestamptz as computed_at
    from changes
    cross join feed_position
)

select * from final
