{#- Reconciliation: for every key of the model, the sum of `column_name` over the model's rows
    equals `parent_column` of the parent row with the same key (to within `tolerance`).
    Fails per key whose sum differs, or whose parent row is missing. Use `config: where:` to
    narrow the child rows (e.g. derived installments only). -#}
{% test sum_equals_parent(
    model, column_name, key, parent, parent_key, parent_column, tolerance=0
) %}

with child as (
    select
        {{ key }} as reconciliation_key,
        sum({{ column_name }}) as child_total
    from {{ model }}
    group by {{ key }}
),

parent_rows as (
    select
        {{ parent_key }} as reconciliation_key,
        {{ parent_column }} as parent_total
    from {{ parent }}
)

select
    child.reconciliation_key,
    child.child_total,
    parent_rows.parent_total
from child
left join parent_rows
    on child.reconciliation_key = parent_rows.reconciliation_key
where parent_rows.reconciliation_key is null
    or abs(child.child_total - parent_rows.parent_total) > {{ tolerance }}

{% endtest %}
