{#- rules §3.5: portfolio totals equal the sum of the branches' rows, for every measure of the
    one measure list (additive_daily_measures, plus officers_with_active_loans) and every day; a
    day missing on either side fails too. Active borrowers are distinct customers, not a sum: at
    most the branches' sum, and equal to the distinct count recomputed from int_loan_days (loans
    of the officers of dim_officers). -#}
{%- set measure_list = additive_daily_measures() -%}
{%- set measures = ['officers_with_active_loans'] + measure_list['count']
    + measure_list['amount'] %}

with branch_sums as (
    select
        metric_date,
        {%- for measure in measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        count(*) filter (where active_loans > 0) as branches_with_active_loans,
        sum(active_borrowers) as summed_active_borrowers
    from {{ ref('branch_metrics_daily') }}
    group by metric_date
),

distinct_borrowers as (
    select
        loan_days.metric_date,
        count(distinct loan_days.customer_id) as active_borrowers
    from {{ ref('int_loan_days') }} as loan_days
    inner join {{ ref('dim_officers') }} as officers
        on loan_days.officer_id = officers.officer_id
    where loan_days.is_active
    group by loan_days.metric_date
),

portfolio as (
    select * from {{ ref('portfolio_metrics_daily') }}
)

select
    coalesce(branch_sums.metric_date, portfolio.metric_date) as metric_date,
    branch_sums.metric_date is null as missing_branch_rows,
    portfolio.metric_date is null as missing_portfolio_row
from branch_sums
full outer join portfolio
    on branch_sums.metric_date = portfolio.metric_date
left join distinct_borrowers
    on portfolio.metric_date = distinct_borrowers.metric_date
where
    branch_sums.metric_date is null
    or portfolio.metric_date is null
    or branch_sums.branches_with_active_loans <> portfolio.branches_with_active_loans
    or portfolio.active_borrowers > branch_sums.summed_active_borrowers
    or portfolio.active_borrowers <> coalesce(distinct_borrowers.active_borrowers, 0)
    {%- for measure in measures %}
        or branch_sums.{{ measure }} <> portfolio.{{ measure }}
    {%- endfor %}
