with source as (
    select * from {{ source('django', 'loans_ajoloanschedule') }}
),

renamed as (
    select
        id as schedule_id,
        loan_id,
        due_date,
        due_amount::numeric(18, 2) as due_amount,
        paid_amount::numeric(18, 2) as paid_amount,
        amount_left::numeric(18, 2) as amount_left,
        fully_paid as is_fully_paid,
        fully_paid_date as fully_paid_at,
        is_late,
        late_days,
        paid_date as paid_at,
        created_at,
        updated_at,
        _loaded_at as loaded_at,
        _run_id as run_id
    from source
)

select * from renamed
