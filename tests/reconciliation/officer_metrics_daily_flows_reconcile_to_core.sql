{#- rules §3.4, the day's flows, recomputed from the core marts: per officer, over the officer's
    days (first disbursement to the as-of date), the disbursed count and amount equal the
    metric-eligible loans of fct_loans disbursed then, the due amount equals the installments of
    fct_loan_installments due then of loans neither closed nor written off before their due date
    (rules §3.4, from fct_loans' closed_date and write_off_date), and the collected amount equals the counted repayments of
    fct_repayments paid then (backdated rows on their own paid day). -#}
with officer_ranges as (
    select
        officer_id,
        min(metric_date) as first_metric_date,
        max(metric_date) as last_metric_date,
        sum(disbursed_count) as disbursed_count,
        sum(disbursed_amount) as disbursed_amount,
        sum(due_amount) as due_amount,
        sum(collected_amount) as collected_amount
    from {{ ref('officer_metrics_daily') }}
    group by officer_id
),

disbursed as (
    select
        officer_ranges.officer_id,
        count(loans.loan_id) as disbursed_count,
        coalesce(sum(loans.principal_amount), 0) as disbursed_amount
    from officer_ranges
    left join {{ ref('fct_loans') }} as loans
        on
            officer_ranges.officer_id = loans.officer_id
            and loans.is_metric_eligible
            and loans.disbursement_date
            between officer_ranges.first_metric_date and officer_ranges.last_metric_date
    group by officer_ranges.officer_id
),

due as (
    select
        officer_ranges.officer_id,
        coalesce(sum(installments.due_amount), 0) as due_amount
    from officer_ranges
    left join {{ ref('fct_loan_installments') }} as installments
        on
            officer_ranges.officer_id = installments.officer_id
            and installments.due_date
            between officer_ranges.first_metric_date and officer_ranges.last_metric_date
            and not exists (
                select 1
                from {{ ref('fct_loans') }} as ended_loans
                where
                    ended_loans.loan_id = installments.loan_id
                    and (
                        ended_loans.closed_date < installments.due_date
                        or ended_loans.write_off_date < installments.due_date
                    )
            )
    group by officer_ranges.officer_id
),

collected as (
    select
        officer_ranges.officer_id,
        coalesce(sum(repayments.repayment_amount), 0) as collected_amount
    from officer_ranges
    left join {{ ref('fct_repayments') }} as repayments
        on
            officer_ranges.officer_id = repayments.officer_id
            and repayments.is_counted
            and repayments.paid_date
            between officer_ranges.first_metric_date and officer_ranges.last_metric_date
    group by officer_ranges.officer_id
)

select
    officer_ranges.*,
    disbursed.disbursed_count as expected_disbursed_count,
    disbursed.disbursed_amount as expected_disbursed_amount,
    due.due_amount as expected_due_amount,
    collected.collected_amount as expected_collected_amount
from officer_ranges
inner join disbursed
    on officer_ranges.officer_id = disbursed.officer_id
inner join due
    on officer_ranges.officer_id = due.officer_id
inner join collected
    on officer_ranges.officer_id = collected.officer_id
where
    officer_ranges.disbursed_count <> disbursed.disbursed_count
    or officer_ranges.disbursed_amount <> disbursed.disbursed_amount
    or officer_ranges.due_amount <> due.due_amount
    or officer_ranges.collected_amount <> collected.collected_amount
