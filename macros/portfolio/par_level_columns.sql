{#- rules §3.2: the PAR levels of var par_levels, by increasing threshold, each with the names of
    its three columns: {'name', 'dpd_above', 'amount', 'loans', 'ratio'}. `names` keeps only
    the levels named (a mart that carries some of them, e.g. par15_snapshots); an unknown name
    fails. -#}
{% macro par_level_columns(names=none) -%}
    {%- set known = var('par_levels') | map(attribute='name') | list -%}
    {%- for name in names or [] if name not in known -%}
        {%- do exceptions.raise_compiler_error(
            "par_level_columns: '" ~ name ~ "' is not a level of var par_levels "
            ~ known | join(', ')
        ) -%}
    {%- endfor -%}
    {%- set levels = [] -%}
    {%- for level in var('par_levels') | sort(attribute='dpd_above')
        if names is none or level.name in names -%}
        {%- do levels.append({
            'name': level.name,
            'dpd_above': level.dpd_above,
            'amount': level.name ~ '_amount',
            'loans': level.name ~ '_loans',
            'ratio': level.name ~ '_ratio',
        }) -%}
    {%- endfor -%}
    {%- do return(levels) -%}
{%- endmacro %}
