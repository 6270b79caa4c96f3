{#- The incremental window of the daily models (docs/incremental.md). A daily model's run:
    1. its pre_hook delete_daily_window() deletes every stored row from the first day a change
       reaches (daily_window_start) on;
    2. its body (daily_run_window) recomputes from the first day the table now lacks;
    3. the `append` strategy inserts those rows.
    The macros read only the relations they are given. -#}

{#- The first metric_date the stored rows of `this_relation` must lose (a SQL date expression):
    the earliest of the as-of date + 1, the first new day, and the first day reached by a change
    the model has not yet seen: a change-feed row (`changes`, int_daily_changes) detected after
    the model's stored feed position, or a row of its upstream daily model (`upstream`) rewritten
    after its stored computed_at. Officer rows of the feed count only with officer_changes. -#}
{% macro daily_window_start(
    this_relation, changes, upstream=none, officer_changes=false, date_column='metric_date'
) -%}
    (
        with stored as (
            select
                max({{ date_column }}) as last_metric_date,
                max(source_loaded_at) as last_feed_position,
                max(computed_at) as last_computed_at
            from {{ this_relation }}
        ),

        first_changed as (
            select changes.first_changed_date
            from {{ changes }} as changes
            inner join stored
                on changes.detected_at > stored.last_feed_position
            {%- if not officer_changes %}
            where changes.changed_entity <> 'officer'
            {%- endif %}
            {%- if upstream is not none %}

            union all

            select upstream_rows.metric_date as first_changed_date
            from {{ upstream }} as upstream_rows
            inner join stored
                on upstream_rows.computed_at > stored.last_computed_at
            {%- endif %}
        )

        select
            least(
                {{ as_of_date() }} + 1,
                coalesce(stored.last_metric_date + 1, date '1900-01-01'),
                (select min(first_changed.first_changed_date) from first_changed)
            ) - {{ var('incremental_lookback_days') }}
        from stored
    )
{%- endmacro %}

{#- The pre_hook of a daily model: on an incremental run, delete the stored rows from
    daily_window_start() on (rows that must disappear, e.g. days after a loan's new, earlier
    closing day, go too). Renders nothing on a full build. -#}
{% macro delete_daily_window(
    this_relation, changes, upstream=none, officer_changes=false, date_column='metric_date'
) -%}
    {%- if is_incremental() -%}
        delete from {{ this_relation }}
        where {{ date_column }} >= {{
            daily_window_start(this_relation, changes, upstream, officer_changes, date_column)
        }}
    {%- endif -%}
{%- endmacro %}

{#- The one-row `run_window` CTE of a daily model's body: window_start_date, the first day this
    run computes (after delete_daily_window: the day after the last stored day, capped at the
    as-of date + 1; all history on a full build), and source_loaded_at, the change-feed position
    the run has seen (stored on every row; the next run's window starts from it). -#}
{% macro daily_run_window(this_relation, changes, date_column='metric_date') -%}
    select
        {%- if is_incremental() %}
            least(
                {{ as_of_date() }} + 1,
                coalesce(
                    (select max(stored.{{ date_column }}) from {{ this_relation }} as stored) + 1,
                    date '1900-01-01'
                )
            ) as window_start_date,
        {%- else %}
            date '1900-01-01' as window_start_date,
        {%- endif %}
        (select max(changes.detected_at) from {{ changes }} as changes) as source_loaded_at
{%- endmacro %}
