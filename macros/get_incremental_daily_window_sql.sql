{#- Custom incremental strategy `daily_window` for the daily models: deletes every row of the
    target from daily_window_start(target) on (rows that must disappear, e.g. days after a loan's
    new, earlier closing day, go too), then inserts the temp relation, which the model computed
    for metric_date >= the same window start. Set-based: one delete, one insert. -#}
{% macro get_incremental_daily_window_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where metric_date >= {{ daily_window_start(target) }};

    insert into {{ target }} ({{ dest_cols_csv }})
    select {{ dest_cols_csv }}
    from {{ source }}
{%- endmacro %}
