{#- rules §3.4, recomputed independently from int_loan_days: on every officer-day, the active
    loans and borrowers, GLP, outstanding, arrears, the amount and loans of each PAR level (var
    par_levels) and the FIMR count of the mart equal those of the officer's active loan-days
    (closed loan-days count nowhere). Amounts are stored with 10 decimals: tolerance 1e-6 NGN. An
    officer-day with loan-days but no mart row fails. -#}
{%- set par_levels = par_level_columns() %}
with loan_days as (
    select
        officer_id,
        metric_date,
        count(*) filter (where is_active) as active_loans,
        count(distinct customer_id) filter (where is_active) as active_borrowers,
        coalesce(sum(principal_outstanding_amount) filter (where is_active), 0)
            as gross_loan_portfolio,
        coalesce(sum(outstanding_balance_amount) filter (where is_active), 0)
            as total_outstanding_amount,
        coalesce(sum(arrears_amount) filter (where is_active), 0) as arrears_amount,
        {%- for level in par_levels %}
            coalesce(
                sum(principal_outstanding_amount) filter (
                    where is_active and dpd_days > {{ level.dpd_above }}
                ),
                0
            ) as {{ level.amount }},
            count(*) filter (where is_active and dpd_days > {{ level.dpd_above }})
                as {{ level.loans }},
        {%- endfor %}
        count(*) filter (where is_active and is_fimr) as fimr_loans
    from {{ ref('int_loan_days') }}
    group by officer_id, metric_date
),

officer_metrics as (
    select * from {{ ref('officer_metrics_daily') }}
)

select
    loan_days.officer_id,
    loan_days.metric_date,
    officer_metrics.officer_id is null as missing_mart_row
from loan_days
left join officer_metrics
    on
        loan_days.officer_id = officer_metrics.officer_id
        and loan_days.metric_date = officer_metrics.metric_date
where
    officer_metrics.officer_id is null
    or loan_days.active_loans <> officer_metrics.active_loans
    or loan_days.active_borrowers <> officer_metrics.active_borrowers
    or loan_days.fimr_loans <> officer_metrics.fimr_loans
    {%- for level in par_levels %}
        or loan_days.{{ level.loans }} <> officer_metrics.{{ level.loans }}
    {%- endfor %}
    {%- for measure in ['gross_loan_portfolio', 'total_outstanding_amount', 'arrears_amount']
        + par_levels | map(attribute='amount') | list %}
        or abs(loan_days.{{ measure }} - officer_metrics.{{ measure }}) > 0.000001
    {%- endfor %}

union all

-- an officer-day with active loans in the mart but none in int_loan_days
select
    officer_metrics.officer_id,
    officer_metrics.metric_date,
    false as missing_mart_row
from officer_metrics
left join loan_days
    on
        officer_metrics.officer_id = loan_days.officer_id
        and officer_metrics.metric_date = loan_days.metric_date
where
    loan_days.officer_id is null
    and officer_metrics.active_loans > 0
