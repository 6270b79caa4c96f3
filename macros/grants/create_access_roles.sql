{#- Least-privilege access (idempotent), run by an administrator (a superuser, or a CREATEROLE
    role that is a member of the three groups):
      seedsmetrics dbt run-operation create_access_roles [--target prod]
    Creates the NOLOGIN group roles (vars loader_role, transformer_role, analyst_role), the raw
    and analytics schemas of the target, and their grants:
      loader      - writes the raw schemas (and may create schemas: the loader creates its raw and
                    shadow-table schemas itself); nothing of the analytics schemas;
      transformer - reads raw; owns and writes the analytics schemas dbt builds;
      analyst     - reads the marts schemas only (no raw, staging, intermediate, seeds, snapshots,
                    stored test failures: the PII stops at staging).
    Existing tables are granted now; ALTER DEFAULT PRIVILEGES covers the tables the group roles
    (and the user running this, who builds on the dev/ci targets) create later, so a rebuilt
    table stays readable. Login users are members that act as their group:
      create role <user> login password '...' in role <group>;
      alter role <user> set role <group>;
    Re-run after adding a schema (a new +schema config); the on-run-end hook
    grant_analyst_access re-grants the marts after every dbt run. -#}
{% macro create_access_roles() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set loader = adapter.quote(var('loader_role')) -%}
    {%- set transformer = adapter.quote(var('transformer_role')) -%}
    {%- set analyst = adapter.quote(var('analyst_role')) -%}
    {%- set schemas = access_schemas() -%}
    {#- who creates tables: the group role itself, and on dev/ci the user running dbt and the
        loader -#}
    {%- set me = adapter.quote(target.user) -%}
    {%- set access_sql -%}
        do $roles$
        declare
            role_name text;
        begin
            foreach role_name in array array[
                {{ sql_text_literal(var('loader_role')) }},
                {{ sql_text_literal(var('transformer_role')) }},
                {{ sql_text_literal(var('analyst_role')) }}
            ] loop
                if not exists (select from pg_roles where rolname = role_name) then
                    execute format('create role %I nologin', role_name);
                end if;
                execute format('alter role %I nologin', role_name);
            end loop;
        end
        $roles$;

        grant connect on database {{ adapter.quote(target.database) }}
            to {{ loader }}, {{ transformer }}, {{ analyst }};
        {#- the loader creates its raw schema and its internal shadow-table schema itself
            (`create schema if not exists` needs this even when the schema exists) -#}
        grant create on database {{ adapter.quote(target.database) }} to {{ loader }};
        grant temporary on database {{ adapter.quote(target.database) }} to {{ transformer }};

        {% for schema in schemas.raw -%}
            {%- set s = adapter.quote(schema) %}
            create schema if not exists {{ s }} authorization {{ loader }};
            grant usage, create on schema {{ s }} to {{ loader }};
            grant usage on schema {{ s }} to {{ transformer }};
            revoke all on schema {{ s }} from {{ analyst }};
            grant select, insert, update, delete, truncate on all tables in schema {{ s }}
                to {{ loader }};
            grant usage, select, update on all sequences in schema {{ s }} to {{ loader }};
            grant select on all tables in schema {{ s }} to {{ transformer }};
            revoke all on all tables in schema {{ s }} from {{ analyst }};
            alter default privileges for role {{ loader }} in schema {{ s }}
                grant select on tables to {{ transformer }};
            alter default privileges for role {{ me }} in schema {{ s }}
                grant select on tables to {{ transformer }};
            alter default privileges for role {{ me }} in schema {{ s }}
                grant select, insert, update, delete, truncate on tables to {{ loader }};
        {% endfor %}

        {% for schema in schemas.analytics -%}
            {%- set s = adapter.quote(schema) %}
            create schema if not exists {{ s }} authorization {{ transformer }};
            grant usage, create on schema {{ s }} to {{ transformer }};
            revoke all on schema {{ s }} from {{ loader }};
            revoke all on all tables in schema {{ s }} from {{ loader }};
            {%- if schema not in schemas.marts %}
            revoke all on schema {{ s }} from {{ analyst }};
            revoke all on all tables in schema {{ s }} from {{ analyst }};
            {%- endif %}
        {% endfor %}

        {% for schema in schemas.marts -%}
            {%- set s = adapter.quote(schema) %}
            grant usage on schema {{ s }} to {{ analyst }};
            grant select on all tables in schema {{ s }} to {{ analyst }};
            alter default privileges for role {{ transformer }} in schema {{ s }}
                grant select on tables to {{ analyst }};
            alter default privileges for role {{ me }} in schema {{ s }}
                grant select on tables to {{ analyst }};
        {% endfor %}
    {%- endset -%}
    {%- do run_query(access_sql) -%}
    {%- do log('access roles ' ~ [loader, transformer, analyst] | join(', ') ~ ' on database '
        ~ target.database ~ ': raw ' ~ schemas.raw | join(', ') ~ '; analytics '
        ~ schemas.analytics | join(', ') ~ '; analysts read ' ~ schemas.marts | join(', '),
        info=true) -%}
{%- endmacro %}
