"""Analyst docs (issue 6.4): the static docs site, its exposures and overview, and the lineage graph
of par15_snapshots as Debian's headless chromium renders it.

`dbt docs generate --static --empty-catalog` writes one self-contained HTML file (the lineage comes
from the manifest, so no warehouse build is needed). Chromium (installed by
scripts/install_chromium.sh when missing) opens it over the DevTools protocol, opens the model's
lineage graph full screen, reads the nodes the page drew, and saves a screenshot to
artifacts/docs-lineage.png."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import PROJECT_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
PROJECT = "seeds_metrics"
MODEL = "par15_snapshots"
SCREENSHOT = PROJECT_ROOT / "artifacts" / "docs-lineage.png"
WINDOW = (1600, 1000)
# the dashboards that read the marts (models/marts/_exposures.yml): exposure -> marts it reads
DASHBOARDS = {
    "officer_leaderboard": {"officer_metrics_daily", "dim_officers"},
    "branch_par15_trend": {"branch_metrics_daily", "par15_snapshots"},
    "collections": {"fct_repayments", "officer_metrics_daily"},
}


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's chromium, installed on first use (a one-time cost; skipped when present)."""
    if not CHROMIUM.exists():
        result = subprocess.run(["bash", str(PROJECT_ROOT / "scripts" / "install_chromium.sh")],
                                capture_output=True, text=True, timeout=1200)
        assert result.returncode == 0, f"installing chromium failed:\n{result.stderr[-2000:]}"
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is not executable"
    return CHROMIUM


@pytest.fixture(scope="module")
def docs_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A target folder holding the static docs site and the manifest it embeds."""
    target = tmp_path_factory.mktemp("docs-target")
    result = subprocess.run(
        [sys.executable, "-m", "seedsmetrics", "dbt", "docs", "generate", "--static",
         "--empty-catalog", "--target-path", str(target), "--log-path", str(target / "logs")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, \
        f"dbt docs generate failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
    return target


@pytest.fixture(scope="module")
def manifest(docs_target: Path) -> dict[str, Any]:
    return json.loads((docs_target / "manifest.json").read_text())


def lineage(manifest: dict[str, Any], unique_id: str) -> tuple[set[str], set[str]]:
    """All ancestors and all descendants of a node (transitively), from the manifest's maps."""

    def walk(edges: dict[str, list[str]]) -> set[str]:
        seen: set[str] = set()
        todo = list(edges.get(unique_id, []))
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(edges.get(node, []))
        return seen

    return walk(manifest["parent_map"]), walk(manifest["child_map"])


