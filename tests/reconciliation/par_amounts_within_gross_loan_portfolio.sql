{#- rules §3.2: a PAR amount is part of the gross loan portfolio (active loans only), at every
    level: officer, branch, portfolio and the PAR15 snapshots. -#}
with levels as (
    select
        'officer_metrics_daily' as model_name,
        metric_date,
        officer_id::text as grain_key,
        gross_loan_portfolio,
        par1_amount,
        par15_amount,
        par30_amount
    from {{ ref('officer_metrics_daily') }}

    union all

    select
        'branch_metrics_daily' as model_name,
        metric_date,
        branch as grain_key,
        gross_loan_portfolio,
        par1_amount,
        par15_amount,
        par30_amount
    from {{ ref('branch_metrics_daily') }}

    union all

    select
        'portfolio_metrics_daily' as model_name,
        metric_date,
        'portfolio' as grain_key,
        gross_loan_portfolio,
        par1_amount,
        par15_amount,
        par30_amount
    from {{ ref('portfolio_metrics_daily') }}

    union all

    select
        'par15_snapshots' as model_name,
        snapshot_date as metric_date,
        officer_id::text as grain_key,
        gross_loan_portfolio,
        0 as par1_amount,
        par15_amount,
        0 as par30_amount
    from {{ ref('par15_snapshots') }}
)

select *
from levels
where
    par1_amount > gross_loan_portfolio
    or par15_amount > gross_loan_portfolio
    or par30_amount > gross_loan_portfolio
