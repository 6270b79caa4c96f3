{#- The bucket columns of the daily metrics (var dpd_bucket_columns) are the seed dpd_buckets'
    buckets of active loans, in the seed's order: a bucket added to, renamed in or removed from
    the seed fails here until the var (and so the columns) follow. -#}
with configured as (
    select *
    from (
        values
        {%- for bucket in var('dpd_bucket_columns') %}
            ('{{ bucket.bucket }}', {{ loop.index }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as configured_buckets (bucket_name, position)
),

seeded as (
    select
        bucket_name,
        row_number() over (order by sort_order) as position
    from {{ ref('dpd_buckets') }}
    where loan_state = 'active'
)

select
    coalesce(configured.bucket_name, seeded.bucket_name) as bucket_name,
    configured.position as configured_position,
    seeded.position as seed_position
from configured
full outer join seeded
    on configured.bucket_name = seeded.bucket_name
where configured.position is distinct from seeded.position
