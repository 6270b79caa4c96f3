"""The business rules in the docs site (issue 9, item 4): docs/metrics.md is the docs block
__seeds_metrics__, which the site shows as the project's page (#!/overview/seeds_metrics), linked
from the overview. Debian's headless chromium renders it: every rule heading is there, and nothing
of the block's delimiter lines (hidden as a link definition and an HTML comment) shows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from . import test_docs_site as site
from .conftest import PROJECT_ROOT
from .test_docs_site import PROJECT, Chromium

# the static site and the browser of test_docs_site (module-scoped, so made again for this module)
chromium, browser = site.chromium, site.browser
docs_target, manifest = site.docs_target, site.manifest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RULES = PROJECT_ROOT / "docs" / "metrics.md"
RULES_PAGE = f"#!/overview/{PROJECT}"
HEADING = re.compile(r"^#{1,3} (.+)$", re.MULTILINE)
# what would show if the block's first or last line were not hidden, or Jinja leaked through
DELIMITER_RESIDUE = ("[//]", "-->", "<!--", "{%", "%}", "enddocs", "__seeds_metrics__")


def rule_headings() -> list[str]:
    """The headings of docs/metrics.md inside its docs block, as the reader sees them."""
    text = RULES.read_text(encoding="utf-8")
    return HEADING.findall(text[text.index("[//]: -->"):])


def test_rules_document_is_the_projects_docs_page(docs_target: Path,
                                                   manifest: dict[str, Any]) -> None:
    doc = manifest["docs"].get(f"doc.{PROJECT}.__{PROJECT}__")
    assert doc, "no docs block __seeds_metrics__: is docs/ in dbt_project.yml's docs-paths?"
    assert doc["original_file_path"] == "docs/metrics.md"
    headings = rule_headings()
    assert len(headings) > 40, f"only {len(headings)} headings in docs/metrics.md"
    missing = [heading for heading in headings if heading not in doc["block_contents"]]
    assert missing == [], f"headings missing from the docs block: {missing}"
    # the overview still comes from models/overview.md, and every doc block of models/ is found
    overview = manifest["docs"][f"doc.{PROJECT}.__overview__"]
    assert overview["original_file_path"] == "models/overview.md"
    paths = {doc["original_file_path"] for doc in manifest["docs"].values()}
    assert "models/docs/metric_definitions.md" in paths, "the column doc blocks are still found"
    html = (docs_target / "static_index.html").read_text(encoding="utf-8")
    assert "2.3 Days past due" in html, "the static site embeds the rules"


def test_overview_links_to_the_rendered_rules_page(browser: Chromium, docs_target: Path) -> None:
    browser.call("Page.enable")
    browser.call("Page.navigate", url=f"{(docs_target / 'static_index.html').as_uri()}#!/overview")
    link = f"document.querySelector('a[href=\"{RULES_PAGE}\"]')"
    browser.wait_for(f"!!{link}", "the overview's link to the rules page")
    browser.evaluate(f"{link}.click()")
    opened = (f"location.hash.endsWith('{RULES_PAGE[1:]}')"
              " && document.body.innerText.includes('Oldest-first allocation')")
    browser.wait_for(opened, "the rules page")
    page = browser.evaluate("""(() => {
        const panel = document.querySelector('.panel-body');
        return {text: panel.innerText,
                headings: Array.from(panel.querySelectorAll('h1, h2, h3'))
                    .map(h => h.innerText.trim()),
                tables: panel.querySelectorAll('table').length};
    })()""")
    assert page["headings"] == rule_headings(), "the page's headings differ from docs/metrics.md's"
    tables = RULES.read_text(encoding="utf-8").count("\n|---")
    assert page["tables"] == tables > 0, f"{page['tables']} of the rules' {tables} tables rendered"
    residue = [part for part in DELIMITER_RESIDUE if part in page["text"]]
    assert residue == [], f"the rules page shows the docs block's markup: {residue}"
    for phrase in ("rules §2.3", "Status: not yet built (issue 10)",
                   "Status: partly built (issue 10)"):
        assert phrase in page["text"], f"the rendered rules page lacks {phrase!r}"
