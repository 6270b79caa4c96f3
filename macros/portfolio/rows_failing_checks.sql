{#- The query of a generic test made of named row checks: every row of `relation` for which one of
    the `checks` ([label, SQL boolean expression], ...) is not true (NULL fails), with a first
    column `failing_checks` listing the labels of the checks the row fails. -#}
{% macro rows_failing_checks(relation, checks) -%}
select
    concat_ws(
        ', '
        {%- for label, expression in checks %},
        case when not coalesce({{ expression }}, false) then '{{ label }}' end
        {%- endfor %}
    ) as failing_checks,
    checked_rows.*
from {{ relation }} as checked_rows
where
    false
    {%- for label, expression in checks %}
        or not coalesce({{ expression }}, false)
    {%- endfor %}
{%- endmacro %}
