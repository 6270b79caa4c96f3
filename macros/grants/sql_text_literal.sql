{#- A value as a PostgreSQL text literal, single quotes doubled ('it''s'): for role and schema
    names compared with catalog columns inside generated SQL. -#}
{% macro sql_text_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
