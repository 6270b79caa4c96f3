{#- rules §2.5, §2.7, §5.2, on the as-of date (the portfolio's last day): every disbursed
    principal is repaid (the principal share of counted payments, pro rata, up to the total due),
    outstanding in an active loan (GLP) or outstanding in a written-off loan; closed loans owe
    nothing. Also the daily write-off flows add up to the loans': the written-off loans counted
    over all days equal the loans of fct_loans with a write-off date, the recoveries over all days
    equal fct_loans' recovered amounts. Tolerance 1e-4 NGN (10-decimal rounding per row). -#}
with portfolio as (
    select * from {{ ref('portfolio_metrics_daily') }}
),

portfolio_totals as (
    select
        sum(disbursed_amount) as disbursed_amount,
        sum(written_off_loans) as written_off_loans,
        sum(recovered_amount) as recovered_amount
    from portfolio
),

as_of_day as (
    select
        gross_loan_portfolio,
        written_off_outstanding_amount
    from portfolio
    where metric_date = (select max(all_days.metric_date) from portfolio as all_days)
),

loans as (
    select
        coalesce(sum(
            principal_amount * least(paid_to_date_amount, total_due_amount) / total_due_amount
        ), 0) as principal_repaid_amount,
        count(*) filter (where write_off_date is not null) as written_off_loans,
        coalesce(sum(recovered_amount), 0) as recovered_amount
    from {{ ref('fct_loans') }}
    where is_metric_eligible and disbursement_date <= as_of_date
)

select
    portfolio_totals.disbursed_amount,
    loans.principal_repaid_amount,
    as_of_day.gross_loan_portfolio,
    as_of_day.written_off_outstanding_amount,
    portfolio_totals.written_off_loans,
    loans.written_off_loans as expected_written_off_loans,
    portfolio_totals.recovered_amount,
    loans.recovered_amount as expected_recovered_amount
from portfolio_totals
cross join as_of_day
cross join loans
where
    abs(
        portfolio_totals.disbursed_amount
        - loans.principal_repaid_amount
        - as_of_day.gross_loan_portfolio
        - as_of_day.written_off_outstanding_amount
    ) > 0.0001
    or portfolio_totals.written_off_loans <> loans.written_off_loans
    or abs(portfolio_totals.recovered_amount - loans.recovered_amount) > 0.0001
