"""Errors the CLI reports as one line and a documented exit code (see README, "Exit codes")."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # the work ran and failed (dbt errors, failed tests, a load that did not publish)
# bad arguments or settings: unreachable server, wrong password, unknown target, ...
EXIT_BAD_INPUT = 2
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later


class UserError(Exception):
    """A failure the user can act on; printed as `seedsmetrics: error: <message>`."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT):
        super().__init__(message)
        self.exit_code = exit_code


class RunLocked(UserError):
    def __init__(self, message: str):
        super().__init__(message, EXIT_LOCKED)
