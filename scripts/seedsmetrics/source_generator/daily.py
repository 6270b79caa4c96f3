"""`simulate_day()`: one more day of activity on a generated source, for incremental-load tests.

Appends the day's repayments (a few backdated to earlier days, one reversal), updates the affected
schedule rows and loans (updated_at on that day), disburses a few new loans with schedules and
settles recent repayments. Deterministic: the same database state, day and seed give the same rows
(timestamps come from the day, ids follow the current maximum, uuids from the seeded generator).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg import sql

from seedsmetrics.errors import UserError
from seedsmetrics.source_generator import database
from seedsmetrics.source_generator import text as t
from seedsmetrics.source_generator.calendar import BusinessDays
from seedsmetrics.source_generator.portfolio import RATES, TABLES, TENORS

DAY = t.DAY_SECONDS
OFFICER_TYPES = ("AGENT", "STAFF_AGENT", "PROSPER_AGENT", "DMO_AGENT", "AJO_AGENT")
COUNTED = ("paid_date is not null and repayment_amount > 0 and applied_to_loan is not false"
           " and marked_as is distinct from 'REVERSAL'")

RUNNING_LOANS = f"""
with paid as (
    select ajo_loan_id, sum(repayment_amount) as paid from loans_ajoloanrepayment
    where {COUNTED} group by ajo_loan_id
), due as (
    select loan_id, count(*) as installments,
           sum(due_amount) filter (where due_date <= %(day)s) as due_to_date
    from loans_ajoloanschedule group by loan_id
)
select l.id, l.agent_id, l.borrower_id, l.amount_disbursed, l.amount, l.interest_rate,
       l.processing_fee, coalesce(l.nem_fee, 0), l.repayment_amount, l.daily_repayment_amount,
       coalesce(p.paid, 0), coalesce(d.due_to_date, 0), coalesce(d.installments, 0),
       l.date_disbursed
from loans_ajoloan l
left join paid p on p.ajo_loan_id = l.id
left join due d on d.loan_id = l.id
where l.is_disbursed and l.date_disbursed is not null and l.date_disbursed < %(day_start)s
  and l.status not in ('COMPLETED', 'CLOSED')
