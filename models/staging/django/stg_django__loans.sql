with source as (
    select * from {{ source('django', 'loans_ajoloan') }}
),

renamed as (
    select
        id as loan_id,
        borrower_id as customer_id,
        agent_id as officer_id,
        {{ blank_to_null('borrower_full_name') }} as borrower_full_name,
        {{ blank_to_null('borrower_phone_number') }} as borrower_phone_number,
        amount::numeric(18, 2) as requested_amount,
        amount_disbursed::numeric(18, 2) as disbursed_amount,
        interest_rate::numeric as interest_rate_percent,
        interest_amount::numeric(18, 2) as interest_amount,
        processing_fee::numeric(18, 2) as processing_fee_amount,
        nem_fee::numeric(18, 2) as nem_fee_amount,
        repayment_amount::numeric(18, 2) as contract_repayment_amount,
        daily_repayment_amount::numeric(18, 2) as daily_repayment_amount,
        {{ blank_to_null('tenor') }} as tenor,
        tenor_in_days,
        {{ blank_to_null('repayment_type') }} as repayment_frequency,
        {{ blank_to_null('loan_type') }} as loan_type,
        {{ blank_to_null('status') }} as status,
        {{ blank_to_null('performance_status') }} as performance_status,
        {{ blank_to_null('verification_stage') }} as verification_stage,
        is_disbursed,
        date_disbursed as disbursed_at,
        {{ to_business_date('date_disbursed') }} as disbursement_date,
        start_date,
        end_date,
        expected_end_date,
        date_completed as completed_at,
        {{ to_business_date('date_completed') }} as completed_date,
        created_at,
        updated_at,
        _loaded_at as loaded_at,
        _run_id as run_id
    from source
)

select * from renamed
