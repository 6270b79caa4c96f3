"""The rules the code cites live in the repository (issue 9, item 4).

docs/metrics.md is the warehouse's business-rules document, cited everywhere as "rules §N.M"
(section N.M of it), and the docs site's rules page (a dbt docs block). These tests fail when a file
still cites the lender's specification in ../shared (a clone has no ../shared; the one-off
scripts/dev/rewrite_rule_citations.py rewrites the old citations), when a "§N.M" names no heading of
docs/metrics.md, or when the document stops being a page of the docs site."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from .conftest import PROJECT_ROOT

RULES = PROJECT_ROOT / "docs" / "metrics.md"
# not the project's files: environments, build output, the warehouse's data, caches
SKIP_DIRS = {".git", ".venv", "target", "logs", ".warehouse", "dbt_packages", "artifacts",
             "__pycache__", ".pytest_cache", ".ruff_cache"}
# the specification's file name anywhere, or any document of ../shared (its source-contract folder
# is test input, not a citation: the loader and generator tests read it when it is there)
SHARED_CITATION = re.compile(r"METRICS\.md|\.\./shared/[A-Za-z_-]+\.md")
RULE_CITATION = re.compile(r"§ ?(\d+(?:\.\d+)?)")
# "## 2. Loan state on day D" is section 2, "### 2.3 Days past due (DPD)" is rule 2.3
SECTION_HEADING = re.compile(r"^## (\d+)\. \S")
RULE_HEADING = re.compile(r"^### (\d+)\.(\d+) \S")
# the first and last lines of the docs block (written so that GitHub and the docs site hide them)
BLOCK_OPEN = "<!-- {% docs __seeds_metrics__ %}[//]: -->"
BLOCK_CLOSE = "[//]: #{%enddocs%}"
SECTIONS = [str(number) for number in range(6)]  # 0 (the preamble) to 5


def project_lines() -> Iterator[tuple[Path, int, str]]:
    """Every line of every text file of the project: (path from the root, line number, line)."""
    for path in sorted(PROJECT_ROOT.rglob("*")):
        relative = path.relative_to(PROJECT_ROOT)
        if not path.is_file() or SKIP_DIRS.intersection(relative.parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary: cites nothing
        for number, line in enumerate(text.splitlines(), start=1):
            yield relative, number, line


def rule_numbers() -> list[str]:
    """The section and rule numbers of docs/metrics.md's headings, in document order."""
    numbers = []
    for line in RULES.read_text(encoding="utf-8").splitlines():
        if section := SECTION_HEADING.match(line):
            numbers.append(section.group(1))
        elif rule := RULE_HEADING.match(line):
            numbers.append(f"{rule.group(1)}.{rule.group(2)}")
    return numbers


def test_no_file_cites_the_shared_specification() -> None:
    offenders = [f"{path}:{number}: {line.strip()}"
                 for path, number, line in project_lines() if SHARED_CITATION.search(line)]
    assert not offenders, (
        f"{len(offenders)} line(s) cite documents of ../shared, which a clone does not have; cite "
        "docs/metrics.md as 'rules §N.M' (python3 scripts/dev/rewrite_rule_citations.py rewrites "
        "them):\n" + "\n".join(offenders[:80]))


def test_every_cited_rule_is_a_heading_of_the_rules_document() -> None:
    known = set(rule_numbers())
    unknown = [f"{path}:{number}: §{cited}: {line.strip()}"
               for path, number, line in project_lines()
               for cited in RULE_CITATION.findall(line) if cited not in known]
    assert not unknown, (
        "citations of rules that docs/metrics.md has no heading for:\n" + "\n".join(unknown))


def test_rules_are_numbered_in_order_under_their_section() -> None:
    """Sections 0 to 5, each followed by its rules N.1, N.2, ... in order: a number is never reused
    or skipped (a withdrawn rule keeps its heading), so a citation keeps its meaning."""
    numbers = rule_numbers()
    expected: list[str] = []
    for section in SECTIONS:
        count = sum(1 for number in numbers if number.startswith(f"{section}."))
        expected += [section, *(f"{section}.{index}" for index in range(1, count + 1))]
    assert numbers == expected, f"docs/metrics.md headings are numbered {numbers}"


def test_rules_document_is_one_docs_block_without_jinja() -> None:
    """The whole document is the dbt docs block __seeds_metrics__ (the project's page of the docs
    site); dbt renders a block as Jinja, so nothing inside may look like a Jinja tag."""
    lines = RULES.read_text(encoding="utf-8").splitlines()
    assert BLOCK_OPEN in lines and lines[-1] == BLOCK_CLOSE, (
        f"docs/metrics.md must open its docs block with the line {BLOCK_OPEN!r} "
        f"and end with the line {BLOCK_CLOSE!r}")
    start = lines.index(BLOCK_OPEN)
    before = [line for line in lines[:start]
              if SECTION_HEADING.match(line) or RULE_HEADING.match(line)]
    assert not before, f"rules outside the docs block: {before}"
    jinja = [f"line {number}: {line}"
             for number, line in enumerate(lines[start + 1:-1], start=start + 2)
             if re.search(r"\{[{%#]", line)]
    assert not jinja, (
        "Jinja delimiters inside the docs block (dbt would render them):\n" + "\n".join(jinja))


def test_dbt_finds_the_rules_and_every_other_doc_block() -> None:
    """docs-paths replaces dbt's default (every resource path): it must keep those paths, so the doc
    blocks in models/ (and any in macros/, seeds/, ...) are still found, and add docs/."""
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    resource_keys = ("model-paths", "seed-paths", "test-paths", "macro-paths", "snapshot-paths",
                     "analysis-paths")
    resource_paths = {path for key in resource_keys for path in project.get(key, [])}
    docs_paths = set(project.get("docs-paths", []))
    assert "docs" in docs_paths, "dbt_project.yml docs-paths must include docs (docs/metrics.md)"
    assert resource_paths <= docs_paths, f"docs-paths lost {sorted(resource_paths - docs_paths)}"
    overview = (PROJECT_ROOT / "models" / "overview.md").read_text(encoding="utf-8")
    assert "(#!/overview/seeds_metrics)" in overview, (
        "the docs site's overview must link to the rules page")
