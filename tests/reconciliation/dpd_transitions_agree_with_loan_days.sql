{#- rules §3.6, DPD transitions recomputed from int_loan_days by joining each loan-day to the
    same loan's previous calendar day (the model uses a window function): the two sets must be
    equal, row for row, both ways. The disbursement day has no previous day, so no row. -#}
with loan_days as (
    select * from {{ ref('int_loan_days') }}
),

expected as (
    select
        today.loan_id,
        today.officer_id,
        today.metric_date as transition_date,
        yesterday.dpd_bucket as from_bucket,
        today.dpd_bucket as to_bucket,
        yesterday.dpd_days as from_dpd,
        today.dpd_days as to_dpd,
        yesterday.principal_outstanding_amount::numeric(38, 10) as principal_outstanding_before,
        today.principal_outstanding_amount::numeric(38, 10) as principal_outstanding_after
    from loan_days as today
    inner join loan_days as yesterday
        on
            today.loan_id = yesterday.loan_id
            and today.metric_date - 1 = yesterday.metric_date
    where today.dpd_bucket <> yesterday.dpd_bucket
),

actual as (
    select
        loan_id,
        officer_id,
        transition_date,
        from_bucket,
        to_bucket,
        from_dpd,
        to_dpd,
        principal_outstanding_before,
        principal_outstanding_after
    from {{ ref('dpd_transitions') }}
),

missing as (
    select * from expected
    except
    select * from actual
),

unexpected as (
    select * from actual
    except
    select * from expected
)

select
    'missing' as problem,
    *
from missing
union all
select
    'unexpected' as problem,
    *
from unexpected
