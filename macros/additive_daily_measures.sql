{#- The officer-level daily measures that add up across officers, branches and the portfolio
    (every measure of officer_metrics_daily but the ratios), split into counts and NGN amounts.
    Branch and portfolio marts sum exactly these; ratios are recomputed from the sums. -#}
{% macro additive_daily_measures() -%}
    {%- set count_measures = ['active_loans', 'active_borrowers'] -%}
    {%- set amount_measures = ['gross_loan_portfolio', 'total_outstanding_amount', 'arrears_amount'] -%}
    {%- for level in ['par1', 'par15', 'par30'] -%}
        {%- do count_measures.append(level ~ '_loans') -%}
        {%- do amount_measures.append(level ~ '_amount') -%}
    {%- endfor -%}
    {%- for bucket in var('dpd_bucket_columns') -%}
        {%- do count_measures.append(bucket.column_prefix ~ '_loans') -%}
        {%- do amount_measures.append(bucket.column_prefix ~ '_amount') -%}
    {%- endfor -%}
    {%- do count_measures.extend(['disbursed_count', 'fimr_loans']) -%}
    {%- do amount_measures.extend(['disbursed_amount', 'due_amount', 'collected_amount']) -%}
    {%- do return({'count': count_measures, 'amount': amount_measures}) -%}
{%- endmacro %}
