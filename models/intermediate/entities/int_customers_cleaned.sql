{#- rules §1.2, Customers: every customer row (onboarding_complete kept as a flag), plus a stub
    row (is_in_source false) for a borrower_id of a disbursed loan missing from the source.
    Name, KYC, masked phone and age band are computed here once; PII stays in this layer. -#}
with customers as (
    select * from {{ ref('stg_django__customers') }}
),

loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

missing_borrowers as (
    select distinct loans.customer_id
    from loans
    where not loans.has_known_customer
),

all_customers as (
    select
        customer_id,
        true as is_in_source,
        managing_user_id,
        phone_number,
        first_name,
        last_name,
        birth_date,
        gender,
        marital_status,
        state,
        lga,
        trade,
        is_bvn_verified,
        is_onboarding_verified,
        is_onboarding_complete,
        provider,
        created_date
    from customers
    union all
    select
        customer_id,
        false as is_in_source,
        null::integer as managing_user_id,
        null::text as phone_number,
        null::text as first_name,
        null::text as last_name,
        null::date as birth_date,
        null::text as gender,
        null::text as marital_status,
        null::text as state,
        null::text as lga,
        null::text as trade,
        false as is_bvn_verified,
        false as is_onboarding_verified,
        false as is_onboarding_complete,
        null::text as provider,
        null::date as created_date
    from missing_borrowers
),

named as (
    select
        *,
        nullif(trim(concat_ws(' ', trim(first_name), trim(last_name))), '') as full_name,
        {{ mask_phone('phone_number') }} as masked_phone,
        date_part('year', age({{ as_of_date() }}, birth_date))::integer as age_years
    from all_customers
),

final as (
    select
        customer_id,
        coalesce(full_name, phone_number, 'Unknown customer ' || customer_id) as customer_name,
        coalesce(full_name, masked_phone, 'Unknown customer ' || customer_id)
            as customer_name_masked,
        phone_number,
        masked_phone,
        birth_date,
        case
            when birth_date is null or birth_date > {{ as_of_date() }} then 'Unknown'
            when age_years < 25 then '<25'
            when age_years < 35 then '25-34'
            when age_years < 45 then '35-44'
            when age_years < 55 then '45-54'
            else '55+'
        end as age_band,
        case
            when is_bvn_verified and is_onboarding_verified then 'Verified'
            when is_bvn_verified then 'Partial'
            else 'Pending'
        end as kyc_status,
        is_bvn_verified,
        is_onboarding_verified,
        is_onboarding_complete,
        managing_user_id,
        gender,
        marital_status,
        state,
        lga,
        trade,
        provider,
        created_date,
        is_in_source
    from named
)

select * from final
