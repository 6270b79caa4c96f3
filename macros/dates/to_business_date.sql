{#- rules §0.3: "day" is the calendar date in the business time zone. A timestamptz t belongs
    to day (t at time zone var('business_timezone'))::date. Staging uses it for every *_date
    column. -#}
{% macro to_business_date(column) -%}
    ({{ column }} at time zone '{{ var("business_timezone") }}')::date
{%- endmacro %}
