{#- rules §3.3: at every level (officer, branch, portfolio, PAR15 snapshots) each PAR ratio is
    that row's own PAR amount over its own GLP (sum over sum, never an average of ratios), and NULL
    exactly when GLP = 0. Stored amounts have 10 decimals: tolerance 1e-8 on the ratio. -#}
with levels as (
    {%- for model, key, date_col in [
        ('officer_metrics_daily', 'officer_id::text', 'metric_date'),
        ('branch_metrics_daily', 'branch', 'metric_date'),
        ('portfolio_metrics_daily', "'portfolio'", 'metric_date'),
    ] %}
        {%- for level in ['par1', 'par15', 'par30'] %}
            select
                '{{ model }}' as model_name,
                '{{ level }}' as par_level,
                {{ date_col }} as metric_date,
                {{ key }} as grain_key,
                gross_loan_portfolio,
                {{ level }}_amount as par_amount,
                {{ level }}_ratio as par_ratio
            from {{ ref(model) }}
            union all
        {%- endfor %}
    {%- endfor %}
    select
        'par15_snapshots' as model_name,
        'par15' as par_level,
        snapshot_date as metric_date,
        officer_id::text as grain_key,
        gross_loan_portfolio,
        par15_amount as par_amount,
        par15_ratio as par_ratio
    from {{ ref('par15_snapshots') }}
)

select *
from levels
where
    (gross_loan_portfolio = 0) <> (par_ratio is null)
    or abs(par_ratio - par_amount / nullif(gross_loan_portfolio, 0)) > 0.00000001
