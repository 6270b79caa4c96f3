{#- rules §0.2, §3.4: every daily measure is present (NULL fails) and non-negative. The measures
    checked are the one measure list, additive_daily_measures() (counts and amounts, PAR and DPD
    bucket columns from vars par_levels and dpd_bucket_columns), plus the model's own
    `extra_measures`; `measures` replaces the list for a mart that carries only some of them.
    Fails once per offending row; failing_checks names the measures that are NULL or negative. -#}
{% test daily_measures_non_negative(model, measures=none, extra_measures=[]) %}
{%- if measures is none -%}
    {%- set measure_list = additive_daily_measures() -%}
    {%- set measures = measure_list['count'] + measure_list['amount'] -%}
{%- endif -%}
{%- set checks = [] -%}
{%- for measure in extra_measures + measures -%}
    {%- do checks.append([measure, measure ~ ' >= 0']) -%}
{%- endfor %}

{{ rows_failing_checks(model, checks) }}

{% endtest %}
