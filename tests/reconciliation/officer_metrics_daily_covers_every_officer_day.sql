{#- rules §3.4: one row per officer per day from the officer's first disbursement to the run's
    as-of date, days without activity included: fails on an officer whose rows do not start on
    dim_officers.first_disbursement_date, do not end on the as-of date, or skip a day, and on an
    officer with rows but no disbursement. -#}
with officers as (
    select * from {{ ref('dim_officers') }}
    where first_disbursement_date <= {{ as_of_date() }}
),

officer_rows as (
    select
        officer_id,
        min(metric_date) as first_metric_date,
        max(metric_date) as last_metric_date,
        count(*) as metric_days
    from {{ ref('officer_metrics_daily') }}
    group by officer_id
)

select
    coalesce(officers.officer_id, officer_rows.officer_id) as officer_id,
    officers.first_disbursement_date,
    officer_rows.first_metric_date,
    officer_rows.last_metric_date,
    officer_rows.metric_days
from officers
full outer join officer_rows
    on officers.officer_id = officer_rows.officer_id
where
    officers.officer_id is null
    or officer_rows.officer_id is null
    or officer_rows.first_metric_date <> officers.first_disbursement_date
    or officer_rows.last_metric_date <> {{ as_of_date() }}
    or officer_rows.metric_days
    <> officer_rows.last_metric_date - officer_rows.first_metric_date + 1
