with repayments as (
    select * from {{ ref('int_repayments_classified') }}
),

loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

final as (
    select
        repayments.repayment_id::bigint as repayment_id,
        repayments.loan_id::integer as loan_id,
        loans.officer_id::integer as officer_id,
        repayments.collecting_user_id::integer as collecting_user_id,
        repayments.customer_id::integer as customer_id,
        repayments.repayment_amount::numeric as repayment_amount,
        repayments.repayment_type::text as repayment_type,
        repayments.repayment_ref::uuid as repayment_ref,
        repayments.marked_as::text as marked_as,
        repayments.is_applied_to_loan::boolean as is_applied_to_loan,
        repayments.paid_at::timestamptz as paid_at,
        repayments.paid_date::date as paid_date,
        repayments.is_counted::boolean as is_counted,
        repayments.exclusion_reason::text as exclusion_reason,
        repayments.loaded_at::timestamptz as loaded_at
    from repayments
    left join loans
        on repayments.loan_id = loans.loan_id
)

select * from final
