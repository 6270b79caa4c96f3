{#- Fails on every row of the model for which the SQL boolean expression is not true
    (NULL counts as a failure). Optional `config: where:` narrows the rows checked. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
