{#- The snapshot's "now" as timestamptz. dbt-postgres returns `now()::timestamp without time zone`,
    which (1) makes dbt warn on every snapshot run that it does not match the timestamptz
    `updated_at` of stg_django__loans, and (2) stamps deletion records in the session's time zone.
    Dispatch picks the root project's postgres__ macro over the adapter's. -#}
{% macro postgres__snapshot_get_time() -%}
    {{ current_timestamp() }}
{%- endmacro %}
