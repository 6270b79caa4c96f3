{#- Aggregate: the fingerprint of one loan's installment schedule (due dates and amounts in
    installment order), used with int_loans_cleaned.loan_terms_hash to notice a changed schedule
    (source rows, or a derived schedule moved by a new company holiday). Use in a query over
    int_loan_installments grouped by loan_id. -#}
{% macro loan_schedule_hash(relation_alias) -%}
    md5(
        string_agg(
            {{ relation_alias }}.installment_number::text
            || ':' || {{ relation_alias }}.due_date::text
            || ':' || {{ relation_alias }}.due_amount::text,
            ',' order by {{ relation_alias }}.installment_number
        )
    )
{%- endmacro %}
