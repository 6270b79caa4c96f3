{#- A ratio per rules §0.2 and §3.2: numeric division (never integer division), NULL when the
    denominator is 0 (e.g. PAR with GLP 0), kept at numeric(38, 10) until presentation. -#}
{% macro safe_ratio(numerator, denominator) -%}
    ({{ numerator }} / nullif({{ denominator }}, 0))::numeric(38, 10)
{%- endmacro %}
