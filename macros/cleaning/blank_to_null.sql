{#- Staging text cleaning: trims a text column and turns the empty string into NULL
    (Django stores '' rather than NULL). -#}
{% macro blank_to_null(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