class Chromium:
    """Headless chromium driven over the Chrome DevTools protocol (one page, one websocket)."""

    FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--remote-debugging-port=0")

    def __init__(self, binary: Path, profile: Path):
        import websocket

        self.process = subprocess.Popen(
            [str(binary), *self.FLAGS, f"--user-data-dir={profile}",
             f"--window-size={WINDOW[0]},{WINDOW[1]}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30,
                                                  suppress_origin=True)
        self.next_id = 0
        self.call("Emulation.setDeviceMetricsOverride", width=WINDOW[0], height=WINDOW[1],
                  deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:  # skip events until our answer
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, f"{method}: {message['error']}"
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, \
            f"{expression!r} raised: {result['exceptionDetails']}"
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(
                f"(() => {{ try {{ return {expression}; }} catch (e) {{ return null; }} }})()")
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")

    def screenshot(self, path: Path) -> bytes:
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        return png

    def close(self) -> None:
        if getattr(self, "socket", None):
            self.socket.close()
        if self.process.poll() is None:
            # chromium and its helpers (our own session)
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Chromium]:
    with tempfile.TemporaryDirectory(prefix="seeds-chromium-") as profile:
        page = Chromium(chromium, Path(profile))
        try:
            yield page
        finally:
            page.close()


GRAPH = "angular.element(document.body).injector().get('graph')"


def test_static_docs_is_one_self_contained_file(docs_target: Path,
                                                manifest: dict[str, Any]) -> None:
    html = (docs_target / "static_index.html").read_text()
    assert len(html) > 500_000, "the static site embeds the manifest and the catalog"
    assert f"model.{PROJECT}.{MODEL}" in html, f"{MODEL} is in the embedded manifest"
    external = re.findall(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"(?:https?:)?//[^\"]+\"",
                          html)
    assert external == [], f"the static docs must not load anything from the network: {external}"
    overview = manifest["docs"].get(f"doc.{PROJECT}.__overview__", {})
    assert overview.get("original_file_path") == "models/overview.md"


def test_lineage_graph_of_par15_snapshots_renders_its_upstream(
        browser: Chromium, docs_target: Path, manifest: dict[str, Any]) -> None:
    unique_id = f"model.{PROJECT}.{MODEL}"
    assert unique_id in manifest["nodes"], f"{MODEL} is not a model of the project"
    ancestors, descendants = lineage(manifest, unique_id)
    upstream_models = {manifest["nodes"][node]["name"] for node in ancestors
                       if node.startswith("model.")}
    assert "int_loan_days" in upstream_models, "PAR15 snapshots derive from the loan-day state"

    browser.call("Page.enable")
    browser.call("Page.navigate",
                 url=f"{(docs_target / 'static_index.html').as_uri()}#!/model/{unique_id}")
    browser.wait_for("document.querySelector('.launcher-btn a') && "
                     f"document.body.innerText.includes('{MODEL}')",
                     f"the {MODEL} model page")
    browser.evaluate("document.querySelector('.launcher-btn a').click()")  # "View Lineage Graph"
    browser.wait_for(f"{GRAPH}.orientation === 'sidebar' && {GRAPH}.graph.elements.length > 0",
                     "the lineage panel")
    browser.evaluate("document.querySelector('a[title=\"View Fullscreen\"]').click()")
    browser.wait_for(f"{GRAPH}.orientation === 'fullscreen'", "the full-screen lineage graph")
    # the page's own data: the selector it applied and the nodes it put in the graph
    selection = browser.evaluate("angular.element(document.body).injector()"
                                 ".get('selectorService').selection.clean.include")
    assert selection == f"+{MODEL}+"
    # what cytoscape drew: every node with its label and rendered box inside the canvas
    drawn = browser.wait_for(
        """(() => {
            const host = Array.from(document.querySelectorAll('*'))
                .find(e => e._cyreg && e._cyreg.cy);
            const cy = host._cyreg.cy, box = host.getBoundingClientRect();
            const nodes = cy.nodes().filter(n => n.visible()).map(n => {
                const b = n.renderedBoundingBox();
                return {id: n.data('unique_id'), label: n.data('label'),
                        inside: b.x1 >= 0 && b.y1 >= 0 && b.x2 <= box.width && b.y2 <= box.height};
            });
            return nodes.length > 1 && cy.edges().length > 0 ? nodes : null;
        })()""", "cytoscape to draw the graph")
    # cytoscape animates the fit and draws blurred textures meanwhile: wait for a still viewport
    still = """(() => {
        const cy = Array.from(document.querySelectorAll('*'))
            .find(e => e._cyreg && e._cyreg.cy)._cyreg.cy;
        const view = JSON.stringify([cy.zoom(), cy.pan()]);
        const was = window.__seedsView;
        window.__seedsView = view;
        return view === was && !cy.animated() && cy.nodes().every(n => !n.animated());
    })()"""
    browser.wait_for(still, "the graph to stop moving")
    time.sleep(1)  # the final, sharp frame
    SCREENSHOT.unlink(missing_ok=True)
    png = browser.screenshot(SCREENSHOT)

    drawn_ids = {node["id"] for node in drawn}
    assert unique_id in drawn_ids
    missing = sorted(manifest["nodes"].get(n, {}).get("name", n) for n in ancestors - drawn_ids)
    assert missing == [], f"upstream of {MODEL} missing from the lineage graph: {missing}"
    strangers = sorted(drawn_ids - ancestors - descendants - {unique_id})
    assert strangers == [], f"nodes outside the lineage of {MODEL} drawn: {strangers}"
    off_screen = sorted(node["label"] for node in drawn if not node["inside"])
    assert off_screen == [], f"nodes drawn outside the visible graph: {off_screen}"
    labels = {node["label"] for node in drawn}
    assert upstream_models <= labels, f"model labels missing: {sorted(upstream_models - labels)}"
    # a real picture of the graph, not a blank page
    assert png.startswith(b"\x89PNG") and len(png) > 30_000, \
        f"screenshot looks empty ({len(png)} bytes)"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == WINDOW


def test_overview_page_explains_the_metrics(browser: Chromium, docs_target: Path,
                                            manifest: dict[str, Any]) -> None:
    overview = manifest["docs"][f"doc.{PROJECT}.__overview__"]["block_contents"]
    # every doc block the overview names exists, and every metric doc block is named
    named_blocks = set(re.findall(r"doc block `([a-z0-9_]+)`", overview))
    project_blocks = {doc["name"] for doc in manifest["docs"].values()
                      if doc["package_name"] == PROJECT and doc["name"] != "__overview__"}
    assert named_blocks, "the overview points to the metric doc blocks"
    assert named_blocks <= project_blocks, \
        f"unknown doc blocks: {sorted(named_blocks - project_blocks)}"
    for metric in ("glp", "par15", "dpd", "dpd_bucket", "fimr", "principal_outstanding", "arrears"):
        assert metric in named_blocks, f"the overview does not explain {metric}"
    # every link to a model, exposure or seed page resolves to a node of the project
    links = set(re.findall(r"\(#!/(?:model|exposure|seed|source)/([^)\s]+)\)", overview))
    known = set(manifest["nodes"]) | set(manifest["exposures"]) | set(manifest["sources"])
    assert links, "the overview links to the marts"
    assert links <= known, f"overview links to unknown nodes: {sorted(links - known)}"

    browser.call("Page.enable")
    browser.call("Page.navigate", url=f"{(docs_target / 'static_index.html').as_uri()}#!/overview")
    text = browser.wait_for("document.body.innerText.includes('Seeds Metrics') && "
                            "document.body.innerText",
                            "the overview page")
    for phrase in ("PAR15", "Gross loan portfolio", "Days past due", "officer_metrics_daily"):
        assert phrase in text, f"the rendered overview lacks {phrase!r}"


def test_exposures_name_the_dashboards_that_read_the_marts(manifest: dict[str, Any]) -> None:
    exposures = {e["name"]: e for e in manifest["exposures"].values()
                 if e["package_name"] == PROJECT}
    for name, marts in DASHBOARDS.items():
        assert name in exposures, f"exposure {name} missing"
        exposure = exposures[name]
        reads = {manifest["nodes"][node]["name"] for node in exposure["depends_on"]["nodes"]}
        assert reads == marts, f"{name} reads {sorted(reads)}, expected {sorted(marts)}"
        assert exposure["type"] == "dashboard"
        assert exposure["owner"]["email"] and exposure["owner"]["name"]
        assert exposure["url"].startswith("https://")
        assert exposure["maturity"] in ("low", "medium", "high")
        assert len(exposure["description"]) > 40
        for node in exposure["depends_on"]["nodes"]:
            config = manifest["nodes"][node]["config"]
            assert node.startswith("model.") and manifest["nodes"][node]["access"] == "public", node
            assert config["contract"]["enforced"], f"{node}: dashboards read contracted marts only"


def test_design_doc_dag_is_the_manifest_lineage(docs_target: Path) -> None:
    """docs/DESIGN.md's picture of the project is dbt's own lineage (scripts/dev/design_dag.py)."""
    design = PROJECT_ROOT / "docs" / "DESIGN.md"
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "dev" / "design_dag.py"),
         "--manifest", str(docs_target / "manifest.json"), "--check", str(design)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_docs_site_shows_the_incremental_chain(manifest: dict[str, Any]) -> None:
    """docs/incremental.md's chain (doc block incremental_chain) is on the change feed's page."""
    feed = manifest["nodes"]["model.seeds_metrics.int_daily_changes"]
    assert "The incremental chain of the daily models" in feed["description"]
    assert "Checklist: adding a daily mart" not in feed["description"]  # the repo-only part
