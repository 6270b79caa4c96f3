{#- rules §3.5: portfolio totals equal the sum of the branches' rows, for every measure of the
    one measure list (additive_daily_measures, plus officers_with_active_loans) and every day; a
    day missing on either side fails too. -#}
{%- set measure_list = additive_daily_measures() -%}
{%- set measures = ['officers_with_active_loans'] + measure_list['count']
    + measure_list['amount'] %}

with branch_sums as (
    select
        metric_date,
        {%- for measure in measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        count(*) filter (where active_loans > 0) as branches_with_active_loans
    from {{ ref('branch_metrics_daily') }}
    group by metric_date
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
where
    branch_sums.metric_date is null
    or portfolio.metric_date is null
    or branch_sums.branches_with_active_loans <> portfolio.branches_with_active_loans
    {%- for measure in measures %}
        or branch_sums.{{ measure }} <> portfolio.{{ measure }}
    {%- endfor %}
