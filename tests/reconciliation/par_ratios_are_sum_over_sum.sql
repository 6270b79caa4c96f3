{#- rules §3.3: at every level (officer, branch, region, portfolio, PAR15 snapshots) each PAR
    ratio of var par_levels is that row's own PAR amount over its own GLP (sum over sum, never an
    average of ratios), and NULL exactly when GLP = 0. Stored amounts have 10 decimals: tolerance 1e-8 on the
    ratio. par15_snapshots carries PAR15 only (rules §3.8). -#}
with levels as (
    {%- for model, key, date_column, par_levels in [
        ('officer_metrics_daily', 'officer_id::text', 'metric_date', par_level_columns()),
        ('branch_metrics_daily', 'branch', 'metric_date', par_level_columns()),
        ('region_metrics_daily', 'region', 'metric_date', par_level_columns()),
        ('portfolio_metrics_daily', "'portfolio'", 'metric_date', par_level_columns()),
        ('par15_snapshots', 'officer_id::text', 'snapshot_date', par_level_columns(['par15'])),
    ] %}
        {%- for level in par_levels %}
            select
                '{{ model }}' as model_name,
                '{{ level.name }}' as par_level,
                {{ date_column }} as metric_date,
                {{ key }} as grain_key,
                gross_loan_portfolio,
                {{ level.amount }} as par_amount,
                {{ level.ratio }} as par_ratio
            from {{ ref(model) }}
            {{ 'union all' if not loop.last }}
        {%- endfor %}
        {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select *
from levels
where
    (gross_loan_portfolio = 0) <> (par_ratio is null)
    or abs(par_ratio - par_amount / nullif(gross_loan_portfolio, 0)) > 0.00000001
