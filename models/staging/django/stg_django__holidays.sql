with source as (
    select * from {{ source('django', 'loans_holiday') }}
),

renamed as (
    select
        id as holiday_id,
        date as holiday_date,
        {{ blank_to_null('name') }} as holiday_name,
        {{ blank_to_null('type') }} as holiday_type,
        agent_id as officer_id,
        salary_waver as is_salary_waiver,
        created_at,
        updated_at,
        _loaded_at as loaded_at,
        _run_id as run_id
    from source
)

select * from renamed
