with installments as (
    select * from {{ ref('int_loan_installments') }}
),

loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

final as (
    select
        installments.loan_id::integer as loan_id,
        installments.installment_number::integer as installment_number,
        loans.officer_id::integer as officer_id,
        installments.due_date::date as due_date,
        installments.due_amount::numeric as due_amount,
        installments.cumulative_due_amount::numeric as cumulative_due_amount,
        installments.is_derived::boolean as is_derived,
        installments.schedule_id::bigint as schedule_id
    from installments
    inner join loans
        on installments.loan_id = loans.loan_id
)

select * from final
