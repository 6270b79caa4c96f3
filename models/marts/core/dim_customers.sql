{#- PII never reaches this mart in clear: masked phone, age band, no address/bvn/nin/dob. -#}
with customers as (
    select * from {{ ref('int_customers_cleaned') }}
),

final as (
    select
        customer_id::integer as customer_id,
        customer_name_masked::text as customer_name,
        masked_phone::text as masked_phone,
        age_band::text as age_band,
        kyc_status::text as kyc_status,
        is_bvn_verified::boolean as is_bvn_verified,
        is_onboarding_verified::boolean as is_onboarding_verified,
        is_onboarding_complete::boolean as is_onboarding_complete,
        managing_user_id::integer as managing_user_id,
        gender::text as gender,
        marital_status::text as marital_status,
        state::text as state,
        lga::text as lga,
        trade::text as trade,
        provider::text as provider,
        created_date::date as created_date,
        is_in_source::boolean as is_in_source
    from customers
)

select * from final
