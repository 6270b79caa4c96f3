"""The synthetic Django portfolio, built in memory as COPY text lines (pure Python, deterministic).

Everything derives from one random.Random(seed) consumed in a fixed order, and every timestamp from
the as-of date, so the same (scale, seed, as_of) always gives the same bytes. Money is integer kobo
until it is formatted. The source is a snapshot taken at 22:00 UTC (23:00 Lagos) on the as-of day:
nothing is created or updated after that.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from seedsmetrics.source_generator import text as t
from seedsmetrics.source_generator.calendar import BusinessDays, company_holidays

DAY = t.DAY_SECONDS
HISTORY_MONTHS = 20
SNAPSHOT_SECOND = 22 * 3600
TENORS = (("ONE_MONTH", 20), ("TWO_MONTHS", 40), ("THREE_MONTHS", 60))
TENOR_WEIGHTS = (40, 38, 22)
RATES = {20: (10, 12, 15), 40: (15, 18, 20, 25), 60: (20, 25, 30)}
OFFICER_TYPES = {"AGENT": 28, "STAFF_AGENT": 22, "AJO_AGENT": 18, "PROSPER_AGENT": 8,
                 "DMO_AGENT": 7, "RECOVERY_AGENT": 5, None: 8, "Agent": 2, "staff_agent": 1,
                 "Ajo_Agent": 1}
OTHER_TYPES = {"MERCHANT": 20, "MERCHANT_AGENT": 6, "MICRO_SAVER": 25, "KEY_ACCOUNT": 3,
               "PERSONAL": 25, "LIBERTY_RETAIL": 6, "LOTTO_AGENT": 6, "PHARMACIST": 4, "lite": 8}
BRANCHES = {"Lagos Central": 14, "Ikeja": 12, "ikeja": 2, "LAGOS CENTRAL": 2, "Abuja Main": 8,
            " Abuja Main ": 2, "Surulere Lagos": 6, "Ibadan": 6, "Oyo Town": 3, "Abeokuta Ogun": 4,
            "Kano Central": 5, "Port Harcourt": 5, "Benin City": 3, None: 2, "": 1}
FIRST_NAMES = ("Adebayo", "Chinedu", "Aisha", "Ngozi", "Emeka", "Funmilayo", "Ibrahim", "Yetunde",
               "Oluwaseun", "Amaka", "Musa", "Blessing", "Tunde", "Chiamaka", "Abubakar", "Folake",
               "Ifeanyi", "Zainab", "Segun", "Nkechi", "Kehinde", "Halima", "Obinna", "Bukola",
               "Sani", "Uchenna", "Titilayo", "Garba", "Adaeze", "Femi", "Hauwa", "Chukwuma",
               "Omolara", "Yusuf", "Ebere", "Gbenga", "Fatima", "Nnamdi", "Bisi", "Aliyu",
               "Patience", "Godwin", "Mercy", "Kunle", "Rukayat")
LAST_NAMES = ("Okafor", "Adeyemi", "Bello", "Eze", "Ogunleye", "Mohammed", "Nwosu", "Balogun",
              "Okonkwo", "Adebisi", "Abdullahi", "Olawale", "Chukwu", "Ibrahim", "Afolabi", "Obi",
              "Usman", "Onyeka", "Adewale", "Lawal", "Nwachukwu", "Salami", "Okoro", "Oladipo",
              "Danjuma", "Ekwueme", "Ogundipe", "Yakubu", "Anyanwu", "Oyelaran", "Babatunde",
              "Ezeh", "Akinola", "Suleiman", "Onuoha")
STATES = (("Lagos", ("Ikeja", "Surulere", "Alimosho", "Mushin", "Oshodi-Isolo", "Kosofe")),
          ("FCT", ("AMAC", "Bwari", "Gwagwalada")),
          ("Ogun", ("Abeokuta South", "Ado-Odo/Ota", "Ifo")),
          ("Oyo", ("Ibadan North", "Ibadan South-West", "Ogbomosho North")),
          ("Kano", ("Nassarawa", "Fagge", "Dala")), ("Rivers", ("Port Harcourt", "Obio/Akpor")),
          ("Edo", ("Oredo", "Egor")))
STREETS = ("Allen Avenue", "Herbert Macaulay Way", "Ojuelegba Road", "Market Street",
           "Church Street", "Aminu Kano Crescent", "Ring Road", "Station Road", "Old Ife Road",
           "Aba Road", "Adeniran Ogunsanya")
TRADES = ("Trader", "Tailor", "Hairdresser", "Food vendor", "Mechanic", "POS agent",
          "Provision store", "Farmer", "Phone accessories", "Fashion designer", None)
REPAYMENT_TYPES = (("AGENT_DEBIT", 45), ("TRANSFER", 20), ("ESCROW_DEBIT", 10), ("CASH", 10),
                   ("CARD", 5), ("USSD", 4), ("DIRECT_DEBIT", 4), (None, 2))
# behaviours of a borrower over the loan's life
ON_TIME, PARTIAL, LATE, DEFAULT, OVERPAY, EARLY = range(6)
BEHAVIOUR_WEIGHTS = (54.0, 6.0, 14.0, 4.0, 5.0, 14.0)
NORMAL, RECOVERY = 0, 1

COLUMNS = {
    "accounts_customuser": ("id", "password", "last_login", "is_superuser", "username",
                            "first_name", "last_name", "email", "is_staff", "is_active",
                            "date_joined", "customer_user_id", "user_type", "account_type",
                            "user_phone", "user_branch", "performance_status", "bvn_number",
                            "created_at", "updated_at"),
    "ajo_ajouser": ("id", "user_id", "phone_number", "first_name", "last_name", "alias", "dob",
                    "gender", "marital_status", "state", "lga", "address", "bvn", "nin", "trade",
                    "bvn_verified", "onboarding_verified", "onboarding_complete", "provider",
                    "created_at", "updated_at"),
    "loans_ajoloan": ("id", "borrower_id", "agent_id", "borrower_full_name",
                      "borrower_phone_number", "amount", "amount_disbursed", "interest_rate",
                      "interest_amount", "processing_fee", "nem_fee", "repayment_amount",
                      "daily_repayment_amount", "tenor", "tenor_in_days", "repayment_type",
                      "loan_type", "status", "performance_status", "verification_stage",
                      "is_disbursed", "date_disbursed", "start_date", "end_date",
                      "expected_end_date", "date_completed", "created_at", "updated_at"),
    "loans_ajoloanrepayment": ("id", "ajo_loan_id", "agent_id", "borrower_id", "repayment_amount",
                               "health_insurance", "loan_amount", "repayment_type", "repayment_ref",
                               "marked_as", "applied_to_loan", "comment", "settlement_status",
                               "paid_date", "created_at", "updated_at"),
    "loans_ajoloanschedule": ("id", "loan_id", "due_date", "due_amount", "paid_amount",
                              "amount_left", "fully_paid", "fully_paid_date", "is_late",
                              "late_days", "paid_date", "created_at", "updated_at"),
    "loans_holiday": ("id", "date", "name", "type", "agent_id", "salary_waver", "created_at",
                      "updated_at"),
}
TABLES = tuple(COLUMNS)


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


@dataclass(frozen=True)
class Sizes:
    users: int
    officers: int
    customers: int
    loans: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        """Linear in scale (1 = production volumes), with floors so tiny scales still have every
        case."""
        return cls(users=max(40, round(7000 * scale)), officers=max(10, round(450 * scale)),
                   customers=max(60, round(25000 * scale)), loans=max(80, round(20000 * scale)))


@dataclass(eq=False)
class User:
    joined: int  # seconds
    user_type: str | None
    is_officer: bool
    originates: bool = False  # may be the agent of new loans
    branch: str | None = None
    terminated_day: int | None = None
    weight: float = 1.0
    risk: float = 1.0
    id: int = 0
    off_days: set[int] = field(default_factory=set)


@dataclass(eq=False)
class Customer:
    created: int
    manager: User | None
    first_name: str | None
    last_name: str | None
    phone: str
    onboarding_complete: bool = True
    id: int = 0


@dataclass(eq=False)
class Loan:
    created: int
    agent: User
    customer: Customer
    tenor: int  # index into TENORS
    principal: int  # kobo
    rate: int  # percent, flat for the whole tenor
    fee: int
    nem_fee: int | None
    disbursed: int | None  # seconds
    status: str = ""
    performance: str | None = None
    behaviour: int = ON_TIME
    start_day: int = 0  # the contract's start_date; the first installment is due on or after it
    first_due_index: int = 0
    has_schedule: bool = True
    quirks: set[str] = field(default_factory=set)
    end_day: int | None = None
    completed: int | None = None
    updated: int = 0
    id: int = 0

    @property
    def installments(self) -> int:
        return TENORS[self.tenor][1]

    @property
    def total(self) -> int:
        return self.principal + self.principal * self.rate // 100 + self.fee + (self.nem_fee or 0)

    @property
    def daily(self) -> int:
        return (2 * self.total + self.installments) // (2 * self.installments)


def _weighted(rng: random.Random, table: dict) -> list:
    """A lookup list for fast weighted choice with rng.random()."""
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys], k=1000)


class Portfolio:
    """Builds all six tables; `lines[table]` holds COPY text lines in id order."""

    def __init__(self, scale: float, seed: int, as_of: date):
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.sizes = Sizes.for_scale(scale)
        self.as_of = as_of
        self.as_of_day = as_of.toordinal()
        self.start = months_before(as_of, HISTORY_MONTHS)
        self.start_day = self.start.toordinal()
        self.snapshot = self.as_of_day * DAY + SNAPSHOT_SECOND
        self.holidays = company_holidays(self.start.year - 1, as_of.year + 1)
        self.calendar = BusinessDays(self.start - timedelta(days=30), date(as_of.year + 1, 12, 31),
                                     {d for d, _ in self.holidays})
        self.lines: dict[str, list[str]] = {name: [] for name in TABLES}
        self.forced_performance: dict[int, str | None] = {}

    # -- helpers -------------------------------------------------------------------------------
    def work_time(self, ordinal: int) -> int:
        """A moment in Lagos working hours on day `ordinal`."""
        return ordinal * DAY + t.WORK_START_UTC + int(self.rnd() * t.WORK_SPAN)

    def pick(self, lookup: list):
        return lookup[int(self.rnd() * len(lookup))]

    def count(self, population: int, share: float, minimum: int) -> int:
        return min(population, max(minimum, round(population * share)))

    def build(self) -> dict[str, list[str]]:
        users = self.build_users()
        customers = self.build_customers(users)
        loans = self.build_loans(users, customers)
        self.simulate(loans, users)
        # customers who never finished onboarding still got loans in production
        borrowers = list({loan.customer.id: loan.customer for loan in loans
                          if loan.disbursed}.values())
        for customer in self.rng.sample(borrowers, self.count(len(borrowers), 0.03, 3)):
            customer.onboarding_complete = False
        self.write_users(users)
        self.write_customers(customers)
        self.write_loans(loans)
        self.write_holidays(users)
        return self.lines

    # -- officers and other users --------------------------------------------------------------
    def build_users(self) -> list[User]:
        rng, rnd, sizes = self.rng, self.rnd, self.sizes
        # the oldest officers joined ~3 years before the history
        first_day = self.start_day - 3 * 365
        officer_types = _weighted(rng, OFFICER_TYPES)
        forced_types: list[str | None] = [None, None, "Agent", "staff_agent", "Ajo_Agent",
                                          "RECOVERY_AGENT", "PROSPER_AGENT", "DMO_AGENT"]
        types = forced_types + [self.pick(officer_types)
                                for _ in range(sizes.officers - len(forced_types))]
        branches_lookup = _weighted(rng, BRANCHES)
        forced_branches = ["Lagos Central", " Abuja Main ", "ikeja", "LAGOS CENTRAL", None, ""]
        branches = forced_branches + [self.pick(branches_lookup) for _ in range(len(types) - 6)]
        rng.shuffle(types)
        rng.shuffle(branches)
        users: list[User] = []
        terminated_seen = 0
        for user_type, branch in zip(types, branches, strict=True):
            if user_type is None:
                # terminated officers joined before the history; the first left recently, so
                # still has loans
                joined_day = first_day + int(rnd() * (self.start_day - 60 - first_day))
                if terminated_seen == 0:
                    term = self.as_of_day - 20 - int(rnd() * 20)
                else:
                    span = self.as_of_day - self.start_day - 120
                    term = self.start_day + 60 + int(rnd() * span)
                terminated_seen += 1
            else:
                term = None
                if rnd() < 0.7:
                    joined_day = first_day + int(rnd() * (self.start_day - 30 - first_day))
                else:
                    span = self.as_of_day - 90 - self.start_day
                    joined_day = self.start_day + int(rnd() * span)
            upper = (user_type or "").upper()
            weight = 0.1 if upper == "RECOVERY_AGENT" else 0.4 + rnd() * 1.6
            risk = 3.0 if rnd() < 0.06 else 0.4 + rnd() * 1.4
            users.append(User(joined=self.work_time(joined_day), user_type=user_type,
                              is_officer=True, originates=True, branch=branch, terminated_day=term,
                              weight=weight, risk=risk))
        other_types = _weighted(rng, OTHER_TYPES)
        others = sizes.users - len(users)
        # two non-agent users (a 'lite' one and a MERCHANT_AGENT) originate a few loans anyway
        for index in range(others):
            user_type = (("lite", "MERCHANT_AGENT", "lite")[index] if index < 3
                         else self.pick(other_types))
            originates = index < 2
            if originates:
                joined_day = first_day + int(rnd() * (self.start_day - 30 - first_day))
            else:
                joined_day = first_day + int(rnd() * (self.as_of_day - first_day))
            branch = self.pick(branches_lookup) if rnd() < 0.1 else None
            users.append(User(joined=self.work_time(joined_day), user_type=user_type,
                              is_officer=False, originates=originates, branch=branch, weight=0.02,
                              risk=1.5))
        users.sort(key=lambda u: u.joined)
        for number, user in enumerate(users, start=1):
            user.id = number
        # every performance_status value among serving officers, however few officers there are
        serving = [u for u in users if u.is_officer and u.terminated_day is None]
        for user, status in zip(rng.sample(serving, 3), ("Suspended", "Inactive", None),
                                strict=True):
            self.forced_performance[user.id] = status
        # agents' own days off (type 'agent' holidays): their customers skip paying those days
        officers = [u for u in users if u.is_officer]
        for user in rng.sample(officers, self.count(len(officers), 0.15, 2)):
            start = max(user.joined // DAY + 7, self.start_day)
            end = user.terminated_day or self.as_of_day
            for _ in range(1 + int(rnd() * 4)):
                user.off_days.add(start + int(rnd() * max(1, end - start)))
        return users

    def write_users(self, users: list[User]) -> None:
        rng, rnd = self.rng, self.rnd
        phones = rng.sample(range(100_000_000), len(users))
        hr_ids = rng.sample(range(10_000, 10_000_000), len(users))
        out = self.lines["accounts_customuser"]
        blank_email_user = next(u for u in users if not u.is_officer and not u.originates)
        nameless_officer = next(u for u in users if u.is_officer and u.user_type)
        superuser = next(u for u in reversed(users) if not u.is_officer and not u.originates)
        for user, phone, hr_id in zip(users, phones, hr_ids, strict=True):
            first = self.pick(FIRST_NAMES)
            last = self.pick(LAST_NAMES)
            if user.is_officer:
                email = f"{first}.{last}.{user.id}@seedsmfb.ng".lower()
                choice = rnd()
                username = email if choice < 0.8 else (f"{first.lower()}_{user.id}" if choice < 0.95
                                                       else None)
            else:
                domain = "gmail.com" if rnd() < 0.7 else "yahoo.com"
                email = f"{first}{last}{user.id}@{domain}".lower()
                choice = rnd()
                username = email if choice < 0.6 else (f"080{phone:08d}" if choice < 0.9 else None)
                if rnd() < 0.1:
                    first = last = ""  # Django keeps '' rather than NULL
            if user is blank_email_user:
                email, username = "", f"080{phone:08d}"
            if user is nameless_officer:
                username = None
            joined = user.joined
            if user.terminated_day is not None:
                is_active, performance = False, (None if rnd() < 0.5 else "Inactive")
                last_login = min(self.snapshot, user.terminated_day * DAY - int(rnd() * 5 * DAY))
                updated = user.terminated_day * DAY + 9 * 3600
            else:
                is_active = rnd() < 0.93
                if user.is_officer:
                    performance = (self.pick(("Active",) * 16 + ("Inactive", "Suspended", None,
                                                                 None))
                                   if is_active else "Inactive")
                else:
                    performance = None
                if user.id in self.forced_performance:
                    performance = self.forced_performance[user.id]
                last_login = None if rnd() < 0.2 else joined + int(rnd() * (self.snapshot - joined))
                updated = last_login or joined
            last_login = None if last_login is None or last_login < joined else last_login
            updated = max(updated, joined)
            is_super = user is superuser
            out.append("\t".join((
                str(user.id),
                f"pbkdf2_sha256$600000${rng.getrandbits(96):024x}${rng.getrandbits(160):040x}",
                t.ts_or_null(last_login), t.flag(is_super), t.text_or_null(username), first, last,
                email,
                t.flag(is_super or (user.user_type or "").upper() == "STAFF_AGENT" and rnd() < 0.3),
                t.flag(is_active), t.ts(joined), str(hr_id) if rnd() < 0.6 else t.NULL,
                t.text_or_null(user.user_type), "REGULAR" if rnd() < 0.9 else "PREMIUM",
                f"080{phone:08d}" if rnd() < 0.95 else t.NULL, t.text_or_null(user.branch),
                t.text_or_null(performance),
                f"22{rng.getrandbits(30) % 10**9:09d}" if rnd() < 0.7 else t.NULL, t.ts(joined),
                t.ts(updated),
            )))

    # -- customers -------------------------------------------------------------------------------
    def build_customers(self, users: list[User]) -> list[Customer]:
        rng, rnd = self.rng, self.rnd
        managers = [u for u in users if u.originates]
        weights = [u.weight for u in managers]
        cumulative = []
        running = 0.0
        for w in weights:
            running += w
            cumulative.append(running)
        prefixes = ("080", "081", "070", "090", "091")
        numbers = rng.sample(range(len(prefixes) * 100_000_000), self.sizes.customers)
        customers = []
        floor_day = self.start_day - 2 * 365
        for number in numbers:
            manager = None
            if rnd() >= 0.02:
                manager = managers[bisect.bisect_left(cumulative, rnd() * running)]
            lo = max(floor_day, (manager.joined // DAY + 1) if manager else floor_day)
            hi = min(self.as_of_day,
                     manager.terminated_day if manager and manager.terminated_day else
                     self.as_of_day)
            created_day = lo + int(max(0, hi - lo) * rnd() ** 0.8)
            phone = f"{prefixes[number // 100_000_000]}{number % 100_000_000:08d}"
            customers.append(Customer(created=self.work_time(created_day), manager=manager,
                                      first_name=self.pick(FIRST_NAMES),
                                      last_name=self.pick(LAST_NAMES), phone=phone))
        # names as they really are: '' from the mobile app, NULL from the bulk import, or one
        # part missing
        picks = rng.sample(customers, self.count(len(customers), 0.02, 6))
        for index, customer in enumerate(picks):
            if index % 3 == 0:
                customer.first_name = customer.last_name = ""
            elif index % 3 == 1:
                customer.first_name = customer.last_name = None
            else:
                customer.last_name = None
        customers.sort(key=lambda c: c.created)
        for number, customer in enumerate(customers, start=1):
            customer.id = number
        return customers

    def write_customers(self, customers: list[Customer]) -> None:
        rng, rnd = self.rng, self.rnd
        out = self.lines["ajo_ajouser"]
        dob_lo, dob_hi = date(1962, 1, 1).toordinal(), date(2004, 12, 31).toordinal()
        for c in customers:
            state, lgas = self.pick(STATES)
            bvn_verified = rnd() < 0.8
            verified = bvn_verified and rnd() < 0.85
            complete = c.onboarding_complete and rnd() < 0.97
            updated = c.created + (int(rnd() * (self.snapshot - c.created) * 0.3) if rnd() < 0.4
                                   else 0)
            out.append("\t".join((
                str(c.id), str(c.manager.id) if c.manager else t.NULL, c.phone,
                t.text_or_null(c.first_name), t.text_or_null(c.last_name),
                self.pick(FIRST_NAMES) if rnd() < 0.15 else t.NULL,
                t.day(dob_lo + int(rnd() * (dob_hi - dob_lo))) if rnd() < 0.95 else t.NULL,
                self.pick(("MALE", "FEMALE", "FEMALE", t.NULL)),
                self.pick(("SINGLE", "MARRIED", "MARRIED", "DIVORCED", "WIDOWED", t.NULL)),
                state, self.pick(lgas),
                f"{1 + int(rnd() * 120)} {self.pick(STREETS)}, {self.pick(lgas)}",
                f"22{rng.getrandbits(30) % 10**9:09d}" if rnd() < 0.9 else t.NULL,
                f"{rng.getrandbits(40) % 10**11:011d}" if rnd() < 0.6 else t.NULL,
                t.text_or_null(self.pick(TRADES)), t.flag(bvn_verified), t.flag(verified),
                t.flag(complete), "lite" if rnd() < 0.12 else "ajo", t.ts(c.created), t.ts(updated),
            )))

    # -- loans -----------------------------------------------------------------------------------
    def build_loans(self, users: list[User], customers: list[Customer]) -> list[Loan]:
        rng, rnd = self.rng, self.rnd
        agents = [u for u in users if u.originates]
        informal = [u for u in agents if not u.is_officer]
        cumulative = []
        running = 0.0
        for agent in agents:
            running += agent.weight
            cumulative.append(running)
        by_manager: dict[int, list[Customer]] = {}
        for c in customers:
            if c.manager:
                by_manager.setdefault(c.manager.id, []).append(c)
        created_of = {key: [c.created for c in group] for key, group in by_manager.items()}
        all_created = [c.created for c in customers]
        ordinals = self.calendar.ordinals
        lo = self.calendar.index_on_or_after(self.start_day)
        hi = self.calendar.index_on_or_after(self.as_of_day + 1)
        tenor_lookup = rng.choices(range(3), weights=TENOR_WEIGHTS, k=1000)
        n_loans = self.sizes.loans
        n_disbursed = round(n_loans * 0.85)
        loans: list[Loan] = []
        for index in range(n_loans):
            disbursed_flag = index < n_disbursed
            if disbursed_flag:
                day = ordinals[lo + int((hi - lo) * rnd() ** 0.8)]
            else:
                day = self.start_day + int((self.as_of_day - self.start_day + 1) * rnd())
            if index < len(informal):
                agent = informal[index]
            else:
                agent = agents[0]
                for _ in range(40):
                    agent = agents[bisect.bisect_left(cumulative, rnd() * running)]
                    if agent.joined // DAY <= day - 3 and (agent.terminated_day is None or
                                                           day < agent.terminated_day):
                        break
                else:
                    agent = next(a for a in agents if a.joined // DAY <= day - 3
                                 and a.terminated_day is None)
            moment = day * DAY
            group = by_manager.get(agent.id, [])
            eligible = bisect.bisect_left(created_of.get(agent.id, []), moment - DAY)
            if eligible:
                customer = group[int(rnd() * eligible)]
            else:
                eligible = bisect.bisect_left(all_created, moment - DAY)
                customer = customers[int(rnd() * eligible)] if eligible else customers[0]
            tenor = self.pick(tenor_lookup)
            installments = TENORS[tenor][1]
            principal = 20_000 + 5_000 * int(rnd() ** 2.2 * 97)
            if tenor == 0:
                principal = min(principal, 250_000)
            rate = 0 if rnd() < 0.03 else self.pick(RATES[installments])
            fee = principal * self.pick((1, 2, 2, 3)) // 100 if rnd() < 0.8 else 1_500
            nem_fee = None if rnd() < 0.35 else self.pick((200, 500, 1_000))
            if disbursed_flag:
                disbursed = self.work_time(day)
                created = min(disbursed - 600, self.work_time(day - 1 - int(rnd() * 6)))
            else:
                disbursed = None
                created = self.work_time(day)
            loan = Loan(created=max(created, customer.created + 60), agent=agent, customer=customer,
                        tenor=tenor, principal=principal * 100, rate=rate, fee=fee * 100,
                        nem_fee=None if nem_fee is None else nem_fee * 100, disbursed=disbursed)
            if disbursed_flag:
                loan.start_day = day + 4 + int(rnd() * 3)
                loan.first_due_index = self.calendar.index_on_or_after(loan.start_day)
                loan.behaviour = self._behaviour(agent.risk)
            loans.append(loan)
        disbursed = [loan for loan in loans if loan.disbursed is not None]
        self._assign_quirks(disbursed, [loan for loan in loans if loan.disbursed is None])
        loans.sort(key=lambda loan: loan.created)
        for number, loan in enumerate(loans, start=1):
            loan.id = number
        return loans

    def _behaviour(self, risk: float) -> int:
        weights = list(BEHAVIOUR_WEIGHTS)
        weights[DEFAULT] *= risk
        weights[PARTIAL] *= (1 + risk) / 2
        point = self.rnd() * sum(weights)
        for kind, weight in enumerate(weights):
            point -= weight
            if point < 0:
                return kind
        return ON_TIME

    def _assign_quirks(self, disbursed: list[Loan], pending: list[Loan]) -> None:
        """Every quirk of the production data, with a floor so even scale 0.01 has each one."""
        rng = self.rng
        order = disbursed[:]
        rng.shuffle(order)
        plan = (("no_schedule", 0.03, 4), ("zero_repayment_amount", 0.01, 2),
                ("null_start_date", 0.02, 2), ("rejected", 0.005, 2),
                ("zero_amount_disbursed", 0.003, 2), ("null_end_date", 0.01, 2),
                ("zero_interest", 0.005, 2), ("requested_more", 0.05, 2))
        position = 0
        for name, share, minimum in plan:
            take = self.count(len(order), share, minimum)
            for loan in order[position:position + take]:
                loan.quirks.add(name)
            position += take
        no_schedule = [loan for loan in order if "no_schedule" in loan.quirks]
        for loan in no_schedule:
            loan.has_schedule = False
        no_schedule[0].quirks.add("zero_tenor_in_days")
        no_schedule[1].quirks.add("zero_repayment_amount")
        for loan in order:
            if "zero_interest" in loan.quirks:
                loan.rate = 0
        # a loan flagged disbursed whose disbursement never got a date (dropped by the
        # cleaning rule)
        for loan in pending[:self.count(len(pending), 0.002, 1)]:
            loan.quirks.add("disbursed_without_date")

    # -- repayments, schedules, loan outcome ------------------------------------------------------
    def _payments(self, loan: Loan) -> list[tuple[int, int, int]]:
        """The borrower's payments as (day ordinal, kobo, kind), following the loan's behaviour."""
        rnd = self.rnd
        ordinals = self.calendar.ordinals
        k0 = loan.first_due_index
        n, total, daily = loan.installments, loan.total, loan.daily
        kind = loan.behaviour
        off_days = loan.agent.off_days
        stop = k0 + int(n * (0.05 + 0.65 * rnd()))
        early = k0 + int(n * (0.2 + 0.5 * rnd()))
        part = 0.6 + 0.35 * rnd()
        overpay = daily * (1.1 + 0.4 * rnd())
        gap = 0
        paid = 0
        out: list[tuple[int, int, int]] = []
        as_of = self.as_of_day
        j = k0
        while j < len(ordinals):
            day = ordinals[j]
            if day > as_of:
                break
            i = j - k0
            j += 1
            due = daily * (i + 1) if i < n - 1 else total
            if day in off_days:
                continue
            if kind == ON_TIME:
                amount = due - paid if rnd() > 0.1 else 0
            elif kind == PARTIAL:
                if i >= n and rnd() < 0.015:
                    break
                amount = int(daily * part * (0.8 + 0.4 * rnd()) / 10_000) * 10_000
            elif kind == LATE:
                if gap:
                    gap -= 1
                    amount = 0
                elif rnd() < 0.08:
                    gap = 1 + int(rnd() * 7)
                    amount = 0
                else:
                    amount = due - paid
            elif kind == DEFAULT:
                if j > stop:
                    if rnd() < 0.01:
                        amount = min(total - paid,
                                     int(total * (0.05 + 0.2 * rnd()) / 10_000) * 10_000)
                        if amount > 0:
                            out.append((day, amount, RECOVERY))
                            paid += amount
                    continue
                amount = due - paid
            elif kind == OVERPAY:
                out.append((day, int(overpay / 10_000) * 10_000 + 10_000, NORMAL))
                paid += out[-1][1]
                if paid >= total:
                    break
                continue
            else:  # EARLY: pays on time, then settles everything (sometimes a little more) at once
                if j > early:
                    extra = int(rnd() * 5) * 10_000 if rnd() < 0.2 else 0
                    out.append((day, total - paid + extra, NORMAL))
                    break
                amount = due - paid
            amount = min(amount, total - paid)
            if amount > 0:
                out.append((day, amount, NORMAL))
                paid += amount
                if paid >= total:
                    break
        return out

    def simulate(self, loans: list[Loan], users: list[User]) -> None:
        rng, rnd = self.rng, self.rnd
        getrandbits = rng.getrandbits
        snapshot = self.snapshot
        # rows before the applied_to_loan migration: often NULL
        legacy_until = (self.start_day + 120) * DAY
        type_lookup = rng.choices([k for k, _ in REPAYMENT_TYPES],
                                  weights=[w for _, w in REPAYMENT_TYPES], k=1000)
        recovery_agents = [u for u in users if (u.user_type or "").upper() == "RECOVERY_AGENT"]
        rows: list[tuple[int, str]] = []  # (created, line without id)
        candidates: list[tuple[Loan, int, int]] = []  # counted payments, for the rare extra rows
        schedule_out = self.lines["loans_ajoloanschedule"]
        schedule_id = 0
        disbursed = sorted((loan for loan in loans if loan.disbursed is not None),
                           key=lambda x: x.disbursed or 0)
        ordinals = self.calendar.ordinals
        loan_last_row: dict[int, int] = {}
        for loan in disbursed:
            agent_text, borrower_text = str(loan.agent.id), str(loan.customer.id)
            principal_text = t.money(loan.principal)
            kept: list[tuple[int, int, int]] = []  # (created, paid, kobo) as Django allocated them
            for day, amount, kind in self._payments(loan):
                parts = (amount,)
                if amount >= 400_000 and rnd() < 0.02:  # paid in two goes the same day
                    first = int(amount * (0.3 + 0.4 * rnd()) / 100) * 100
                    parts = (first, amount - first)
                paid = self.work_time(day)
                for part in parts:
                    paid += int(rnd() * 1800)
                    marked = "RECOVERY" if kind == RECOVERY else t.NULL
                    if rnd() < 0.015:
                        created = self.work_time(day + 1 + int(rnd() * 6))
                        marked = "BACKDATED"
                    else:
                        created = paid + 5 + int(rnd() * 300)
                    if created > snapshot:
                        continue  # not recorded yet at the snapshot
                    applied = t.NULL if created < legacy_until and rnd() < 0.6 else "t"
                    if created < snapshot - DAY and rnd() < 0.97:
                        settled, updated = "t", min(snapshot, created + 1800 + int(rnd() * 50_000))
                    else:
                        settled, updated = "f", created
                    rep_agent = agent_text
                    choice = rnd()
                    if kind == RECOVERY and recovery_agents:
                        rep_agent = str(self.pick(recovery_agents).id)
                    elif choice < 0.02:
                        rep_agent = t.NULL
                    rows.append((created, "\t".join((
                        str(loan.id), rep_agent, borrower_text if choice < 0.98 else t.NULL,
                        t.money(part), "100.00" if rnd() < 0.05 else "0.00",
                        principal_text if choice < 0.97 else t.NULL,
                        t.text_or_null(self.pick(type_lookup)), t.uuid_text(getrandbits(128)),
                        marked, applied, t.NULL, settled, t.ts(paid), t.ts(created),
                        t.ts(updated)))))
                    kept.append((created, paid, part))
                    candidates.append((loan, paid, part))
            if kept:
                loan_last_row[loan.id] = max(created for created, _, _ in kept)
            self._outcome(loan, kept)
            if loan.has_schedule:
                schedule_id = self._schedule(loan, kept, schedule_id, schedule_out, ordinals)
        self._extra_rows(rows, candidates, loan_last_row)
        for loan in disbursed:
            loan.updated = max(loan.updated, loan_last_row.get(loan.id, 0))
        rows.sort(key=lambda row: row[0])
        self.lines["loans_ajoloanrepayment"] = [f"{number}\t{line}" for number, (_, line) in
                                                enumerate(rows, start=1)]

    def _extra_rows(self, rows: list[tuple[int, str]], candidates: list[tuple[Loan, int, int]],
                    loan_last_row: dict[int, int]) -> None:
        """Rows the metrics must not count: reversals, money not applied, zero/negative amounts,
        no date."""
        rng, rnd = self.rng, self.rnd
        snapshot = self.snapshot
        plan = (("reversal", 0.004, 3), ("not_applied", 0.004, 3), ("zero", 0.0003, 2),
                ("negative", 0.0003, 2), ("no_paid_date", 0.0003, 2))
        for name, share, minimum in plan:
            for loan, paid, amount in rng.sample(candidates,
                                                 self.count(len(candidates), share, minimum)):
                agent, borrower = str(loan.agent.id), str(loan.customer.id)
                # same or one of the next two days, in working hours, after the payment it follows
                when = max(paid + 1800, self.work_time(paid // DAY + int(rnd() * 3)))
                if when > snapshot - 600:
                    when = paid + 1800 + int(rnd() * 1800)
                created = when + 30 + int(rnd() * 300)
                marked, applied, comment, value = t.NULL, "t", t.NULL, amount
                paid_text = t.ts(when)
                if name == "reversal":
                    marked, comment = "REVERSAL", "Reversal of duplicate debit"
                elif name == "not_applied":
                    applied, comment = "f", "Savings contribution routed to loan wallet"
                    value = (500 + int(rnd() * 46) * 100) * 100
                elif name == "zero":
                    value, comment = 0, "Failed debit"
                elif name == "negative":
                    value, comment = -amount, "Correction"
                else:
                    paid_text, comment = t.NULL, "Pending confirmation"
                rows.append((created, "\t".join((
                    str(loan.id), agent, borrower, t.money(value), "0.00", t.money(loan.principal),
                    "TRANSFER", t.uuid_text(rng.getrandbits(128)), marked, applied, comment, "f",
                    paid_text, t.ts(created), t.ts(created)))))
                loan_last_row[loan.id] = max(loan_last_row.get(loan.id, 0), created)

    def _outcome(self, loan: Loan, kept: list[tuple[int, int, int]]) -> None:
        """Status, completion and updated_at as Django would show them at the snapshot."""
        total, paid, completed = loan.total, 0, None
        for created, _, amount in sorted(kept, key=lambda row: row[1]):
            paid += amount
            if paid >= total and completed is None:
                completed = created
        first_due = loan.first_due_index
        installments = self.calendar.ordinals[first_due:first_due + loan.installments]
        loan.end_day = installments[-1]
        status_change = loan.disbursed or 0
        if completed is not None:
            loan.status = "COMPLETED" if self.rnd() < 0.85 else "CLOSED"
            loan.performance = "PERFORMING"
            loan.completed = completed
            status_change = completed
        elif loan.end_day >= self.as_of_day:
            due_now = sum(1 for d in installments if d < self.as_of_day) * loan.daily
            loan.status = "ACTIVE"
            loan.performance = "OWED_BALANCE" if paid < due_now else "PERFORMING"
        else:
            late = self.as_of_day - loan.end_day
            if loan.behaviour == DEFAULT and late > 60:
                loan.status = "DEFAULTED"
                loan.performance = "LOST" if late > 180 else "DEFAULTED"
                status_change = (loan.end_day + 60) * DAY + 3600
            else:
                loan.status = "PAST_MATURITY"
                loan.performance = "PAST_MATURITY"
                status_change = (loan.end_day + 1) * DAY + 3600
        if "rejected" in loan.quirks:
            loan.status = "REJECTED"
        loan.updated = max(status_change, (loan.disbursed or 0) + 120)

    def _schedule(self, loan: Loan, kept: list[tuple[int, int, int]], last_id: int, out: list[str],
                  ordinals: list[int]) -> int:
        """Schedule rows with Django's own bookkeeping: payments allocated oldest-first in the order
        they were recorded. A few loans miss one payment, as production's allocation sometimes
        does."""
        rnd = self.rnd
        n, daily, total = loan.installments, loan.daily, loan.total
        dues = [daily] * (n - 1) + [total - daily * (n - 1)]
        days = ordinals[loan.first_due_index:loan.first_due_index + n]
        created = (loan.disbursed or 0) + 1 + int(rnd() * 30)
        payments = sorted(kept)
        if payments and rnd() < 0.015:
            payments.pop(int(rnd() * len(payments)))
        paid_amounts = [0] * n
        touched: list[tuple[int, int] | None] = [None] * n  # (created, paid) of the last payment
        done_at: list[int | None] = [None] * n
        i = 0
        for pay_created, pay_paid, amount in payments:
            while amount > 0 and i < n:
                take = min(amount, dues[i] - paid_amounts[i])
                paid_amounts[i] += take
                amount -= take
                touched[i] = (pay_created, pay_paid)
                if paid_amounts[i] >= dues[i]:
                    done_at[i] = pay_created
                    i += 1
        as_of = self.as_of_day
        for k in range(n):
            due_day, due, paid = days[k], dues[k], paid_amounts[k]
            done = done_at[k]
            touch = touched[k]
            late_days = max(0, (done // DAY if done is not None else as_of) - due_day)
            last_id += 1
            out.append("\t".join((
                str(last_id), str(loan.id), t.day(due_day), t.money(due), t.money(paid),
                t.money(due - paid), t.flag(done is not None), t.ts_or_null(done),
                t.flag(late_days > 0), str(late_days), t.ts(touch[1]) if touch else t.NULL,
                t.ts(created), t.ts(max(created, touch[0]) if touch else created),
            )))
        return last_id

    def write_loans(self, loans: list[Loan]) -> None:
        rnd = self.rnd
        out = self.lines["loans_ajoloan"]
        pending_statuses = ("OPEN", "OPEN_TO_SUPERVISOR", "APPROVED")
        closed_statuses = ("DECLINED_BY_SUPERVISOR", "REJECTED", "NOT_TAKEN", "NOT_TAKEN")
        for loan in loans:
            customer = loan.customer
            parts = [p for p in (customer.first_name, customer.last_name) if p is not None]
            full_name = " ".join(parts).strip() if parts else None
            name, n = TENORS[loan.tenor]
            total, daily = loan.total, loan.daily
            quirks = loan.quirks
            amount = loan.principal + (int(rnd() * 9 + 1) * 5_000_00 if "requested_more" in quirks
                                       else 0)
            disbursed = loan.disbursed
            if disbursed is not None:
                start_day: int | None = None if "null_start_date" in quirks else loan.start_day
                end_day = loan.end_day
                expected = end_day + (int(rnd() * 3) if rnd() < 0.1 else 0) if end_day else None
                if "null_end_date" in quirks:
                    end_day = None
                status, performance, stage = loan.status, loan.performance, "DISBURSED"
                amount_disbursed = 0 if "zero_amount_disbursed" in quirks else loan.principal
                is_disbursed = True
                updated = loan.updated
            else:
                start_day = end_day = expected = None
                age = self.as_of_day - loan.created // DAY
                status = self.pick(pending_statuses if age < 14 else closed_statuses)
                performance = None
                stage = self.pick(("FACE_MATCH", "CREDIT_CHECK", "SUPERVISOR_REVIEW", None))
                amount_disbursed = 0
                is_disbursed = "disbursed_without_date" in quirks
                if is_disbursed:
                    status, amount_disbursed = "APPROVED", loan.principal
                updated = min(self.snapshot, loan.created + int(rnd() * 3 * DAY))
            repayment_amount = 0 if "zero_repayment_amount" in quirks else total
            out.append("\t".join((
                str(loan.id), str(customer.id), str(loan.agent.id), t.text_or_null(full_name),
                customer.phone, t.money(amount), t.money(amount_disbursed), str(loan.rate),
                t.money(loan.principal * loan.rate // 100), t.money(loan.fee),
                t.money_or_null(loan.nem_fee), t.money(repayment_amount), t.money(daily), name,
                "0" if "zero_tenor_in_days" in quirks else str(n), "DAILY", self._loan_type(loan),
                status, t.text_or_null(performance), t.text_or_null(stage), t.flag(is_disbursed),
                t.ts_or_null(disbursed), t.day_or_null(start_day), t.day_or_null(end_day),
                t.day_or_null(expected), t.ts_or_null(loan.completed), t.ts(loan.created),
                t.ts(max(updated, loan.created)),
            )))

    def _loan_type(self, loan: Loan) -> str:
        agent_type = (loan.agent.user_type or "").upper()
        if agent_type == "PROSPER_AGENT":
            return "PROSPER"
        if agent_type == "DMO_AGENT":
            return "DMO"
        return "BNPL" if loan.id % 11 == 0 else "AJO"

    # -- holidays --------------------------------------------------------------------------------
    def write_holidays(self, users: list[User]) -> None:
        rnd = self.rnd
        rows: list[tuple[int, str]] = []
        for holiday, name in self.holidays:
            # entered in one batch before the year starts; never after the snapshot
            created = min(date(holiday.year - 1, 12, 1).toordinal() * DAY + 9 * 3600,
                          self.snapshot - 30 * DAY)
            rows.append((created, "\t".join((holiday.isoformat(), name, "company", t.NULL,
                                             t.flag(False), t.ts(created), t.ts(created)))))
        for user in users:
            for off in sorted(user.off_days):
                created = max(user.joined + 60, self.work_time(off - 3 - int(rnd() * 11)))
                rows.append((created,
                             "\t".join((t.day(off), self.pick(("Annual leave", "Sick leave",
                                                                "Compassionate leave")),
                                        "agent", str(user.id), t.flag(rnd() < 0.3),
                                        t.ts(created), t.ts(created)))))
        rows.sort(key=lambda row: row[0])
        self.lines["loans_holiday"] = [f"{number}\t{line}"
                                       for number, (_, line) in enumerate(rows, start=1)]


def build(scale: float, seed: int, as_of: date) -> dict[str, list[str]]:
    return Portfolio(scale, seed, as_of).build()
