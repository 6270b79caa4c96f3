{#- The schemas access control works on, read from the project's graph for the current target
    (so they follow generate_schema_name and the +schema configs, never a hard-coded list):
      raw       - the source schemas (var raw_schema): the loader writes them, the transformer
                  reads them;
      analytics - every schema dbt builds into (models, seeds, snapshots, stored test failures);
      marts     - the schemas of the models under models/marts/: the only ones analysts read.
    Each list is sorted and free of duplicates. -#}
{% macro access_schemas() -%}
    {%- set raw = [] -%}
    {%- set analytics = [] -%}
    {%- set marts = [] -%}
    {%- for source in graph.sources.values() if source.package_name == project_name -%}
        {%- if source.schema not in raw -%}
            {%- do raw.append(source.schema) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set kinds = ['model', 'seed', 'snapshot', 'test'] -%}
    {%- for node in graph.nodes.values()
        if node.package_name == project_name and node.resource_type in kinds -%}
        {%- if node.schema not in analytics and node.schema not in raw -%}
            {%- do analytics.append(node.schema) -%}
        {%- endif -%}
        {%- set is_mart = node.resource_type == 'model' and node.fqn[1] == 'marts' -%}
        {%- if is_mart and node.schema not in marts -%}
            {%- do marts.append(node.schema) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'raw': raw | sort, 'analytics': analytics | sort, 'marts': marts | sort}) }}
{%- endmacro %}
