{#- Primary-key test over several columns: fails once per combination of values that occurs
    more than once, or that has a NULL in any of the columns. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having
    count(*) > 1
    {%- for column in combination_of_columns %}
        or {{ column }} is null
    {%- endfor %}

{% endtest %}
