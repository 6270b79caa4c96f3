{#- rules §5.1: the CBN classes of the seed loan_classes are inclusive DPD ranges that cover every
    DPD from 0 up exactly once: the first starts at 0, each next one starts right after the
    previous ends, only the last is open-ended. Returns the offending classes, or a row
    '(no class)' when the seed is empty. -#}
with classes as (
    select
        class_name,
        min_dpd,
        max_dpd,
        lag(max_dpd) over (order by sort_order) as previous_max_dpd,
        row_number() over (order by sort_order) as position,
        count(*) over () as class_count
    from {{ ref('loan_classes') }}
)

select
    classes.class_name,
    classes.min_dpd,
    classes.max_dpd
from classes
where
    (classes.position = 1 and classes.min_dpd is distinct from 0)
    or (classes.position > 1 and classes.min_dpd is distinct from classes.previous_max_dpd + 1)
    or (classes.max_dpd is null and classes.position < classes.class_count)
    or (classes.position = classes.class_count and classes.max_dpd is not null)
    or classes.max_dpd < classes.min_dpd

union all

select
    '(no class)' as class_name,
    null as min_dpd,
    null as max_dpd
where not exists (select 1 from {{ ref('loan_classes') }})
