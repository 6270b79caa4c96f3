{#- The count columns of a rolled-up daily mart (branch, region, portfolio) in contract order:
    the summed count measures given, with active_borrowers (a distinct count, never summed) right
    after active_loans. -#}
{% macro daily_count_columns(count_measures) -%}
    {%- set columns = [] -%}
    {%- for measure in count_measures -%}
        {%- do columns.append(measure) -%}
        {%- if measure == 'active_loans' -%}
            {%- do columns.append('active_borrowers') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(columns) -%}
{%- endmacro %}

{#- rules §3.5: the body of a CTE counting the distinct customers with an active loan per day and
    grain (loans attributed to their officer's current branch and region), from the day
    `window_start` (a SQL date expression) on. -#}
{% macro distinct_active_borrowers(loan_days, officers, grain_columns, window_start) -%}
    select
        loan_days.metric_date,
        {%- for column in grain_columns %}
        officers.{{ column }},
        {%- endfor %}
        count(distinct loan_days.customer_id) as active_borrowers
    from {{ loan_days }} as loan_days
    inner join {{ officers }} as officers
        on loan_days.officer_id = officers.officer_id
    where
        loan_days.is_active
        and loan_days.metric_date >= {{ window_start }}
    group by loan_days.metric_date
        {%- for column in grain_columns %}, officers.{{ column }}{% endfor %}
{%- endmacro %}
