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


def yaml_files_with_key(key: str) -> list[Path]:
    return sorted(path for path in (PROJECT_ROOT / "models").rglob("*.yml")
                  if re.search(rf"^{key}:", path.read_text(), re.MULTILINE))


def test_unit_tests_live_in_their_folders_unit_test_file() -> None:
    misplaced = [str(path.relative_to(PROJECT_ROOT)) for path in yaml_files_with_key("unit_tests")
                 if path.name != f"_{path.parent.name}__unit_tests.yml"]
    assert misplaced == [], "unit tests belong in _<folder>__unit_tests.yml"


def test_all_exposures_live_in_one_file() -> None:
    files = [str(path.relative_to(PROJECT_ROOT)) for path in yaml_files_with_key("exposures")]
    assert files == ["models/marts/_exposures.yml"]


def test_macros_live_in_domain_folders_with_one_schema_file() -> None:
    macros = PROJECT_ROOT / "macros"
    assert not list(macros.glob("*.sql")), "a macro belongs in a domain folder of macros/"
    folders = sorted(path for path in macros.iterdir() if path.is_dir())
    assert len(folders) >= 5
    for folder in folders:
        assert [path.name for path in folder.glob("*.yml")] == ["_schema.yml"], folder.name


def test_macros_and_generic_tests_keep_to_100_columns() -> None:
    """sqlfluff cannot lint macro bodies (.sqlfluffignore says why); the line length it enforces on
    models and tests (100) is checked here for the files it skips."""
    skipped = MACROS + sorted((PROJECT_ROOT / "tests" / "generic").glob("*.sql"))
    long_lines = [f"{path.relative_to(PROJECT_ROOT)}:{number}"
                  for path in skipped
                  for number, line in enumerate(path.read_text().splitlines(), start=1)
                  if len(line) > 100]
    assert long_lines == []
