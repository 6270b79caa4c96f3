{#- The business-day calendar (rules §1.5, Installments): Mon-Fri minus company holidays, over
    a range wide enough for every derived schedule. business_day_number numbers the business days
    in order; next_business_day_number is the number of the first business day on or after a date,
    so "the k-th business day from date d" is a single equi-join. -#}
with holidays as (
    select * from {{ ref('stg_django__holidays') }}
),

loans as (
    select * from {{ ref('int_loans_cleaned') }}
),

company_holidays as (
    select distinct holiday_date
    from holidays
    where holiday_type = 'company'
),

bounds as (
    select
        least(min(loans.disbursement_date), min(loans.start_date), {{ as_of_date() }})
            as first_date,
        greatest(max(loans.disbursement_date) + 1, max(loans.start_date), {{ as_of_date() }})
        + 2 * coalesce(max(greatest(loans.tenor_in_days, 0)), 0)
        + (select count(*) from company_holidays)::integer
        + 14 as last_date
    from loans
),

spine as (
    select days.calendar_date::date as calendar_date
    from bounds
    cross join
        lateral generate_series(bounds.first_date, bounds.last_date, interval '1 day')
            as days (calendar_date)
),

flagged as (
    select
        spine.calendar_date,
        extract(isodow from spine.calendar_date) >= 6 as is_weekend,
        company_holidays.holiday_date is not null as is_company_holiday
    from spine
    left join company_holidays
        on spine.calendar_date = company_holidays.holiday_date
),

numbered as (
    select
        calendar_date,
        is_weekend,
        is_company_holiday,
        not is_weekend and not is_company_holiday as is_business_day,
        count(*) filter (where not is_weekend and not is_company_holiday)
            over (order by calendar_date rows between unbounded preceding and current row)
            as business_days_through
    from flagged
),

final as (
    select
        calendar_date,
        is_weekend,
        is_company_holiday,
        is_business_day,
        case when is_business_day then business_days_through end as business_day_number,
        business_days_through
        + case when is_business_day then 0 else 1 end as next_business_day_number
    from numbered
)

select * from final
