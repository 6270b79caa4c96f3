{#- rules §1.4, Repayments: every source repayment, with is_counted and the first exclusion
    reason that applies. Counted rows are exactly the money paid_to_date sums. -#}
with repayments as (
    select * from {{ ref('stg_django__repayments') }}
),

loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

flagged as (
    select
        repayments.*,
        row_number() over (
            partition by repayments.repayment_ref
            order by repayments.repayment_id
        ) > 1 as is_duplicate_ref,
        coalesce(loans.is_metric_eligible, false) as is_loan_in_metrics
    from repayments
    left join loans
        on repayments.loan_id = loans.loan_id
),

classified as (
    select
        *,
        case
            when paid_at is null then 'null_paid_date'
            when repayment_amount is null or repayment_amount <= 0 then 'non_positive_amount'
            when is_applied_to_loan is false then 'not_applied_to_loan'
            when upper(marked_as) = 'REVERSAL' then 'reversal'
            when is_duplicate_ref then 'duplicate_ref'
            when not is_loan_in_metrics then 'loan_not_in_metrics'
        end as exclusion_reason
    from flagged
),

final as (
    select
        repayment_id,
        loan_id,
        collecting_user_id,
        customer_id,
        repayment_amount,
        repayment_type,
        repayment_ref,
        marked_as,
        is_applied_to_loan,
        paid_at,
        paid_date,
        exclusion_reason is null as is_counted,
        exclusion_reason,
        created_at,
        loaded_at
    from classified
)

select * from final
