with source as (
    select * from {{ source('django', 'ajo_ajouser') }}
),

renamed as (
    select
        id as customer_id,
        user_id as managing_user_id,
        {{ blank_to_null('phone_number') }} as phone_number,
        {{ blank_to_null('first_name') }} as first_name,
        {{ blank_to_null('last_name') }} as last_name,
        {{ blank_to_null('alias') }} as alias,
        dob as birth_date,
        {{ blank_to_null('gender') }} as gender,
        {{ blank_to_null('marital_status') }} as marital_status,
        {{ blank_to_null('state') }} as state,
        {{ blank_to_null('lga') }} as lga,
        {{ blank_to_null('address') }} as address,
        {{ blank_to_null('bvn') }} as bvn,
        {{ blank_to_null('nin') }} as nin,
        {{ blank_to_null('trade') }} as trade,
        bvn_verified as is_bvn_verified,
        onboarding_verified as is_onboarding_verified,
        onboarding_complete as is_onboarding_complete,
        {{ blank_to_null('provider') }} as provider,
        created_at,
        {{ to_business_date('created_at') }} as created_date,
        updated_at,
        _loaded_at as loaded_at,
        _run_id as run_id
    from source
)

select * from renamed
