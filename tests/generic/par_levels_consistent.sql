{#- rules §3.2, §3.3: the PAR columns of every row agree with each other, for each level of var
    par_levels (or only the levels named in `levels`):
    - <level>_ratio is NULL exactly when gross_loan_portfolio is 0, and otherwise in [0, 1];
    - the levels are nested by threshold (dpd_above): gross_loan_portfolio >= the amount of the
      lowest level >= the amount of the next one ..., and active_loans >= their loans likewise.
    Fails once per offending row; failing_checks names the checks the row fails. -#}
{% test par_levels_consistent(model, levels=none) %}
{%- set checks = [] -%}
{%- set previous = {'amount': 'gross_loan_portfolio', 'loans': 'active_loans'} -%}
{%- for level in par_level_columns(levels) -%}
    {%- do checks.append([
        level.ratio ~ '_null_exactly_when_no_portfolio',
        '(' ~ level.ratio ~ ' is null) = (gross_loan_portfolio = 0)',
    ]) -%}
    {%- do checks.append([
        level.ratio ~ '_between_0_and_1',
        level.ratio ~ ' is null or ' ~ level.ratio ~ ' between 0 and 1',
    ]) -%}
    {%- do checks.append([
        level.amount ~ '_within_' ~ previous.amount,
        level.amount ~ ' <= ' ~ previous.amount,
    ]) -%}
    {%- do checks.append([
        level.loans ~ '_within_' ~ previous.loans,
        level.loans ~ ' <= ' ~ previous.loans,
    ]) -%}
    {%- do previous.update({'amount': level.amount, 'loans': level.loans}) -%}
{%- endfor %}

{{ rows_failing_checks(model, checks) }}

{% endtest %}