order by l.id
"""


def _seconds(moment: datetime) -> int:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.toordinal() * DAY + moment.hour * 3600 + moment.minute * 60 + moment.second


def _kobo(value: float) -> int:
    return round(value * 100)


class _Day:
    def __init__(self, conn: psycopg.Connection, day: date, seed: int):
        self.conn = conn
        self.day = day
        self.ordinal = day.toordinal()
        self.rng = random.Random(f"simulate-day:{seed}:{day.isoformat()}")
        self.rnd = self.rng.random
        company_days = conn.execute("select date from loans_holiday where type = 'company'")
        holidays = {row[0] for row in company_days}
        self.calendar = BusinessDays(day - timedelta(days=10), day + timedelta(days=10), holidays)
        self.counts = {"repayments": 0, "backdated": 0, "reversals": 0, "schedule_rows_updated": 0,
                       "loans_updated": 0, "loans_disbursed": 0, "schedule_rows_inserted": 0,
                       "repayments_settled": 0}
        self.touched_loans: dict[int, int] = {}  # loan id -> created_at of its last new row

    def work_time(self, ordinal: int) -> int:
        return ordinal * DAY + t.WORK_START_UTC + int(self.rnd() * t.WORK_SPAN)

    def next_id(self, table: str) -> int:
        row = self.conn.execute(sql.SQL("select coalesce(max(id), 0) from {}").format(
            sql.Identifier(table)))
        return int(row.fetchone()[0]) + 1

    def run(self) -> dict[str, int]:
        self.settle()
        payments = self.repayments()
        self.allocate(payments)
        self.disburse()
        database.reset_sequences(self.conn)
        return self.counts

    def settle(self) -> None:
        """Yesterday's unsettled money settles overnight: old rows change (updated_at moves)."""
        moment = datetime.fromordinal(self.ordinal) + timedelta(hours=6)
        window_start = datetime.fromordinal(self.ordinal - 3)
        cursor = self.conn.execute(
            f"update loans_ajoloanrepayment set settlement_status = true,"
            f" updated_at = %s::timestamp at time zone 'UTC' where not settlement_status"
            f" and created_at >= %s::timestamp at time zone 'UTC'"
            f" and created_at < %s::timestamp at time zone 'UTC' and {COUNTED}",
            [moment, window_start, datetime.fromordinal(self.ordinal)])
        self.counts["repayments_settled"] = cursor.rowcount

    def repayments(self) -> list[tuple[int, int, int, int]]:
        """Insert the day's repayments; return the counted ones as (loan, created, paid, kobo)."""
        rnd, day = self.rnd, self.ordinal
        business = self.calendar.is_business_day(self.day)
        day_start = datetime.fromordinal(day) - timedelta(hours=1)  # midnight in Lagos
        loans = self.conn.execute(RUNNING_LOANS,
                                  {"day": self.day, "day_start": day_start}).fetchall()
        rows: list[tuple[int, int, int, str, str, int, str | None]] = []
        # (created, paid, loan, agent, borrower, kobo, marked_as)
        running = []
        for (loan_id, agent, borrower, disbursed_amount, amount, rate, fee, nem, repayment, daily,
             paid, due, installments, _) in loans:
            principal = _kobo(disbursed_amount if disbursed_amount > 0 else amount)
            total = (_kobo(repayment) if repayment > 0
                     else round(principal * (1 + rate / 100)) + _kobo(fee + nem))
            daily_kobo = _kobo(daily) or total
            outstanding = total - _kobo(paid)
            if outstanding <= 0:
                continue
            running.append((loan_id, agent, borrower, daily_kobo, outstanding))
            owe = (min(outstanding, _kobo(due) - _kobo(paid)) if installments
                   else min(outstanding, daily_kobo))
            if owe <= 0:
                continue
            # how a borrower pays depends on how far behind they are (installments owed,
            # today's included)
            behind, choice = owe / daily_kobo, rnd()
            if not business:
                amount_now = min(owe, daily_kobo) if choice < 0.05 else 0
            elif behind <= 1.05:
                amount_now = owe if choice < 0.88 else (
                    min(owe, int(daily_kobo * (0.5 + 0.4 * rnd()) / 10_000 + 1) * 10_000)
                    if choice < 0.94 else 0)
            elif behind <= 6:
                amount_now = owe if choice < 0.45 else (min(owe, daily_kobo) if choice < 0.75
                                                        else 0)
            else:  # deep arrears: the odd token payment
                amount_now = min(owe, daily_kobo) if choice < 0.06 else 0
            if amount_now > 0:
                paid_at = self.work_time(day)
                rows.append((paid_at + 5 + int(rnd() * 300), paid_at, loan_id, str(agent),
                             str(borrower), amount_now, None))
        # agents who key in cash of the last few business days today
        earlier = [d for d in range(day - 7, day)
                   if self.calendar.is_business_day(date.fromordinal(d))]
        if running:
            for loan_id, agent, borrower, daily_kobo, outstanding in self.rng.sample(
                    running, min(len(running), max(1, round(len(running) * 0.01)))):
                paid_at = self.work_time(earlier[int(rnd() * len(earlier))])
                rows.append((self.work_time(day), paid_at, loan_id, str(agent), str(borrower),
                             min(daily_kobo, outstanding), "BACKDATED"))
                self.counts["backdated"] += 1
        reversal = self.reversal_of(rows)
        if reversal:
            rows.append(reversal)
            self.counts["reversals"] = 1
        rows.sort(key=lambda row: (row[0], row[2]))
        next_id = self.next_id("loans_ajoloanrepayment")
        lines = []
        for offset, (created, paid_at, loan_id, agent, borrower, kobo, marked) in enumerate(rows):
            lines.append("\t".join((
                str(next_id + offset), str(loan_id), agent, borrower, t.money(kobo), "0.00", t.NULL,
                "AGENT_DEBIT" if marked != "REVERSAL" else "TRANSFER",
                t.uuid_text(self.rng.getrandbits(128)), t.text_or_null(marked), "t",
                "Reversal of duplicate debit" if marked == "REVERSAL" else t.NULL, "f",
                t.ts(paid_at), t.ts(created), t.ts(created))))
        database.copy_lines(self.conn, "loans_ajoloanrepayment", lines, freeze=False)
        self.counts["repayments"] = len(lines)
        self.touched_loans = {row[2]: row[0] for row in sorted(rows)}
        return [(row[2], row[0], row[1], row[5]) for row in rows if row[6] != "REVERSAL"]

    def reversal_of(self, rows: list) -> tuple | None:
        """One reversal a day: a copy of a payment (today's if any, else the latest recorded)."""
        normal = [row for row in rows if row[6] is None]
        if normal:
            created, _, loan_id, agent, borrower, kobo, _ = self.rng.choice(normal)
        else:
            latest = self.conn.execute(
                f"select ajo_loan_id, coalesce(agent_id::text, %s),"
                f" coalesce(borrower_id::text, %s), repayment_amount from loans_ajoloanrepayment"
                f" where {COUNTED} order by id desc limit 1",
                [t.NULL, t.NULL]).fetchone()
            if latest is None:
                return None
            loan_id, agent, borrower, amount = latest
            kobo, created = _kobo(amount), self.work_time(self.ordinal)
        moment = min(created + 3600 + int(self.rnd() * 7200), self.ordinal * DAY + 20 * 3600)
        return (moment + 30, moment, loan_id, agent, borrower, kobo, "REVERSAL")

    def allocate(self, payments: list[tuple[int, int, int, int]]) -> None:
        """Django's bookkeeping: new money fills the oldest open installments; loans move
        updated_at."""
        if not self.touched_loans:
            return
        loan_ids = sorted(self.touched_loans)
        schedule = self.conn.execute(
            "select id, loan_id, due_date, due_amount, paid_amount from loans_ajoloanschedule"
            " where loan_id = any(%s) and not fully_paid order by loan_id, due_date, id",
            [loan_ids]).fetchall()
        open_rows: dict[int, list[list]] = {}
        for row_id, loan_id, due_date, due, paid in schedule:
            open_rows.setdefault(loan_id, []).append(
                [row_id, due_date.toordinal(), _kobo(due), _kobo(paid), None, None])
        updates: dict[int, list] = {}
        for loan_id, created, paid_at, kobo in sorted(payments, key=lambda p: (p[1], p[0])):
            for item in open_rows.get(loan_id, []):
                if kobo <= 0:
                    break
                take = min(kobo, item[2] - item[3])
                if take <= 0:
                    continue
                item[3] += take
                kobo -= take
                item[4], item[5] = created, paid_at
                updates[item[0]] = item
        lines = []
        for row_id in sorted(updates):
            _, due_day, due, paid, created, paid_at = updates[row_id]
            done = paid >= due
            late_days = max(0, (created // DAY if done else self.ordinal) - due_day)
            lines.append("\t".join((str(row_id), t.money(paid), t.money(due - paid), t.flag(done),
                                    t.ts(created) if done else t.NULL, t.flag(late_days > 0),
                                    str(late_days), t.ts(paid_at), t.ts(created))))
        self.conn.execute("create temp table _schedule_update (id bigint,"
                          " paid_amount double precision, amount_left double precision,"
                          " fully_paid boolean, fully_paid_date timestamptz, is_late boolean,"
                          " late_days integer, paid_date timestamptz, updated_at timestamptz)"
                          " on commit drop")
        with self.conn.cursor() as cur, cur.copy("copy _schedule_update from stdin") as copy:
            copy.write("".join(line + "\n" for line in lines))
        self.counts["schedule_rows_updated"] = self.conn.execute(
            "update loans_ajoloanschedule s set paid_amount = u.paid_amount,"
            " amount_left = u.amount_left, fully_paid = u.fully_paid,"
            " fully_paid_date = coalesce(u.fully_paid_date, s.fully_paid_date),"
            " is_late = u.is_late, late_days = u.late_days, paid_date = u.paid_date,"
            " updated_at = u.updated_at from _schedule_update u where s.id = u.id").rowcount
        # loans: updated_at = the day's last row; completed when the counted money covers the total
        self.conn.execute(
            "create temp table _loan_update (id integer, updated_at timestamptz) on commit drop")
        with self.conn.cursor() as cur, cur.copy("copy _loan_update from stdin") as copy:
            copy.write("".join(f"{loan_id}\t{t.ts(self.touched_loans[loan_id])}\n"
                               for loan_id in loan_ids))
        self.counts["loans_updated"] = self.conn.execute(f"""
            with paid as (
                select ajo_loan_id, sum(repayment_amount) as paid, max(created_at) as last_at
                from loans_ajoloanrepayment
                where {COUNTED} and ajo_loan_id in (select id from _loan_update)
                group by ajo_loan_id
            )
            update loans_ajoloan l set
                updated_at = greatest(l.updated_at, u.updated_at),
                status = case when p.paid >= l.repayment_amount and l.repayment_amount > 0
                              then 'COMPLETED' else l.status end,
                performance_status = case
                    when p.paid >= l.repayment_amount and l.repayment_amount > 0
                    then 'PERFORMING' else l.performance_status end,
                date_completed = case
                    when p.paid >= l.repayment_amount and l.repayment_amount > 0
                    then coalesce(l.date_completed, p.last_at) else l.date_completed end
            from _loan_update u left join paid p on p.ajo_loan_id = u.id
            where l.id = u.id""").rowcount

    def disburse(self) -> None:
        """A few new loans (as many as a typical recent day), each with its schedule."""
        rnd, day = self.rnd, self.ordinal
        recent = self.conn.execute(
            "select count(*) from loans_ajoloan"
            " where date_disbursed >= %s::date - 30 and date_disbursed < %s",
            [self.day, self.day]).fetchone()[0]
        wanted = max(1, round(recent / 21))
        customers = self.conn.execute(
            "select c.id, c.user_id, c.first_name, c.last_name, c.phone_number from ajo_ajouser c"
            " join accounts_customuser u on u.id = c.user_id"
            " where u.is_active and upper(u.user_type) = any(%s) order by c.id",
            [list(OFFICER_TYPES)]).fetchall()
        if not customers:
            return
        loan_id = self.next_id("loans_ajoloan")
        schedule_id = self.next_id("loans_ajoloanschedule")
        loan_lines, schedule_lines = [], []
        far_calendar = self.calendar
        for chosen in sorted(self.rng.sample(range(len(customers)), min(wanted, len(customers)))):
            customer_id, agent_id, first, last, phone = customers[chosen]
            tenor_name, installments = TENORS[int(rnd() * 3)]
            principal = (20_000 + 5_000 * int(rnd() ** 2.2 * 97)) * 100
            rate = RATES[installments][int(rnd() * len(RATES[installments]))]
            fee = principal * 2 // 100
            total = principal + principal * rate // 100 + fee
            daily = (2 * total + installments) // (2 * installments)
            disbursed = self.work_time(day)
            created = disbursed - 600 - int(rnd() * 3000)
            start = self.day + timedelta(days=4 + int(rnd() * 3))
            due_days = far_calendar.following(start, installments)
            names = [p for p in (first, last) if p is not None]
            loan_lines.append("\t".join((
                str(loan_id), str(customer_id), str(agent_id),
                t.text_or_null(" ".join(names).strip() if names else None), phone,
                t.money(principal), t.money(principal), str(rate), t.money(principal * rate // 100),
                t.money(fee), t.NULL, t.money(total), t.money(daily), tenor_name, str(installments),
                "DAILY", "AJO", "ACTIVE", "PERFORMING", "DISBURSED", "t", t.ts(disbursed),
                start.isoformat(), due_days[-1].isoformat(), due_days[-1].isoformat(), t.NULL,
                t.ts(created), t.ts(disbursed))))
            dues = [daily] * (installments - 1) + [total - daily * (installments - 1)]
            schedule_created = disbursed + 1 + int(rnd() * 30)
            for due_day, due in zip(due_days, dues, strict=True):
                schedule_lines.append("\t".join((
                    str(schedule_id), str(loan_id), due_day.isoformat(), t.money(due), "0.00",
                    t.money(due), "f", t.NULL, "f", "0", t.NULL, t.ts(schedule_created),
                    t.ts(schedule_created))))
                schedule_id += 1
            loan_id += 1
        database.copy_lines(self.conn, "loans_ajoloan", loan_lines, freeze=False)
        database.copy_lines(self.conn, "loans_ajoloanschedule", schedule_lines, freeze=False)
        self.counts["loans_disbursed"] = len(loan_lines)
        self.counts["schedule_rows_inserted"] = len(schedule_lines)


def simulate_day(database_url: str, day: date | str, seed: int = 42) -> dict[str, int]:
    """Append one day of activity (see the module docstring) in one transaction; return counts.

    Days must be simulated in order, after the generated as-of date: a day whose repayments are
    already there is refused."""
    from seedsmetrics.source_generator import parse_day

    when = parse_day(day)
    with database.connect(database_url) as conn:
        missing = [name for name in TABLES if name not in database.existing_tables(conn)]
        if missing:
            raise UserError(f"database {conn.info.dbname} has no table {missing[0]} (run "
                            "generate-source first)")
        latest = conn.execute("select max(created_at) from loans_ajoloanrepayment").fetchone()[0]
        if latest is not None and _seconds(latest) >= when.toordinal() * DAY - 3600:
            raise UserError(f"database {conn.info.dbname} already has repayments recorded on or "
                            f"after {when} (simulate days in order, after the as-of date)")
        try:
            return _Day(conn, when, seed).run()
        except psycopg.Error as error:
            raise database.failure(error, f"simulate_day {when}") from None
