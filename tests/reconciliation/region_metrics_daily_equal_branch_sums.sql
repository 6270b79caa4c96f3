{#- rules §3.5: region totals equal the sum of the region's branch rows, for every measure of the
    one measure list (additive_daily_measures, plus officers_with_active_loans) and every day; a
    region-day missing on either side fails too. Active borrowers are distinct customers, not a
    sum: at most the branches' sum, and equal to the distinct count recomputed from int_loan_days
    (loans of the officers of dim_officers, under their current region). -#}
{%- set measure_list = additive_daily_measures() -%}
{%- set measures = ['officers_with_active_loans'] + measure_list['count']
    + measure_list['amount'] %}

with branch_sums as (
    select
        metric_date,
        region,
        {%- for measure in measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        count(*) filter (where active_loans > 0) as branches_with_active_loans,
        sum(active_borrowers) as summed_active_borrowers
    from {{ ref('branch_metrics_daily') }}
    group by metric_date, region
),

distinct_borrowers as (
    select
        loan_days.metric_date,
        officers.region,
        count(distinct loan_days.customer_id) as active_borrowers
    from {{ ref('int_loan_days') }} as loan_days
    inner join {{ ref('dim_officers') }} as officers
        on loan_days.officer_id = officers.officer_id
    where loan_days.is_active
    group by loan_days.metric_date, officers.region
),

regions as (
    select * from {{ ref('region_metrics_daily') }}
)

select
    coalesce(branch_sums.metric_date, regions.metric_date) as metric_date,
    coalesce(branch_sums.region, regions.region) as region,
    branch_sums.metric_date is null as missing_branch_rows,
    regions.metric_date is null as missing_region_row
from branch_sums
full outer join regions
    on
        branch_sums.metric_date = regions.metric_date
        and branch_sums.region = regions.region
left join distinct_borrowers
    on
        regions.metric_date = distinct_borrowers.metric_date
        and regions.region = distinct_borrowers.region
where
    branch_sums.metric_date is null
    or regions.metric_date is null
    or branch_sums.branches_with_active_loans <> regions.branches_with_active_loans
    or regions.active_borrowers > branch_sums.summed_active_borrowers
    or regions.active_borrowers <> coalesce(distinct_borrowers.active_borrowers, 0)
    {%- for measure in measures %}
        or branch_sums.{{ measure }} <> regions.{{ measure }}
    {%- endfor %}
