{#- The semantic layer's day calendar (models/semantic/, docs/DESIGN.md "Semantic layer"):
    MetricFlow joins metric_time to it. One row per day from the first disbursement of any
    officer (the first metric_date of the daily marts) to the as-of date (rules §4.3); only the
    as-of date when nothing is disbursed yet. -#}
with officers as (
    select * from {{ ref('dim_officers') }}
),

bounds as (
    select coalesce(min(first_disbursement_date), {{ as_of_date() }}) as first_date
    from officers
),

final as (
    select days.date_day::date as date_day
    from bounds
    cross join
        lateral generate_series(
            bounds.first_date, {{ as_of_date() }}, interval '1 day'
        ) as days (date_day)
)

select * from final
