"""dbt's artifacts, read and judged: node statuses counted, a retry's results merged, a failed
build judged transient or not, source freshness summed up."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

# A failed first `dbt build` is retried (once, with `dbt retry`) only when an error looks like the
# connection or the server, not like our SQL or our data: one of these in an errored node's
# message, or in dbt's output when it died before writing run_results.json. Failed tests are never
# transient.
TRANSIENT_PATTERNS = (
    "could not connect to server",
    "connection refused",
    "connection timed out",
    "timeout expired",
    "server closed the connection unexpectedly",
    "terminating connection",
    "connection already closed",
    "no connection to the server",
    "could not receive data from server",
    "could not send data to server",
    "ssl syscall error",
    "ssl connection has been closed unexpectedly",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "too many connections",
    "remaining connection slots are reserved",
    "deadlock detected",
    "could not serialize access",
    "canceling statement due to conflict with recovery",
)

Results = list[dict[str, Any]]


def read_results(path: Path) -> Results | None:
    """The `results` of a run_results.json or sources.json; None when it is missing or broken."""
    try:
        return list(json.loads(path.read_text()).get("results", []))
    except (OSError, ValueError):
        return None


def summarize_run_results(results: Results) -> dict[str, dict[str, int]]:
    """Counts of node statuses per resource type: {"model": {"success": 40}, "test": {...}}."""
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for result in results:
        resource_type = str(result.get("unique_id", "unknown.")).split(".", 1)[0]
        counts[resource_type][str(result.get("status"))] += 1
    return {kind: dict(sorted(counter.items())) for kind, counter in sorted(counts.items())}


def flat_counts(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    """{"model": {"success": 3}} -> {"model_success": 3} (one log field per count)."""
    return {f"{kind}_{status}".replace(" ", "_").replace("-", "_"): number
            for kind, statuses in counts.items() for status, number in statuses.items()}


def failed_nodes(results: Results | None) -> list[str]:
    """The unique ids of the nodes that errored or failed."""
    return [r["unique_id"] for r in results or [] if r.get("status") in ("error", "fail")]


def merge_retry(first: Results, retried: Results) -> Results:
    """The build's results with the nodes `dbt retry` ran again replaced by their new results."""
    by_id = {result["unique_id"]: result for result in first}
    by_id.update({result["unique_id"]: result for result in retried})
    return list(by_id.values())


def is_transient(results: Results | None, output_tail: str = "") -> bool:
    """Whether a failed build is worth one `dbt retry` (see TRANSIENT_PATTERNS)."""
    if results is None:  # dbt died before writing run_results.json: judge by its output
        return _matches_transient(output_tail)
    return any(result.get("status") in ("error", "runtime error")
               and _matches_transient(str(result.get("message") or "")) for result in results)


def _matches_transient(text: str) -> bool:
    lowered = text.lower()
    return any(pattern in lowered for pattern in TRANSIENT_PATTERNS)


def freshness_counts(sources_json: Path) -> tuple[dict[str, int], list[str]]:
    """Counts of freshness statuses and the names of the sources not passing."""
    results = read_results(sources_json) or []
    counts = collections.Counter(str(result.get("status")) for result in results)
    stale = sorted(f"{_source_name(result)}:{result.get('status')}"
                   for result in results if result.get("status") != "pass")
    return dict(sorted(counts.items())), stale


def _source_name(result: dict[str, Any]) -> str:
    return str(result.get("unique_id", "")).removeprefix("source.seeds_metrics.")
