{#- on-run-end hook: re-grants the marts to the analyst role after every dbt run/build, so the
    tables dbt re-created in this run are readable whoever built them (create_access_roles' default
    privileges cover tables between runs). A no-op when the role does not exist (a dev machine where
    create_access_roles never ran) or a marts schema has not been built yet. -#}
{% macro grant_analyst_access() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set marts = access_schemas().marts -%}
    do $grant_analyst_access$
    declare
        schema_name text;
    begin
        if exists (
            select from pg_roles where rolname = {{ sql_text_literal(var('analyst_role')) }}
        ) then
            foreach schema_name in array array[
                {%- for schema in marts -%}
                    {{ sql_text_literal(schema) }}{{ ', ' if not loop.last }}
                {%- endfor -%}
            ]::text[] loop
                if exists (select from pg_namespace where nspname = schema_name) then
                    execute format('grant usage on schema %I to %I', schema_name,
                        {{ sql_text_literal(var('analyst_role')) }});
                    execute format('grant select on all tables in schema %I to %I', schema_name,
                        {{ sql_text_literal(var('analyst_role')) }});
                end if;
            end loop;
        end if;
    end
    $grant_analyst_access$
{%- endmacro %}
