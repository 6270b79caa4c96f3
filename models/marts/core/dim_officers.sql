with officers as (
    select * from {{ ref('int_officers_cleaned') }}
),

final as (
    select
        officer_id::integer as officer_id,
        officer_name::text as officer_name,
        user_type::text as user_type,
        branch::text as branch,
        region::text as region,
        employment_status::text as employment_status,
        performance_status::text as performance_status,
        primary_channel::text as primary_channel,
        hire_date::date as hire_date,
        is_agent_user_type::boolean as is_agent_user_type,
        has_disbursed_loans::boolean as has_disbursed_loans,
        first_disbursement_date::date as first_disbursement_date,
        disbursed_loans_count::integer as disbursed_loans_count,
        is_in_source::boolean as is_in_source
    from officers
)

select * from final
