{#- The class columns of the daily metrics (var loan_class_columns) are exactly the seed
    loan_classes' classes, in the seed's order: a class added to, renamed in or removed from the
    seed fails here until the var (and so the columns) follow (rules §5.1). -#}
with configured as (
    select *
    from (
        values
        {%- for class in var('loan_class_columns') %}
            ('{{ class.class }}', {{ loop.index }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as configured_classes (class_name, position)
),

seeded as (
    select
        class_name,
        row_number() over (order by sort_order) as position
    from {{ ref('loan_classes') }}
)

select
    coalesce(configured.class_name, seeded.class_name) as class_name,
    configured.position as configured_position,
    seeded.position as seed_position
from configured
full outer join seeded
    on configured.class_name = seeded.class_name
where configured.position is distinct from seeded.position
