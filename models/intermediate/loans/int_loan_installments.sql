{#- rules §1.5, Installments, for metric-eligible loans: the source schedule rows ordered by
    due_date then id, or, for a loan without any, the derived schedule: tenor_in_days installments
    of round(total_due / tenor_in_days, 2), the last taking the remainder, on consecutive business
    days from the first business day on or after start_date (else after the disbursement day). -#}
with loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

schedules as (
    select * from {{ ref('stg_django__loan_schedules') }}
),

business_days as (
    select * from {{ ref('int_business_days') }}
),

eligible_loans as (
    select
        loan_id,
        total_due_amount,
        tenor_in_days,
        has_source_schedule,
        coalesce(start_date, disbursement_date + 1) as schedule_anchor_date
    from loans
    where is_metric_eligible
),

source_installments as (
    select
        schedules.loan_id,
        row_number() over (
            partition by schedules.loan_id
            order by schedules.due_date, schedules.schedule_id
        ) as installment_number,
        schedules.schedule_id,
        schedules.due_date,
        schedules.due_amount::numeric as due_amount,
        false as is_derived
    from schedules
    inner join eligible_loans
        on schedules.loan_id = eligible_loans.loan_id
    where eligible_loans.has_source_schedule
),

derived_loans as (
    select
        eligible_loans.loan_id,
        eligible_loans.total_due_amount,
        eligible_loans.tenor_in_days,
        round(eligible_loans.total_due_amount / eligible_loans.tenor_in_days, 2)
            as installment_amount,
        anchor.next_business_day_number as first_business_day_number
    from eligible_loans
    inner join business_days as anchor
        on eligible_loans.schedule_anchor_date = anchor.calendar_date
    where not eligible_loans.has_source_schedule
),

derived_installments as (
    select
        derived_loans.loan_id,
        numbers.installment_number,
        null::bigint as schedule_id,
        business_days.calendar_date as due_date,
        case
            when numbers.installment_number = derived_loans.tenor_in_days
                then
                    derived_loans.total_due_amount
                    - derived_loans.installment_amount * (derived_loans.tenor_in_days - 1)
            else derived_loans.installment_amount
        end as due_amount,
        true as is_derived
    from derived_loans
    cross join
        lateral generate_series(1, derived_loans.tenor_in_days) as numbers (installment_number)
    inner join business_days
        on
            derived_loans.first_business_day_number + numbers.installment_number - 1
            = business_days.business_day_number
),

installments as (
    select * from source_installments
    union all
    select * from derived_installments
),

final as (
    select
        loan_id,
        installment_number::integer as installment_number,
        due_date,
        due_amount,
        sum(due_amount) over (
            partition by loan_id
            order by installment_number
            rows between unbounded preceding and current row
        ) as cumulative_due_amount,
        is_derived,
        schedule_id
    from installments
)

select * from final
