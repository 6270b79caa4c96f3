{#- rules §1.3, Loans: one row per disbursed loan (is_disbursed and a non-NULL date_disbursed),
    with the contractual amounts computed once. Loans whose officer or customer is missing from
    the source are kept and flagged (has_known_officer / has_known_customer), never dropped. -#}
with loans as (
    select * from {{ ref('stg_django__loans') }}
),

schedules as (
    select * from {{ ref('stg_django__loan_schedules') }}
),

users as (
    select * from {{ ref('stg_django__users') }}
),

customers as (
    select * from {{ ref('stg_django__customers') }}
),

scheduled_loans as (
    select
        loan_id,
        count(*) as source_schedule_rows
    from schedules
    group by loan_id
),

disbursed as (
    select
        loans.*,
        case
            when loans.disbursed_amount > 0 then loans.disbursed_amount
            else loans.requested_amount
        end as principal_amount,
        trim_scale(loans.interest_rate_percent / 100) as interest_rate,
        loans.processing_fee_amount + coalesce(loans.nem_fee_amount, 0) as fee_amount,
        scheduled_loans.loan_id is not null as has_source_schedule,
        coalesce(scheduled_loans.source_schedule_rows, 0) as source_schedule_rows,
        users.user_id is not null as has_known_officer,
        customers.customer_id is not null as has_known_customer
    from loans
    left join scheduled_loans
        on loans.loan_id = scheduled_loans.loan_id
    left join users
        on loans.officer_id = users.user_id
    left join customers
        on loans.customer_id = customers.customer_id
    where
        loans.is_disbursed
        and loans.disbursed_at is not null
),

amounts as (
    select
        *,
        case
            when contract_repayment_amount > 0 then contract_repayment_amount
            else trim_scale(principal_amount * (1 + interest_rate) + fee_amount)
        end as total_due_amount
    from disbursed
),

eligibility as (
    select
        *,
        case
            when total_due_amount is null or total_due_amount <= 0 then 'non_positive_total_due'
            when
                not has_source_schedule and coalesce(tenor_in_days, 0) <= 0
                then 'non_positive_tenor'
        end as ineligible_reason
    from amounts
),

final as (
    select
        loan_id,
        customer_id,
        officer_id,
        loan_type,
        case
            when {{ upper_in_list('loan_type', var('partner_loan_types')) }} then 'Partner'
            else 'Direct'
        end as channel,
        status,
        performance_status,
        requested_amount,
        disbursed_amount,
        principal_amount,
        interest_rate,
        interest_amount,
        fee_amount,
        contract_repayment_amount,
        total_due_amount,
        tenor,
        tenor_in_days,
        repayment_frequency,
        disbursed_at,
        disbursement_date,
        start_date,
        coalesce(end_date, expected_end_date) as maturity_date,
        has_source_schedule,
        source_schedule_rows,
        has_known_officer,
        has_known_customer,
        ineligible_reason is null as is_metric_eligible,
        ineligible_reason,
        md5(
            concat_ws(
                '|',
                coalesce(officer_id::text, ''),
                coalesce(customer_id::text, ''),
                coalesce(principal_amount::text, ''),
                coalesce(total_due_amount::text, ''),
                coalesce(disbursement_date::text, ''),
                coalesce(start_date::text, ''),
                coalesce(tenor_in_days::text, ''),
                has_source_schedule::text
            )
        ) as loan_terms_hash,
        updated_at,
        loaded_at
    from eligibility
)

select * from final
