"""Structure rules of the dbt project that dbt-bouncer cannot see (issue 9): macros take what they
read as arguments (no ref() or source() inside a macro, so the lineage is the real one), and no
model's behaviour depends on its own name (renaming a model must not change what it computes)."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import PROJECT_ROOT

MACROS = sorted((PROJECT_ROOT / "macros").rglob("*.sql"))
SQL_FILES = MACROS + sorted((PROJECT_ROOT / "models").rglob("*.sql"))
REF_OR_SOURCE = re.compile(r"\b(ref|source)\s*\(")
# a model's own name read in Jinja: this.identifier / this.name / this.table, model.name, ...
OWN_NAME = re.compile(r"\b(this\.(identifier|name|table)|model\.(name|alias|unique_id))\b")


def offending_lines(files: list[Path], pattern: re.Pattern[str]) -> list[str]:
    found = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line):
                found.append(f"{path.name}:{number}: {line.strip()}")
    return found


def test_the_project_has_macros_and_models_to_check() -> None:
    assert len(MACROS) >= 10 and len(SQL_FILES) > len(MACROS) + 20


def test_no_macro_calls_ref_or_source() -> None:
    assert offending_lines(MACROS, REF_OR_SOURCE) == [], (
        "a macro must take the relation it reads as an argument"
    )


def test_no_model_or_macro_reads_its_own_name() -> None:
    assert offending_lines(SQL_FILES, OWN_NAME) == [], "behaviour must not depend on a model's name"


def test_the_checks_catch_what_they_forbid(tmp_path: Path) -> None:
    planted = tmp_path / "planted.sql"
    planted.write_text(
        "{% macro m() %}select * from {{ ref('x') }}"
        " {% if this.identifier == 'y' %}{% endif %}{% endmacro %}\n"
    )
    assert offending_lines([planted], REF_OR_SOURCE)
    assert offending_lines([planted], OWN_NAME)
