{#- One row holding the DPD bucket of every DPD value from 0 to `max_dpd_days`, as arrays indexed
    by DPD + 1 (an array subscript instead of a range join per loan-day), and the bucket of closed
    loans (the seed's rangeless row). Ranges are inclusive; an empty max_dpd is open-ended; a DPD
    value outside every range keeps its slot with a NULL bucket, which the model's tests catch. -#}
{% macro dpd_bucket_lookup(dpd_buckets, max_dpd_days) -%}
    select
        array_agg(buckets.bucket_name order by dpd_values.dpd_days) as bucket_names,
        array_agg(buckets.sort_order order by dpd_values.dpd_days) as bucket_orders,
        (select closed.bucket_name from {{ dpd_buckets }} as closed where closed.min_dpd is null)
            as closed_bucket_name,
        (select closed.sort_order from {{ dpd_buckets }} as closed where closed.min_dpd is null)
            as closed_bucket_order
    from generate_series(0, greatest({{ max_dpd_days }}, 0)) as dpd_values (dpd_days)
    left join {{ dpd_buckets }} as buckets
        on
            dpd_values.dpd_days >= buckets.min_dpd
            and dpd_values.dpd_days <= coalesce(buckets.max_dpd, dpd_values.dpd_days)
{%- endmacro %}
