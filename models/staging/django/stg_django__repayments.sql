with source as (
    select * from {{ source('django', 'loans_ajoloanrepayment') }}
),

renamed as (
    select
        id as repayment_id,
        ajo_loan_id as loan_id,
        agent_id as collecting_user_id,
        borrower_id as customer_id,
        repayment_amount::numeric(18, 2) as repayment_amount,
        health_insurance::numeric(18, 2) as health_insurance_amount,
        loan_amount::numeric(18, 2) as loan_amount,
        {{ blank_to_null('repayment_type') }} as repayment_type,
        repayment_ref,
        {{ blank_to_null('marked_as') }} as marked_as,
        applied_to_loan as is_applied_to_loan,
        {{ blank_to_null('comment') }} as comment,
        settlement_status as is_settled,
        paid_date as paid_at,
        {{ to_business_date('paid_date') }} as paid_date,
        created_at,
        updated_at,
        _loaded_at as loaded_at,
        _run_id as run_id
    from source
)

select * from renamed
