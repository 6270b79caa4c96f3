{#- The day a run reports on (rules §4.3): var as_of_date (YYYY-MM-DD) or, when unset, today
    in the business time zone. Returns a SQL date literal, so every model of a run agrees. -#}
{% macro as_of_date() -%}
    {%- set configured = var('as_of_date', none) -%}
    {%- if configured -%}
        {%- set day = modules.datetime.date.fromisoformat(configured | string) -%}
    {%- else -%}
        {%- set zone = modules.pytz.timezone(var('business_timezone')) -%}
        {%- set day = modules.datetime.datetime.now(zone).date() -%}
    {%- endif -%}
    date '{{ day.isoformat() }}'
{%- endmacro %}
