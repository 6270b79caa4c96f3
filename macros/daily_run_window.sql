{#- The body of the one-row `run_window` CTE every daily mart starts from: the first day this run
    recomputes (daily_window_start on incremental runs, all history otherwise) and the raw
    watermark the run saw (stored in source_loaded_at for the next run's window). `settings` are
    the model's window settings, the same dict the model puts in its config meta `daily_window`. -#}
{% macro daily_run_window(settings={}) -%}
    select
        {%- if is_incremental() %}
            {{ daily_window_start(this, settings=settings) }} as window_start_date,
        {%- else %}
            date '1900-01-01' as window_start_date,
        {%- endif %}
        {{ daily_source_watermark() }} as source_loaded_at
{%- endmacro %}
