{#- rules §3.8: a PAR15 snapshot is the officer's daily metrics row of that day: same branch,
    region, GLP, PAR15 amount and ratio, counts; one snapshot for every officer-day (or only the
    mid-month days when var par15_snapshots_mid_month_only), flagged is_mid_month exactly on
    day-of-month var par15_snapshot_mid_month_day. -#}
with officer_metrics as (
    select * from {{ ref('officer_metrics_daily') }}
    {%- if var('par15_snapshots_mid_month_only') %}
        where extract(day from metric_date) = {{ var('par15_snapshot_mid_month_day') }}
    {%- endif %}
),

snapshots as (
    select * from {{ ref('par15_snapshots') }}
)

select
    coalesce(officer_metrics.officer_id, snapshots.officer_id) as officer_id,
    coalesce(officer_metrics.metric_date, snapshots.snapshot_date) as snapshot_date
from officer_metrics
full outer join snapshots
    on
        officer_metrics.officer_id = snapshots.officer_id
        and officer_metrics.metric_date = snapshots.snapshot_date
where
    officer_metrics.officer_id is null
    or snapshots.officer_id is null
    or officer_metrics.branch <> snapshots.branch
    or officer_metrics.region <> snapshots.region
    or officer_metrics.gross_loan_portfolio <> snapshots.gross_loan_portfolio
    or officer_metrics.par15_amount <> snapshots.par15_amount
    or officer_metrics.par15_ratio is distinct from snapshots.par15_ratio
    or officer_metrics.active_loans <> snapshots.active_loans
    or officer_metrics.par15_loans <> snapshots.par15_loans
    or snapshots.is_mid_month
    <> (extract(day from snapshots.snapshot_date) = {{ var('par15_snapshot_mid_month_day') }})
