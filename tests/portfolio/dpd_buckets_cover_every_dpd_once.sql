{#- rules §2.9: the DPD buckets of the seed whose loan_state is 'active' are inclusive ranges that
    cover every DPD from 0 up exactly once (the first starts at 0, each next one starts right
    after the previous ends, only the last is open-ended), and there is exactly one rangeless
    bucket for each state that is not active: 'closed' (rules §2.4) and 'written_off' (rules
    §2.5). Returns the offending buckets, or the state missing or repeated. -#}
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
    where loan_state = 'active'
),

state_buckets as (
    select
        states.loan_state,
        count(seeded.bucket_name) as state_buckets,
        count(seeded.bucket_name) filter (
            where seeded.min_dpd is not null or seeded.max_dpd is not null
        ) as ranged_buckets
    from (values ('closed'), ('written_off')) as states (loan_state)
    left join {{ ref('dpd_buckets') }} as seeded
        on states.loan_state = seeded.loan_state
    group by states.loan_state
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
    state_buckets.loan_state as bucket_name,
    null as min_dpd,
    null as max_dpd
from state_buckets
where state_buckets.state_buckets <> 1 or state_buckets.ranged_buckets > 0
