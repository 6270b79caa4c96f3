{#- PII masking for the marts: keeps the first 3 and last 4 digits of a phone number and
    replaces the rest with '****' (08012341234 -> 080****1234). Non-digits are dropped first;
    numbers with fewer than 8 digits are fully masked; NULL stays NULL. -#}
{% macro mask_phone(column) -%}
    case
        when regexp_replace({{ column }}, '[^0-9]', '', 'g') = '' then null
        when length(regexp_replace({{ column }}, '[^0-9]', '', 'g')) < 8 then '****'
        else left(regexp_replace({{ column }}, '[^0-9]', '', 'g'), 3)
            || '****'
            || right(regexp_replace({{ column }}, '[^0-9]', '', 'g'), 4)
    end
{%- endmacro %}
