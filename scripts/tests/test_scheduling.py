"""The scheduling examples (deploy/ and .github/workflows/) are valid and call real commands: the
cron line, the systemd service + timer pair, and the GitHub Actions workflows."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from seedsmetrics.cli import build_parser
from seedsmetrics.errors import EXIT_LOCKED

from .conftest import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
CRONTAB = DEPLOY / "cron" / "seedsmetrics.crontab"
SERVICE = DEPLOY / "systemd" / "seedsmetrics-run.service"
TIMER = DEPLOY / "systemd" / "seedsmetrics-run.timer"
INSTALL_DIR = "/opt/seedsmetrics"
LAGOS = ZoneInfo("Africa/Lagos")
# the nightly run starts at this Lagos time in every scheduler
NIGHTLY_LAGOS = (1, 30)


def make_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z0-9_.-]+):", (PROJECT_ROOT / "Makefile").read_text(),
                          re.MULTILINE))


def assert_cli_command(words: list[str]) -> None:
    """`words` (after the `seedsmetrics` executable) parse as a real CLI subcommand and options."""
    try:
        args = build_parser().parse_args(words)
    except SystemExit as error:  # argparse exits on unknown commands or options
        raise AssertionError(f"not a valid seedsmetrics command line: {words}") from error
    assert callable(args.func)


# sample values for the shell variables the examples use (`${AS_OF:+--as-of "$AS_OF"}`)
SHELL_SAMPLES = {"AS_OF": "2025-11-20"}


def expand(segment: str) -> str:
    """The few shell expansions the examples use, with sample values (nothing is executed)."""
    segment = re.sub(r"\$\{(\w+):\+([^}]*)\}",
                     lambda m: m.group(2) if SHELL_SAMPLES.get(m.group(1)) else "", segment)
    return re.sub(r"\$\{?(\w+)\}?", lambda m: SHELL_SAMPLES.get(m.group(1), m.group(0)), segment)


def simple_commands(line: str) -> list[list[str]]:
    """The simple commands of a shell line (split on ; && || | &), without variable assignments
    and redirections."""
    lexer = shlex.shlex(expand(line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    tokens = list(lexer)
    skip = False
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if skip:
            skip = False
        elif token in (";", "&&", "||", "|", "&"):
            commands.append([])
        elif set(token) <= set("<>&"):
            skip = True  # a redirection and its target
        elif token.isdigit() and following[:1] in ("<", ">"):
            continue  # the descriptor of a redirection (2>&1)
        elif commands[-1] or not re.match(r"^[A-Za-z_]+=", token):
            commands[-1].append(token)
    return [command for command in commands if command]


def assert_commands_exist(script: str) -> list[str]:
    """Every `make X` and `seedsmetrics ...` in a shell snippet names a Makefile target or CLI
    command."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        for words in simple_commands(line):
            if words[0] == "make":
                targets = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
                assert targets and set(targets) <= make_targets(), \
                    f"unknown make target in {line!r}"
                found.append("make " + " ".join(targets))
            elif Path(words[0]).name == "seedsmetrics":
                assert_cli_command(words[1:])
                found.append("seedsmetrics " + words[1])
    return found


def test_command_parser_sees_through_shell_syntax() -> None:
    line = ('cd /x && . /e && A=1 .venv/bin/seedsmetrics run --target prod'
            ' ${AS_OF:+--as-of "$AS_OF"} >>/l 2>&1')
    assert simple_commands(line)[-1] == [".venv/bin/seedsmetrics", "run", "--target", "prod",
                                         "--as-of", "2025-11-20"]
    assert simple_commands('echo "a; b" ; make test # c') == [["echo", "a; b"], ["make", "test"]]
    with pytest.raises(AssertionError):
        assert_commands_exist("make no-such-target")
    with pytest.raises(AssertionError):
        assert_commands_exist(".venv/bin/seedsmetrics run --no-such-option")


# ---------------------------------------------------------------------------------------------
# cron

CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
               ("day of week", 0, 7))
CRON_NAMES = {3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                  "dec"],
              4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]}


def cron_values(field: str, index: int) -> set[int]:
    """The values a crontab time field matches; ValueError when the field is not valid cron."""
    name, low, high = CRON_FIELDS[index]
    names = CRON_NAMES.get(index, [])
    first_name = 1 if index == 3 else 0

    def number(text: str) -> int:
        if text.lower() in names:
            return names.index(text.lower()) + first_name
        if not text.isdigit():
            raise ValueError(f"{name}: {text!r} is not a number")
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"{name}: {value} is outside {low}-{high}")
        return value

    values: set[int] = set()
    for part in field.split(","):
        spec, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"{name}: bad step in {part!r}")
        if spec == "*":
            start, end = low, high
        elif "-" in spec:
            start, end = (number(text) for text in spec.split("-", 1))
            if start > end:
                raise ValueError(f"{name}: empty range {spec!r}")
        else:
            start = end = number(spec)
            if step:
                end = high
        values.update(range(start, end + 1, step or 1))
    return values


