"""dbt as a child process: its output streamed to our stdout, killed with the runner (even a
SIGKILLed one), asked to cancel its queries when the runner gets SIGINT or SIGTERM."""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seedsmetrics.logs import Log

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
# how long dbt gets to cancel its queries after SIGINT before it is killed
CHILD_GRACE_SECONDS = 30
# lines of a child's output kept for diagnosis (is_transient reads them)
TAIL_LINES = 200


class Interrupted(Exception):
    """The runner got SIGINT or SIGTERM; carries the exit code (130 or 143)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = EXIT_INTERRUPTED if signum == signal.SIGINT else EXIT_TERMINATED


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted inside the block (the previous handlers after it)."""
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _child_setup(parent_pid: int) -> None:
    """In the child before exec: die with the runner (Linux), even when it is SIGKILLed."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent_pid:  # the runner died before prctl took effect
            os._exit(EXIT_TERMINATED)


@dataclass
class ChildResult:
    returncode: int
    tail: str
    pid: int


def run_child(argv: list[str], env: dict[str, str], cwd: Path, log: Log, phase: str) -> ChildResult:
    """Run a child, copy its output to our stdout and keep the last lines for diagnosis."""
    process = _start(argv, env, cwd)
    log("child_started", phase=phase, pid=process.pid, command=_short_command(argv))
    try:
        tail = _stream_output(process)
        returncode = process.wait()
    except BaseException:
        _stop_child(process, log, phase)
        raise
    return ChildResult(returncode, tail, process.pid)


def _start(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    parent = os.getpid()
    return subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                            errors="replace", bufsize=1, start_new_session=True,
                            preexec_fn=lambda: _child_setup(parent))


def _short_command(argv: list[str]) -> str:
    """`dbt build --select x` -> `dbt build x`: the program and its first words, no options."""
    words = [Path(argv[0]).name, *(arg for arg in argv[1:4] if not arg.startswith("-"))]
    return " ".join(words[:3])


def _stream_output(process: subprocess.Popen[str]) -> str:
    """Copy the child's output to our stdout as it comes; its last TAIL_LINES lines."""
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()  # live in a log file or the journal, not only at the end
        tail.append(line)
    return "".join(tail)


def _stop_child(process: subprocess.Popen[str], log: Log, phase: str) -> None:
    if process.poll() is not None:
        return
    log("child_cancel", level="warning", phase=phase, pid=process.pid)
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)  # dbt cancels its open queries on SIGINT
    try:
        process.wait(timeout=CHILD_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
