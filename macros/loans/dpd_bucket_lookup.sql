{#- One row holding the DPD bucket of every DPD value from 0 to `max_dpd_days`, as arrays indexed
    by DPD + 1 (an array subscript instead of a range join per loan-day), and the buckets of the
    two states that are not active (rules §2.4, §2.5): the seed's row whose loan_state is
    'closed' and the one whose loan_state is 'written_off'. Ranges (rows of loan_state 'active')
    are inclusive; an empty max_dpd is open-ended; a DPD value outside every range keeps its slot
    with a NULL bucket, which the model's tests catch. -#}
{% macro dpd_bucket_lookup(dpd_buckets, max_dpd_days) -%}
    select
        array_agg(buckets.bucket_name order by dpd_values.dpd_days) as bucket_names,
        array_agg(buckets.sort_order order by dpd_values.dpd_days) as bucket_orders,
        {%- for state in ['closed', 'written_off'] %}
        (select state_bucket.bucket_name from {{ dpd_buckets }} as state_bucket
            where state_bucket.loan_state = '{{ state }}') as {{ state }}_bucket_name,
        (select state_bucket.sort_order from {{ dpd_buckets }} as state_bucket
            where state_bucket.loan_state = '{{ state }}') as {{ state }}_bucket_order
        {{- ',' if not loop.last }}
        {%- endfor %}
    from generate_series(0, greatest({{ max_dpd_days }}, 0)) as dpd_values (dpd_days)
    left join {{ dpd_buckets }} as buckets
        on
            buckets.loan_state = 'active'
            and dpd_values.dpd_days >= buckets.min_dpd
            and dpd_values.dpd_days <= coalesce(buckets.max_dpd, dpd_values.dpd_days)
{%- endmacro %}
