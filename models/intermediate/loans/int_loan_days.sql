{#- rules §2 (and FIMR, §3.9) on every day: one row per metric-eligible loan per day from
    disbursement_date to least(as_of_date, closed_date). Every loan-state formula is written once,
    here (see _int_loan_days.yml for each column's rule).

    Shape: state only changes on a loan's disbursement day, a day with a counted repayment, or the
    day after an installment's due date. So the model builds state spans between those change
    days (cumulative paid and overdue amounts by window sums; the oldest unpaid installment of each
    paid level by ranking the level among the installments' cumulative-due thresholds, one sort
    instead of a range join, which was 2x slower), then expands the spans to days with
    generate_series (DPD grows by one per day inside a span). A full day grid is stored rather than
    the spans (valid_from/valid_to): the daily marts need per-day values, the grid has only 1.7x
    the rows of the spans at scale 1, and it builds in ~12 s (figures in the model description).
    Only loans not paid off before the window start are computed on an incremental run.

    Write-off (rules §2.5, var write_off_after_dpd; null: never): inside a span DPD grows by one a
    day, so the first day of a span with DPD above the threshold is
    greatest(span start, oldest unpaid due date + threshold + 1); the loan's write-off day W is
    the earliest such day over its spans. W is computed from the loan's full history (all its
    spans, not only those reaching into the window), so an incremental run whose window starts
    after W still knows it. From W on the loan is not active, in bucket written_off, and keeps its
    DPD, outstanding and principal outstanding; counted money paid after W is a recovery, and the
    recovery that brings paid_to_date to total_due closes the loan (its last row, bucket closed).

    Incremental (docs/incremental.md): the pre_hook delete_daily_window() deletes the stored rows
    from the first day a change logged in int_daily_changes reaches; the body recomputes from the
    first day the table then lacks. Cumulative state always comes from full history, only the
    output is windowed. Loan-grain facts (first installment, FIMR) come from int_loan_facts.

    Planner: the inputs are freshly built tables (no statistics yet) and the CTEs' estimates are
    poor, so PostgreSQL may pick nested loops that go quadratic (48 s instead of 0.2 s on 400
    loans); the pre_hook turns them off for this model's transaction (`set local`), leaving only
    the unavoidable ones (lateral generate_series, one-row CTEs). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "set local enable_nestloop = off",
            "{{ delete_daily_window(this, changes=ref('int_daily_changes')) }}",
        ],
        indexes=[
            {'columns': ['loan_id', 'metric_date'], 'unique': true},
            {'columns': ['metric_date']},
        ],
    )
}}