def parse_cron_line(line: str) -> tuple[list[set[int]], str]:
    fields = line.split(None, 5)
    if len(fields) != 6:
        raise ValueError(f"expected 5 time fields and a command, got {len(fields)} parts")
    return [cron_values(field, index) for index, field in enumerate(fields[:5])], fields[5]


def cron_jobs() -> list[str]:
    lines = [line.strip() for line in CRONTAB.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")
            and not re.match(r"^[A-Z_]+=", line)]


@pytest.mark.parametrize("line", [
    "61 0 * * * true", "30 24 * * * true", "30 0 * * mon-sun-x true", "30 0 * *",
    "*/0 * * * * true", "30 0 32 * * true", "30 0 * 13 * true",
])
def test_cron_validator_rejects_bad_lines(line: str) -> None:
    with pytest.raises(ValueError):
        parse_cron_line(line)


def test_cron_line_is_valid_and_runs_the_pipeline_nightly() -> None:
    jobs = cron_jobs()
    assert len(jobs) == 1, jobs
    (minutes, hours, days, months, weekdays), command = parse_cron_line(jobs[0])
    assert (len(days), len(months), len(weekdays)) == (31, 12, 8), "every day"
    assert len(minutes) == len(hours) == 1, "once a day"
    # cron runs on the host's clock; the example documents a UTC host
    assert "UTC" in CRONTAB.read_text()
    assert utc_to_lagos(hours.pop(), minutes.pop()) == NIGHTLY_LAGOS
    assert subprocess.run(["sh", "-n", "-c", command]).returncode == 0, "the command is valid sh"
    assert "%" not in command, "% is a newline in crontab commands"
    assert assert_commands_exist(command) == ["seedsmetrics run"]
    assert f"cd {INSTALL_DIR} " in command and ". /etc/seedsmetrics/seedsmetrics.env" in command


def utc_to_lagos(hour: int, minute: int) -> tuple[int, int]:
    lagos = datetime(2025, 11, 20, hour, minute, tzinfo=UTC).astimezone(LAGOS)
    return lagos.hour, lagos.minute


# ---------------------------------------------------------------------------------------------
# systemd


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       comment_prefixes=("#", ";"))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def test_systemd_units_have_what_a_nightly_oneshot_needs() -> None:
    service, timer = unit(SERVICE), unit(TIMER)
    assert service["Service"]["Type"] == "oneshot"
    assert str(EXIT_LOCKED) in service["Service"]["SuccessExitStatus"].split(), \
        "a locked run is not a failure"
    exec_start = shlex.split(service["Service"]["ExecStart"])
    assert exec_start[0] == f"{INSTALL_DIR}/.venv/bin/seedsmetrics"
    assert_cli_command(exec_start[1:])
    assert exec_start[1] == "run" and "prod" in exec_start
    assert service["Service"]["WorkingDirectory"] == INSTALL_DIR
    assert service["Service"]["EnvironmentFile"].startswith("/etc/"), \
        "credentials outside the repository"
    for path in service["Service"]["ReadWritePaths"].split():
        assert path.startswith(INSTALL_DIR + "/"), path
    assert timer["Timer"]["Unit"] == SERVICE.name
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert timer["Timer"]["Persistent"] == "true"
    on_calendar = timer["Timer"]["OnCalendar"]
    assert on_calendar == f"*-*-* {NIGHTLY_LAGOS[0]:02d}:{NIGHTLY_LAGOS[1]:02d}:00 Africa/Lagos"


