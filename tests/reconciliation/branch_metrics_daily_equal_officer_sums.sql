{#- rules §3.5: branch totals equal the sum of their officers' rows, for every measure of the
    one measure list (additive_daily_measures) and every day; a branch-day missing on either side
    fails too. Active borrowers are distinct customers, not a sum: at most the officers' sum, and
    equal to the distinct count recomputed from int_loan_days (loans under their officer's current
    branch, dim_officers). -#}
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
        count(*) filter (where active_loans > 0) as officers_with_active_loans,
        sum(active_borrowers) as summed_active_borrowers
    from {{ ref('officer_metrics_daily') }}
    group by metric_date, branch, region
),

distinct_borrowers as (
    select
        loan_days.metric_date,
        officers.branch,
        count(distinct loan_days.customer_id) as active_borrowers
    from {{ ref('int_loan_days') }} as loan_days
    inner join {{ ref('dim_officers') }} as officers
        on loan_days.officer_id = officers.officer_id
    where loan_days.is_active
    group by loan_days.metric_date, officers.branch
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
left join distinct_borrowers
    on
        branches.metric_date = distinct_borrowers.metric_date
        and branches.branch = distinct_borrowers.branch
where
    officer_sums.metric_date is null
    or branches.metric_date is null
    or officer_sums.region is distinct from branches.region
    or officer_sums.officers_with_active_loans <> branches.officers_with_active_loans
    or branches.active_borrowers > officer_sums.summed_active_borrowers
    or branches.active_borrowers <> coalesce(distinct_borrowers.active_borrowers, 0)
    {%- for measure in measures %}
        or officer_sums.{{ measure }} <> branches.{{ measure }}
    {%- endfor %}
