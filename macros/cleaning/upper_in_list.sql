{#- Case-insensitive membership test of a text column in a list var:
    upper(column) in ('A', 'B'), the list upper-cased and quoted once here.
    An empty list renders `false`. -#}
{% macro upper_in_list(column, values) -%}
    {%- if values | length == 0 -%}
        false
    {%- else -%}
        upper({{ column }}) in (
            {%- for value in values -%}
                '{{ value | upper | replace("'", "''") }}'{{ ", " if not loop.last }}
            {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}
