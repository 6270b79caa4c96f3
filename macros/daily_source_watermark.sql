{#- The raw watermark of a daily incremental model: the latest raw `_loaded_at` the run can see
    over every raw table the loan-day state depends on (loans, schedules, repayments, holidays).
    Store it in a `source_loaded_at` column of every row you write; daily_window_start() treats
    raw rows loaded after the stored maximum as "changed since the last run". -#}
{% macro daily_source_watermark() -%}
    (
        select max(watermarks.loaded_at)
        from (
            select max(loaded_at) as loaded_at from {{ ref('stg_django__loans') }}
            union all
            select max(loaded_at) as loaded_at from {{ ref('stg_django__loan_schedules') }}
            union all
            select max(loaded_at) as loaded_at from {{ ref('stg_django__repayments') }}
            union all
            select max(loaded_at) as loaded_at from {{ ref('stg_django__holidays') }}
        ) as watermarks
    )
{%- endmacro %}