{#- rules §2.5: null means never write off -#}
{%- set write_off_after_dpd = var('write_off_after_dpd') %}

with loan_facts as (
    select * from {{ ref('int_loan_facts') }}
),

repayments as (
    select * from {{ ref('int_repayments_classified') }}
),

installments as (
    select * from {{ ref('int_loan_installments') }}
),

dpd_buckets as (
    select * from {{ ref('dpd_buckets') }}
),

run_window as (
    {{ daily_run_window(this, changes=ref('int_daily_changes')) }}
),

eligible_loans as (
    select
        loan_id,
        officer_id,
        customer_id,
        principal_amount,
        total_due_amount,
        disbursement_date,
        first_due_date,
        is_first_installment_missed
    from loan_facts
    where disbursement_date <= {{ as_of_date() }}
),

-- the loans that can have a row on or after the window start: not paid off before it
paid_before_window as (
    select
        repayments.loan_id,
        sum(repayments.repayment_amount) as paid_amount
    from repayments
    cross join run_window
    where
        repayments.is_counted
        and repayments.paid_date < run_window.window_start_date
    group by repayments.loan_id
),

window_loans as (
    select eligible_loans.*
    from eligible_loans
    cross join run_window
    left join paid_before_window
        on eligible_loans.loan_id = paid_before_window.loan_id
    where
        eligible_loans.disbursement_date >= run_window.window_start_date
        or coalesce(paid_before_window.paid_amount, 0) < eligible_loans.total_due_amount
),

-- counted money per loan and paid day (rules §1.4: is_counted excludes reversals and the rest)
window_repayments as (
    select
        repayments.loan_id,
        repayments.paid_date,
        sum(repayments.repayment_amount) as paid_amount
    from repayments
    inner join window_loans
        on repayments.loan_id = window_loans.loan_id
    where repayments.is_counted
    group by repayments.loan_id, repayments.paid_date
),

window_installments as (
    select installments.*
    from installments
    inner join window_loans
        on installments.loan_id = window_loans.loan_id
),

-- the days a loan's state changes; money paid, or due, before disbursement counts from day one
loan_events as (
    select
        loan_id,
        disbursement_date as event_date,
        0::numeric as paid_amount,
        0::numeric as overdue_amount
    from window_loans

    union all

    select
        window_repayments.loan_id,
        greatest(window_repayments.paid_date, window_loans.disbursement_date) as event_date,
        window_repayments.paid_amount,
        0::numeric as overdue_amount
    from window_repayments
    inner join window_loans
        on window_repayments.loan_id = window_loans.loan_id

    union all

    -- an installment due on D is overdue from D + 1 on
    select
        window_installments.loan_id,
        greatest(window_installments.due_date + 1, window_loans.disbursement_date) as event_date,
        0::numeric as paid_amount,
        window_installments.due_amount as overdue_amount
    from window_installments
    inner join window_loans
        on window_installments.loan_id = window_loans.loan_id
),

state_changes as (
    select
        loan_id,
        event_date,
        sum(paid_amount) as event_paid_amount,
        sum(sum(paid_amount)) over loan_timeline as paid_to_date_amount,
        sum(sum(overdue_amount)) over loan_timeline as overdue_due_amount,
        lead(event_date) over loan_timeline as next_event_date
    from loan_events
    group by loan_id, event_date
    window
        loan_timeline as (
            partition by loan_id
            order by event_date rows between unbounded preceding and current row
        )
),

-- a span per change day while the loan was still active before it; the change day that brings
-- paid_to_date to total_due is the closing day, a one-day span and the loan's last; an
-- incremental run keeps only the spans reaching into its window
spans as (
    select
        state_changes.loan_id,
        state_changes.event_date as span_start_date,
        case
            when state_changes.paid_to_date_amount >= window_loans.total_due_amount
                then state_changes.event_date
            else
                least(
                    coalesce(state_changes.next_event_date - 1, {{ as_of_date() }}),
                    {{ as_of_date() }}
                )
        end as span_end_date,
        state_changes.event_paid_amount,
        state_changes.paid_to_date_amount,
        state_changes.overdue_due_amount
    from state_changes
    inner join window_loans
        on state_changes.loan_id = window_loans.loan_id
    where
        state_changes.paid_to_date_amount - state_changes.event_paid_amount
        < window_loans.total_due_amount
        and state_changes.event_date <= {{ as_of_date() }}
),

-- oldest-first allocation on cumulative totals: the first unpaid installment at paid level p is
-- the first i with cumulative_due_i > p, i.e. number (count of installments whose running maximum
-- of cumulative due is <= p) + 1. Counted by sorting the spans' paid levels among the installments'
-- thresholds (a threshold equal to p sorts first: that installment is paid). Every span of the
-- window's loans is ranked (full history): the write-off day needs the DPD before the window.
installment_thresholds as (
    select
        loan_id,
        installment_number,
        due_date,
        max(cumulative_due_amount) over (
            partition by loan_id
            order by installment_number rows between unbounded preceding and current row
        ) as paid_through_amount
    from window_installments
),

paid_levels as (
    select
        loan_id,
        paid_through_amount as level_amount,
        0 as is_span,
        null::date as span_start_date
    from installment_thresholds

    union all

    select
        loan_id,
        paid_to_date_amount as level_amount,
        1 as is_span,
        span_start_date
    from spans
),

span_first_unpaid as (
    select
        loan_id,
        span_start_date,
        is_span,
        1 + count(*) filter (where is_span = 0) over (
            partition by loan_id
            order by level_amount, is_span rows between unbounded preceding and current row
        ) as first_unpaid_number
    from paid_levels
),

span_states as (
    select
        spans.loan_id,
        spans.span_start_date,
        spans.span_end_date,
        spans.event_paid_amount,
        spans.paid_to_date_amount,
        spans.overdue_due_amount,
        installment_thresholds.due_date as oldest_unpaid_due_date,
        window_loans.officer_id,
        window_loans.customer_id,
        window_loans.principal_amount,
        window_loans.total_due_amount,
        window_loans.first_due_date,
        window_loans.is_first_installment_missed,
        -- not fully paid: active, or written off (rules §2.4, §2.5)
        spans.paid_to_date_amount < window_loans.total_due_amount as is_unpaid
    from spans
    inner join span_first_unpaid
        on
            spans.loan_id = span_first_unpaid.loan_id
            and spans.span_start_date = span_first_unpaid.span_start_date
            and span_first_unpaid.is_span = 1
    inner join window_loans
        on spans.loan_id = window_loans.loan_id
    left join installment_thresholds
        on
            span_first_unpaid.loan_id = installment_thresholds.loan_id
            and span_first_unpaid.first_unpaid_number = installment_thresholds.installment_number
),

-- rules §2.5: the first day of each unpaid span whose DPD is above the threshold, if the span
-- reaches it; the loan's write-off day W is the earliest. Paid to date on W - 1 is the span's
-- level, less the money paid on W when W is the span's first day.
write_off_candidates as (
    select
        loan_id,
        span_start_date,
        span_end_date,
        event_paid_amount,
        paid_to_date_amount,
        principal_amount,
        total_due_amount,
        {%- if write_off_after_dpd is none %}
            null::date as write_off_date
        {%- else %}
            greatest(
                span_start_date, oldest_unpaid_due_date + {{ write_off_after_dpd | int }} + 1
            ) as write_off_date
        {%- endif %}
    from span_states
    where is_unpaid
),

write_offs as (
    select distinct on (loan_id)
        loan_id,
        write_off_date,
        principal_amount
        * greatest(
            1
            - (
                paid_to_date_amount
                - case when write_off_date = span_start_date then event_paid_amount else 0 end
            )
            / total_due_amount,
            0
        ) as written_off_amount
    from write_off_candidates
    where write_off_date <= span_end_date
    order by loan_id, write_off_date
),

-- the spans reaching into the window
window_span_states as (
    select
        span_states.*,
        write_offs.write_off_date as loan_write_off_date,
        write_offs.written_off_amount as loan_written_off_amount
    from span_states
    cross join run_window
    left join write_offs
        on span_states.loan_id = write_offs.loan_id
    where span_states.span_end_date >= run_window.window_start_date
),

-- the DPD bucket of every DPD value a loan can reach by the as-of date
bucket_lookup as (
    {{ dpd_bucket_lookup(
        'dpd_buckets', as_of_date() ~ ' - (select min(due_date) from window_installments)'
    ) }}
),

loan_days as (
    select
        window_span_states.*,
        window_span_states.span_start_date + day_offsets.day_offset as metric_date
    from window_span_states
    cross join run_window
    cross join lateral generate_series(
        greatest(run_window.window_start_date - window_span_states.span_start_date, 0),
        window_span_states.span_end_date - window_span_states.span_start_date
    ) as day_offsets (day_offset)
),

day_states as (
    select
        loan_days.*,
        coalesce(loan_days.loan_write_off_date <= loan_days.metric_date, false)
            as is_past_write_off,
        loan_days.is_unpaid
        and coalesce(loan_days.loan_write_off_date <= loan_days.metric_date, false)
            as is_written_off,
        loan_days.is_unpaid
        and not coalesce(loan_days.loan_write_off_date <= loan_days.metric_date, false)
            as is_active,
        -- a written-off loan keeps its DPD (rules §2.3)
        case
            when loan_days.is_unpaid and loan_days.oldest_unpaid_due_date < loan_days.metric_date
                then loan_days.metric_date - loan_days.oldest_unpaid_due_date
            else 0
        end as dpd_days
    from loan_days
),

final as (
    select
        day_states.loan_id,
        day_states.metric_date,
        day_states.officer_id,
        day_states.customer_id,
        day_states.principal_amount,
        day_states.total_due_amount,
        day_states.paid_to_date_amount,
        greatest(day_states.total_due_amount - day_states.paid_to_date_amount, 0)
            as outstanding_balance_amount,
        day_states.principal_amount
        * greatest(1 - day_states.paid_to_date_amount / day_states.total_due_amount, 0)
            as principal_outstanding_amount,
        greatest(day_states.paid_to_date_amount - day_states.total_due_amount, 0)
            as overpaid_amount,
        greatest(day_states.overdue_due_amount - day_states.paid_to_date_amount, 0)
            as arrears_amount,
        day_states.dpd_days,
        case
            when day_states.is_active then bucket_lookup.bucket_names[day_states.dpd_days + 1]
            when day_states.is_written_off then bucket_lookup.written_off_bucket_name
            else bucket_lookup.closed_bucket_name
        end as dpd_bucket,
        case
            when day_states.is_active then bucket_lookup.bucket_orders[day_states.dpd_days + 1]
            when day_states.is_written_off then bucket_lookup.written_off_bucket_order
            else bucket_lookup.closed_bucket_order
        end as dpd_bucket_order,
        day_states.is_active,
        day_states.is_written_off,
        case
            when day_states.is_past_write_off then day_states.loan_write_off_date
        end as write_off_date,
        case
            when day_states.metric_date = day_states.loan_write_off_date
                then day_states.loan_written_off_amount
            else 0
        end as written_off_amount,
        -- counted money paid on D after W (a span starts on the day its money was paid)
        case
            when
                day_states.is_past_write_off
                and day_states.metric_date > day_states.loan_write_off_date
                and day_states.metric_date = day_states.span_start_date
                then day_states.event_paid_amount
            else 0
        end as recovered_amount,
        coalesce(
            day_states.first_due_date < day_states.metric_date
            and day_states.is_first_installment_missed,
            false
        ) as is_fimr,
        run_window.source_loaded_at,
        '{{ run_started_at }}'::timestamptz as computed_at
    from day_states
    cross join run_window
    cross join bucket_lookup
)

select * from final
