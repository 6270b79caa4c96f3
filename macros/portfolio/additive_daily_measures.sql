{#- The one list of the daily measures: the officer-level measures that add up across officers,
    branches and the portfolio (every measure of officer_metrics_daily but the ratios and
    active_borrowers, distinct customers at every level, rules §3.5), split into counts and NGN
    amounts. The PAR, DPD-bucket and loan-class measures come from vars par_levels,
    dpd_bucket_columns and loan_class_columns. Branch and portfolio marts sum exactly these and
    recompute the ratios from the sums; the reconciliation tests and the generic test
    daily_measures_non_negative read them. -#}
{% macro additive_daily_measures() -%}
    {%- set count_measures = ['active_loans'] -%}
    {%- set amount_measures = [
        'gross_loan_portfolio', 'total_outstanding_amount', 'arrears_amount'
    ] -%}
    {%- for level in par_level_columns() -%}
        {%- do count_measures.append(level.loans) -%}
        {%- do amount_measures.append(level.amount) -%}
    {%- endfor -%}
    {%- for bucket in var('dpd_bucket_columns') -%}
        {%- do count_measures.append(bucket.column_prefix ~ '_loans') -%}
        {%- do amount_measures.append(bucket.column_prefix ~ '_amount') -%}
    {%- endfor -%}
    {%- do count_measures.extend(['disbursed_count', 'fimr_loans', 'written_off_loans']) -%}
    {%- do amount_measures.extend([
        'disbursed_amount', 'due_amount', 'collected_amount',
        'written_off_amount', 'recovered_amount', 'written_off_outstanding_amount',
    ]) -%}
    {%- for class in var('loan_class_columns') -%}
        {%- do amount_measures.append(class.column_prefix ~ '_amount') -%}
    {%- endfor -%}
    {%- do amount_measures.append('required_provision_amount') -%}
    {%- do return({'count': count_measures, 'amount': amount_measures}) -%}
{%- endmacro %}
