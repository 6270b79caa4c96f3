{#- One row per disbursed loan: contractual fields plus the loan's state as of the run's as-of
    date (rules §2). The state comes from int_loan_days: the as-of-date row of an active or a
    written-off loan (rules §2.5: not active, bucket written_off), the closing-day row of a closed
    one (a written-off loan recovered in full included). Recoveries are the loan-days'
    recovered_amount up to the as-of date. Paid to date (and so outstanding and overpaid) is taken
    as of the as-of date from the counted repayments, so money received after a loan closed still
    shows as overpaid. Loans not metric-eligible, and loans disbursed after the as-of date, have a
    NULL state. -#}
with loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

loan_days as (
    select * from {{ ref('int_loan_days') }}
),

installments as (
    select * from {{ ref('int_loan_installments') }}
),

repayments as (
    select * from {{ ref('int_repayments_classified') }}
),

paid as (
    select
        loan_id,
        sum(repayment_amount) as paid_to_date_amount
    from repayments
    where
        is_counted
        and paid_date <= {{ as_of_date() }}
    group by loan_id
),

-- the as-of row, or the closing row (the loan's last: neither active nor written off)
day_state as (
    select distinct on (loan_id) *
    from loan_days
    where
        metric_date = {{ as_of_date() }}
        or (not is_active and not is_written_off and metric_date <= {{ as_of_date() }})
    order by loan_id, metric_date
),

recoveries as (
    select
        loan_id,
        sum(recovered_amount) as recovered_amount
    from loan_days
    where
        recovered_amount > 0
        and metric_date <= {{ as_of_date() }}
    group by loan_id
),

schedule_summary as (
    select
        installments.loan_id,
        min(installments.due_date) as first_due_date,
        count(*) filter (where installments.due_date <= {{ as_of_date() }})
            as installments_due_count,
        count(*) filter (
            where installments.cumulative_due_amount <= coalesce(paid.paid_to_date_amount, 0)
        ) as installments_paid_count
    from installments
    left join paid
        on installments.loan_id = paid.loan_id
    group by installments.loan_id
),

joined as (
    select
        loans.*,
        day_state.loan_id is not null as has_state,
        day_state.principal_outstanding_amount,
        day_state.arrears_amount,
        day_state.dpd_days,
        day_state.dpd_bucket,
        day_state.is_active,
        day_state.is_written_off,
        day_state.write_off_date,
        case when day_state.loan_id is not null then coalesce(recoveries.recovered_amount, 0) end
            as recovered_amount,
        day_state.is_fimr,
        case
            when not day_state.is_active and not day_state.is_written_off
                then day_state.metric_date
        end as closed_date,
        coalesce(paid.paid_to_date_amount, 0) as paid_to_date_amount,
        schedule_summary.first_due_date,
        schedule_summary.installments_due_count,
        schedule_summary.installments_paid_count
    from loans
    left join day_state
        on loans.loan_id = day_state.loan_id
    left join paid
        on loans.loan_id = paid.loan_id
    left join recoveries
        on loans.loan_id = recoveries.loan_id
    left join schedule_summary
        on loans.loan_id = schedule_summary.loan_id
),

final as (
    select
        loan_id::integer as loan_id,
        customer_id::integer as customer_id,
        officer_id::integer as officer_id,
        loan_type::text as loan_type,
        channel::text as channel,
        status::text as status,
        performance_status::text as performance_status,
        principal_amount::numeric as principal_amount,
        interest_rate::numeric as interest_rate,
        fee_amount::numeric as fee_amount,
        total_due_amount::numeric as total_due_amount,
        tenor_in_days::integer as tenor_in_days,
        disbursed_at::timestamptz as disbursed_at,
        disbursement_date::date as disbursement_date,
        start_date::date as start_date,
        maturity_date::date as maturity_date,
        first_due_date::date as first_due_date,
        has_source_schedule::boolean as has_source_schedule,
        has_known_officer::boolean as has_known_officer,
        has_known_customer::boolean as has_known_customer,
        is_metric_eligible::boolean as is_metric_eligible,
        ineligible_reason::text as ineligible_reason,
        {{ as_of_date() }}::date as as_of_date,
        case when has_state then paid_to_date_amount end::numeric as paid_to_date_amount,
        case
            when has_state then greatest(total_due_amount - paid_to_date_amount, 0)
        end::numeric as outstanding_balance_amount,
        principal_outstanding_amount::numeric as principal_outstanding_amount,
        case
            when has_state then greatest(paid_to_date_amount - total_due_amount, 0)
        end::numeric as overpaid_amount,
        arrears_amount::numeric as arrears_amount,
        dpd_days::integer as dpd_days,
        dpd_bucket::text as dpd_bucket,
        is_active::boolean as is_active,
        closed_date::date as closed_date,
        is_written_off::boolean as is_written_off,
        write_off_date::date as write_off_date,
        recovered_amount::numeric as recovered_amount,
        is_fimr::boolean as is_fimr,
        case when has_state then installments_due_count end::integer as installments_due_count,
        case when has_state then installments_paid_count end::integer as installments_paid_count
    from joined
)

select * from final
