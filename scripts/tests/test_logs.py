"""The helpers the loader and the pipeline share: the structured logger, text safe to print, the
pause hook. Pure unit tests (no database)."""

from __future__ import annotations

import io
import json

import psycopg
import pytest

from seedsmetrics.loader.progress import LOGGER, Progress
from seedsmetrics.logs import Log, format_value
from seedsmetrics.pause import pause_at
from seedsmetrics.redact import describe_url, first_line

SECRET = "ops-logs-s3cret"


def test_log_lines_are_parseable_and_hold_no_credentials(
        capsys: pytest.CaptureFixture[str]) -> None:
    log = Log("kv", run_id="r1")
    url = f"postgresql://loader:{SECRET}@db.internal:6432/savings"
    line = log("phase", phase="load", status="ok", duration_s=1.234, source=describe_url(url),
               counts={"pass": 6}, reason="two words", missing=None)
    assert line.startswith("ts=") and " level=info event=phase run_id=r1 phase=load " in line
    assert " duration_s=1.23 " in line and 'reason="two words"' in line and "missing" not in line
    assert " source=loader@db.internal:6432/savings " in line and SECRET not in line
    record = json.loads(Log("json")("summary", status="success", exit_code=0))
    assert record["event"] == "summary" and record["exit_code"] == 0
    assert capsys.readouterr().err.count("\n") == 2, "one line per event, on stderr"


@pytest.mark.parametrize(("value", "text"), [
    (True, "true"), (0.5, "0.50"), (3, "3"), ("", '""'), ("a b", '"a b"'),
    ('say "hi"', '"say \\"hi\\""'), ({"pass": 6}, '{"pass":6}'), (["a", "b"], '["a","b"]'),
    ("db.internal:6432/x", "db.internal:6432/x"),
])
def test_key_value_formatting(value: object, text: str) -> None:
    assert format_value(value) == text


def test_a_named_logger_keeps_the_format_not_the_context() -> None:
    stream = io.StringIO()
    loader = Log("json", stream=stream, run_id="run-1").named(LOGGER)
    record = json.loads(loader("table_copied", run_id="20251120t013000_abc123", rows=7))
    assert record["logger"] == LOGGER and record["run_id"] == "20251120t013000_abc123"
    assert json.loads(stream.getvalue()) == record


def test_progress_speaks_json_when_its_logger_does() -> None:
    """The loader inside `seedsmetrics run --log-format json`: JSON lines, no live terminal line."""
    stream = io.StringIO()
    progress = Progress(tty=True, log=Log("json", stream=stream, name=LOGGER))
    assert not progress.tty
    progress.table_started("loans_ajoloan", "full")
    progress.table_progress("loans_ajoloan", 500, 2 * 1024 * 1024)
    progress.table_done("loans_ajoloan", "full", 1000, 4 * 1024 * 1024, 2.0, run_id="r1")
    progress.log("publish_retry", level="warning", attempt=1)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(r["logger"], r["level"], r["event"]) for r in records] == [
        (LOGGER, "info", "table_copied"), (LOGGER, "warning", "publish_retry")]
    assert records[0]["rows"] == 1000 and records[0]["mb_per_s"] == "2.0"


def test_errors_become_one_line_without_secrets() -> None:
    error = psycopg.OperationalError(
        f"connection failed: password={SECRET} rejected\n\tmore detail")
    assert first_line(error, [SECRET]) == "connection failed: password=*** rejected"
    assert first_line(ValueError()) == "ValueError"
    assert describe_url("host=db port=6543 dbname=savings") == "(default user)@db:6543/savings"
    assert describe_url(None) is None
    assert describe_url("postgresql://[broken") == "(unparsable connection string)"


def test_pause_hook_logs_and_waits_only_at_its_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, dict[str, object]]] = []

    def log(event: str, **fields: object) -> None:
        events.append((event, fields))

    monkeypatch.setenv("SEEDS_TEST_PAUSE_AT", "copy")
    monkeypatch.setenv("SEEDS_TEST_PAUSE_SECONDS", "0")
    pause_at("publish", "SEEDS_TEST", log, default_seconds=60)
    assert events == []
    pause_at("copy", "SEEDS_TEST", log, default_seconds=60)
    assert events == [("paused", {"level": "warning", "phase": "copy", "pause_file": None})]
