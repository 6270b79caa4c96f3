with source as (
    select * from {{ source('django', 'accounts_customuser') }}
),

renamed as (
    select
        id as user_id,
        {{ blank_to_null('username') }} as username,
        {{ blank_to_null('first_name') }} as first_name,
        {{ blank_to_null('last_name') }} as last_name,
        {{ blank_to_null('email') }} as email,
        is_superuser,
        is_staff,
        is_active,
        date_joined as joined_at,
        {{ to_business_date('date_joined') }} as joined_date,
        last_login as last_login_at,
        customer_user_id,
        {{ blank_to_null('user_type') }} as user_type,
        {{ blank_to_null('account_type') }} as account_type,
        {{ blank_to_null('user_phone') }} as user_phone,
        {{ blank_to_null('user_branch') }} as user_branch,
        {{ blank_to_null('performance_status') }} as performance_status,
        {{ blank_to_null('bvn_number') }} as bvn_number,
        created_at,
        updated_at,
        _loaded_at as loaded_at,
        _run_id as run_id
    from source
)

select * from renamed
