{#- rules §2.9: the DPD buckets of the seed are inclusive ranges that cover every DPD from 0 up
    exactly once (the first starts at 0, each next one starts right after the previous ends, only
    the last is open-ended), plus exactly one rangeless bucket for loans that are no longer
    active. Returns the offending buckets. -#}
with buckets as (
    select
        bucket_name,
        min_dpd,
        max_dpd,
        sort_order,
        lag(max_dpd) over (order by sort_order) as previous_max_dpd,
        row_number() over (order by sort_order) as position,
        count(*) over () as active_buckets
    from {{ ref('dpd_buckets') }}
    where min_dpd is not null
),

closed as (
    select count(*) as closed_buckets
    from {{ ref('dpd_buckets') }}
    where min_dpd is null and max_dpd is null
)

select
    buckets.bucket_name,
    buckets.min_dpd,
    buckets.max_dpd
from buckets
where
    (buckets.position = 1 and buckets.min_dpd <> 0)
    or (buckets.position > 1 and buckets.min_dpd is distinct from buckets.previous_max_dpd + 1)
    or (buckets.max_dpd is null and buckets.position < buckets.active_buckets)
    or (buckets.position = buckets.active_buckets and buckets.max_dpd is not null)
    or buckets.max_dpd < buckets.min_dpd

union all

select
    'closed' as bucket_name,
    null as min_dpd,
    null as max_dpd
from closed
where closed.closed_buckets <> 1
