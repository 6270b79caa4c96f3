#!/usr/bin/env python3
"""Rewrite the citations of the lender's specification (the METRICS file of ../shared, absent from a
clone) into citations of the project's own rules document, docs/metrics.md, in the form
"rules §N.M" (section N.M of docs/metrics.md; "rules §N" for a whole section).

A one-off, mechanical rewrite: an ordered list of exact patterns, the specific ones first (a
citation whose wording says which rule it means gets that rule's number), then two fallbacks (a bare
section number keeps its section; any other mention becomes docs/metrics.md). Idempotent.

    python3 scripts/dev/rewrite_rule_citations.py                 # the whole repository
    python3 scripts/dev/rewrite_rule_citations.py models macros   # some files or folders
    python3 scripts/dev/rewrite_rule_citations.py --check         # change nothing, list the rest

scripts/tests/test_rules_citations.py fails while any old citation is left, or when a "§N.M" names
no heading of docs/metrics.md. Standard library only."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# never rewritten: build output, environments, caches, version control
SKIP_DIRS = {".git", ".venv", "target", "logs", ".warehouse", "dbt_packages", "artifacts",
             "__pycache__", ".pytest_cache", ".ruff_cache"}
SPEC = r"METRICS\.md"  # the old document's file name, as a pattern
LEFT_OVER = re.compile(rf"{SPEC}|\.\./shared/[A-Za-z_-]+\.md")

# (pattern, replacement), applied in this order to each file (no pattern spans two lines)
RULES: list[tuple[str, str]] = [
    # the document itself
    (rf"\.\./shared/{SPEC}", "docs/metrics.md"),
    # scripts/tests/conftest.py finds ../shared by this file; the folder is needed for the source
    # contract only, so look for that instead
    (rf'\(path / "{SPEC}"\)\.exists\(\)', '(path / "source-contract").is_dir()'),
    # §0, the preamble: money and ratios, the business day
    (rf"{SPEC} preamble", "rules §0.3"),
    (rf'{SPEC}([:,]) "day"', r'rules §0.3\1 "day"'),
    (rf"A ratio as {SPEC} defines them", "A ratio per rules §0.2 and §3.2"),
    (rf"the ratio rule of {SPEC} 3", "the ratio rule, rules §3.3"),
    (rf"{SPEC}'s defaults", "the defaults of rules §0.1"),
    # §1, cleaned entities
    (rf"{SPEC} 1, Officers", "rules §1.1, Officers"),
    (rf"{SPEC} 1, Customers", "rules §1.2, Customers"),
    (rf"{SPEC} 1, Loans", "rules §1.3, Loans"),
    (rf"{SPEC} 1, Repayments", "rules §1.4, Repayments"),
    (rf"{SPEC} 1, Installments", "rules §1.5, Installments"),
    (rf"{SPEC} 1: (Lagos|user types)", r"rules §1.1: \1"),
    (rf"{SPEC} 1: is_counted", "rules §1.4: is_counted"),
    (rf"left out of the portfolio \({SPEC} 1\)", "left out of the portfolio (rules §1.3)"),
    (rf"\({SPEC} 1\), which the mart", "(rules §1.2), which the mart"),
    # §2, loan state
    (rf"{SPEC} 2 \(and FIMR, section 3\)", "rules §2 (and FIMR, §3.9)"),
    (rf"{SPEC} 2, and FIMR from section 3", "rules §2, and FIMR from §3.9"),
    (rf"Days-past-due buckets \({SPEC} 2\)", "Days-past-due buckets (rules §2.9)"),
    (rf"{SPEC} 2: the DPD buckets", "rules §2.9: the DPD buckets"),
    (rf"{SPEC} 2-3", "rules §2.9, §3.1"),
    # §3, portfolio metrics
    (rf"{SPEC} 3, officer metrics per day", "rules §3.4, officer metrics per day"),
    (rf"{SPEC} 3, (branch|portfolio) metrics per day", r"rules §3.5, \1 metrics per day"),
    (rf"{SPEC} 3, (DPD )?transitions", r"rules §3.6, \1transitions"),
    (rf"{SPEC} 3, PAR15 snapshots", "rules §3.8, PAR15 snapshots"),
    (rf"{SPEC} 3, (monthly roll-rate matrix|roll rates)", r"rules §3.7, \1"),
    (rf"{SPEC} 3, PAR and the officer-day grain",
     "rules §3.2, PAR and the officer-day grain"),
    (rf"{SPEC} 3, (recomputed independently|the day's flows)", r"rules §3.4, \1"),
    (rf"{SPEC} 3 recomputed", "rules §3.4 recomputed"),
    (rf"PAR levels \({SPEC} 3\)", "PAR levels (rules §3.2)"),
    (rf"{SPEC} 3: FIMR", "rules §3.9: FIMR"),
    (rf"{SPEC} 3: (par15_snapshots|a PAR15 snapshot|every PAR15 snapshot)", r"rules §3.8: \1"),
    (rf"{SPEC} 3: (a branch's PAR15 ratio|the portfolio PAR ratio|at officer, branch and portfolio"
     r"|at every level)", r"rules §3.3: \1"),
    (rf"{SPEC} 3: (branch totals|portfolio totals"
     r"|every measure of (branch|portfolio)_metrics_daily)", r"rules §3.5: \1"),
    (rf"{SPEC} 3: (PAR1/PAR15/PAR30 amounts|a PAR amount)", r"rules §3.2: \1"),
    (rf"{SPEC} 3: dpd_transitions", "rules §3.6: dpd_transitions"),
    (rf"{SPEC} 3: (officer_metrics_daily has one row|one row per officer per day)",
     r"rules §3.4: \1"),
    # §4, time and history
    (rf"{SPEC} 4: an incremental run", "rules §4.2: an incremental run"),
    (rf"\({SPEC} 4\): var as_of_date", "(rules §4.3): var as_of_date"),
    # fallbacks: a section number stays a section; any other mention names the new document
    (rf"{SPEC} ([1-5])(?![0-9])", r"rules §\1"),
    (SPEC, "docs/metrics.md"),
]
COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in RULES]


def files_under(paths: list[Path]) -> list[Path]:
    """The text files of the given files and folders, build output and environments left out."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
            continue
        for candidate in sorted(path.rglob("*")):
            relative = candidate.relative_to(path).parts
            if candidate.is_file() and not SKIP_DIRS.intersection(relative):
                found.append(candidate)
    return found


def rewrite(text: str) -> str:
    for pattern, replacement in COMPILED:
        text = pattern.sub(replacement, text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        help="files or folders (default: the repository)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a citation is left")
    args = parser.parse_args(argv)

    changed, left = 0, 0
    for path in files_under(args.paths or [ROOT]):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary or unreadable: no citation to rewrite
        new = rewrite(text)
        if new != text:
            changed += 1
            print(f"{'would rewrite' if args.check else 'rewrote'} {path}")
            if not args.check:
                path.write_text(new, encoding="utf-8")
        for number, line in enumerate(new.splitlines(), start=1):
            if LEFT_OVER.search(line):  # no pattern covers it: a hand edit
                left += 1
                print(f"left for a hand edit: {path}:{number}: {line.strip()}", file=sys.stderr)
    done = "to rewrite" if args.check else "rewritten"
    print(f"{changed} file(s) {done}; {left} line(s) left for a hand edit")
    return 1 if left or (args.check and changed) else 0

if __name__ == "__main__":
    sys.exit(main())
