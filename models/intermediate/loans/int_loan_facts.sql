{#- Loan-grain facts of every metric-eligible loan, computed once per loan: the contract terms
    the loan-day state needs, the schedule fingerprint (int_daily_changes compares it between
    runs) and the first installment with FIMR (rules §3): whether paid to date at the end of
    the first installment's grace period (var fimr_grace_days) falls short of its due amount. -#}
with loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

installments as (
    select * from {{ ref('int_loan_installments') }}
),

repayments as (
    select * from {{ ref('int_repayments_classified') }}
),

eligible_loans as (
    select
        loan_id,
        officer_id,
        customer_id,
        principal_amount,
        total_due_amount,
        disbursement_date,
        has_source_schedule,
        loan_terms_hash
    from loans
    where is_metric_eligible
),

schedules as (
    select
        installments.loan_id,
        {{ loan_schedule_hash('installments') }} as schedule_hash,
        min(installments.due_date) filter (where installments.installment_number = 1)
            as first_due_date,
        min(installments.due_amount) filter (where installments.installment_number = 1)
            as first_due_amount
    from installments
    group by installments.loan_id
),

-- counted money (rules §1) paid by the end of the first installment's grace period
first_installment_payments as (
    select
        schedules.loan_id,
        coalesce(sum(repayments.repayment_amount), 0) as paid_by_grace_end_amount
    from schedules
    left join repayments
        on
            schedules.loan_id = repayments.loan_id
            and repayments.is_counted
            and repayments.paid_date <= schedules.first_due_date + {{ var('fimr_grace_days') }}
    group by schedules.loan_id
),

final as (
    select
        eligible_loans.loan_id,
        eligible_loans.officer_id,
        eligible_loans.customer_id,
        eligible_loans.principal_amount,
        eligible_loans.total_due_amount,
        eligible_loans.disbursement_date,
        eligible_loans.has_source_schedule,
        eligible_loans.loan_terms_hash,
        schedules.schedule_hash,
        schedules.first_due_date,
        schedules.first_due_amount,
        first_installment_payments.paid_by_grace_end_amount,
        first_installment_payments.paid_by_grace_end_amount
        < schedules.first_due_amount as is_first_installment_missed
    from eligible_loans
    left join schedules
        on eligible_loans.loan_id = schedules.loan_id
    left join first_installment_payments
        on eligible_loans.loan_id = first_installment_payments.loan_id
)

select * from final
