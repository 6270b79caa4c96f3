{#- rules §3.5: branch totals equal the sum of their officers' rows, for every measure of the
    one measure list (additive_daily_measures) and every day; a branch-day missing on either side
    fails too. -#}
{%- set measure_list = additive_daily_measures() -%}
{%- set measures = measure_list['count'] + measure_list['amount'] %}

with officer_sums as (
    select
        metric_date,
        branch,
        region,
        {%- for measure in measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        count(*) filter (where active_loans > 0) as officers_with_active_loans
    from {{ ref('officer_metrics_daily') }}
    group by metric_date, branch, region
),

branches as (
    select * from {{ ref('branch_metrics_daily') }}
)

select
    coalesce(officer_sums.metric_date, branches.metric_date) as metric_date,
    coalesce(officer_sums.branch, branches.branch) as branch,
    officer_sums.metric_date is null as missing_officer_rows,
    branches.metric_date is null as missing_branch_row
from officer_sums
full outer join branches
    on
        officer_sums.metric_date = branches.metric_date
        and officer_sums.branch = branches.branch
where
    officer_sums.metric_date is null
    or branches.metric_date is null
    or officer_sums.region is distinct from branches.region
    or officer_sums.officers_with_active_loans <> branches.officers_with_active_loans
    {%- for measure in measures %}
        or officer_sums.{{ measure }} <> branches.{{ measure }}
    {%- endfor %}
