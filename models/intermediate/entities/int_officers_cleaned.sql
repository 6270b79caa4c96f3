{#- rules §1.1, Officers: every agent user (var officer_user_types, case-insensitive) and every
    agent_id of a disbursed loan. An agent_id missing from the users table gets a stub row
    (is_in_source false) so its loans keep an officer; its attributes follow the same rules. -#}
with users as (
    select * from {{ ref('stg_django__users') }}
),

loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

branch_regions as (
    select * from {{ ref('branch_regions') }}
),

region_patterns as (
    select * from {{ ref('region_patterns') }}
),

loan_officers as (
    select
        officer_id,
        min(disbursement_date) as first_disbursement_date,
        count(*) as disbursed_loans_count
    from loans
    group by officer_id
),

officers as (
    select
        coalesce(users.user_id, loan_officers.officer_id) as officer_id,
        users.user_id is not null as is_in_source,
        users.username,
        users.email,
        users.user_type,
        users.user_branch,
        users.is_active,
        users.performance_status,
        users.joined_date,
        coalesce(
            {{ upper_in_list('users.user_type', var('officer_user_types')) }}, false
        ) as is_agent_user_type,
        loan_officers.officer_id is not null as has_disbursed_loans,
        loan_officers.first_disbursement_date,
        coalesce(loan_officers.disbursed_loans_count, 0) as disbursed_loans_count
    from users
    full outer join loan_officers
        on users.user_id = loan_officers.officer_id
    where
        loan_officers.officer_id is not null
        or {{ upper_in_list('users.user_type', var('officer_user_types')) }}
),

branched as (
    select
        *,
        coalesce(initcap(trim(user_branch)), 'Unknown') as branch
    from officers
),

regioned as (
    select
        branched.*,
        coalesce(
            branch_regions.region,
            (
                select region_patterns.region
                from region_patterns
                where branched.branch ilike '%' || region_patterns.pattern || '%'
                order by region_patterns.priority
                limit 1
            ),
            'Unmapped'
        ) as region
    from branched
    left join branch_regions
        on lower(branched.branch) = lower(branch_regions.branch)
),

final as (
    select
        officer_id,
        coalesce(username, email, 'Unknown officer ' || officer_id) as officer_name,
        username,
        email,
        user_type,
        branch,
        region,
        case
            when is_active and performance_status = 'Active' then 'Active'
            when user_type is null then 'Terminated'
            else 'Inactive'
        end as employment_status,
        performance_status,
        case
            when {{ upper_in_list('user_type', var('partner_user_types')) }} then 'Partner'
            else 'Direct'
        end as primary_channel,
        joined_date as hire_date,
        is_agent_user_type,
        has_disbursed_loans,
        first_disbursement_date,
        disbursed_loans_count,
        is_in_source
    from regioned
)

select * from final