@pytest.fixture
def installed_units(tmp_path: Path) -> Path:
    """The units as installed in this checkout (systemd-analyze checks that ExecStart exists)."""
    if not (PROJECT_ROOT / ".venv" / "bin" / "seedsmetrics").exists():
        pytest.skip("needs the project's virtualenv")
    for source in (SERVICE, TIMER):
        (tmp_path / source.name).write_text(source.read_text().replace(INSTALL_DIR,
                                                                       str(PROJECT_ROOT)))
    return tmp_path


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_units(installed_units: Path) -> None:
    verify = subprocess.run(["systemd-analyze", "verify", str(installed_units / SERVICE.name),
                             str(installed_units / TIMER.name)], capture_output=True, text=True,
                             timeout=60)
    assert verify.returncode == 0 and not verify.stderr.strip() and not verify.stdout.strip(), \
        verify.stderr
    calendar = subprocess.run(["systemd-analyze", "calendar", unit(TIMER)["Timer"]["OnCalendar"]],
                              capture_output=True, text=True, timeout=60)
    assert calendar.returncode == 0 and "Next elapse" in calendar.stdout, calendar.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_systemd_analyze_catches_a_broken_unit(installed_units: Path) -> None:
    broken = installed_units / SERVICE.name
    broken.write_text(broken.read_text().replace("/.venv/bin/seedsmetrics",
                                                 "/.venv/bin/no-such-binary")
                      .replace("Type=oneshot", "Type=oneshot\nTypo=yes"))
    verify = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True,
                            text=True, timeout=60)
    assert verify.returncode != 0 and "no-such-binary" in verify.stderr and "Typo" in verify.stderr


# ---------------------------------------------------------------------------------------------
# GitHub Actions


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True
    data["on"] = data.pop(True, data.get("on"))
    return data


def check_jsonschema(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", *map(str, paths)], capture_output=True,
                           text=True, timeout=120)


def test_workflows_match_the_github_actions_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {path.name for path in files} == {"ci.yml", "nightly.yml"}
    checked = check_jsonschema(*files)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "ci.yml").read_text().replace("runs-on:", "runs-onn:", 1))
    assert check_jsonschema(broken).returncode != 0


def steps_run(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_pull_requests_run_the_readme_test_command_on_an_ephemeral_warehouse() -> None:
    ci = workflow("ci.yml")
    assert "pull_request" in ci["on"]
    test_job = ci["jobs"]["test"]
    readme = (PROJECT_ROOT / "README.md").read_text()
    test_command = readme.split("<!-- test-command -->\n", 1)[1].splitlines()[0].strip()
    assert test_command in steps_run(test_job).splitlines(), "CI runs the README's test command"
    assert assert_commands_exist(steps_run(test_job)) == ["make test"]
    # no warehouse settings: `make test` starts the embedded PostgreSQL inside the runner
    assert not any(key.startswith("WAREHOUSE_")
                   for key in {**ci.get("env", {}), **test_job.get("env", {})})
    slim = ci["jobs"]["slim"]
    assert "pull_request" in slim["if"]
    assert "make ci-slim" in assert_commands_exist(steps_run(slim))
    assert "gh run download" in steps_run(slim) and "--name prod-state" in steps_run(slim)


def test_nightly_workflow_runs_the_pipeline_and_publishes_the_state() -> None:
    nightly = workflow("nightly.yml")
    (schedule,) = nightly["on"]["schedule"]
    (minutes, hours, *_), _ = parse_cron_line(schedule["cron"] + " true")
    assert utc_to_lagos(hours.pop(), minutes.pop()) == NIGHTLY_LAGOS, "GitHub cron is UTC"
    assert "workflow_dispatch" in nightly["on"]
    assert nightly["concurrency"]["cancel-in-progress"] is False, "never cancel a production run"
    (job,) = nightly["jobs"].values()
    assert job["env"]["SEEDS_TARGET"] == "prod"
    assert all(str(value).startswith("${{ secrets.") for key, value in job["env"].items()
               if key.endswith(("PASSWORD", "HOST", "USER", "URL"))), \
        "credentials only from secrets"
    assert "seedsmetrics run" in assert_commands_exist(steps_run(job))
    assert f"-eq {EXIT_LOCKED}" in steps_run(job), "a locked run is not a failed job"
    uploads = {step["with"]["name"]: step for step in job["steps"]
               if step.get("uses", "").startswith(
        "actions/upload-artifact")}
    state = uploads["prod-state"]["with"]
    # the folder `seedsmetrics run --target prod` keeps its manifest in (and `make ci-slim` reads)
    assert state["path"] == ".warehouse/state/prod/manifest.json"
    assert state["include-hidden-files"] is True


def test_readme_says_which_scheduler_to_use_when() -> None:
    guide = (DEPLOY / "README.md").read_text()
    for path in (CRONTAB, SERVICE, TIMER, WORKFLOWS / "ci.yml", WORKFLOWS / "nightly.yml"):
        assert str(path.relative_to(PROJECT_ROOT)) in guide or path.name in guide, path
    assert "deploy/README.md" in (PROJECT_ROOT / "README.md").read_text()


def test_environment_example_holds_no_secret() -> None:
    for line in (DEPLOY / "seedsmetrics.env.example").read_text().splitlines():
        if line.startswith(("WAREHOUSE_PASSWORD=", "SOURCE_DATABASE_URL=", "WAREHOUSE_USER=")):
            assert line.endswith("="), line
