{#- rules §3.5: portfolio totals equal the sum of the branches' rows, for every measure and
    every day; a day missing on either side fails too. -#}
{%- set measures = ['officers_with_active_loans', 'active_loans', 'active_borrowers', 'gross_loan_portfolio',
    'total_outstanding_amount', 'arrears_amount', 'par1_amount', 'par15_amount', 'par30_amount', 'par1_loans',
    'par15_loans', 'par30_loans', 'disbursed_count', 'disbursed_amount', 'due_amount', 'collected_amount',
    'fimr_loans'] -%}
{%- for bucket in var('dpd_bucket_columns') -%}
    {%- do measures.extend([bucket.column_prefix ~ '_loans', bucket.column_prefix ~ '_amount']) -%}
{%- endfor %}

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
