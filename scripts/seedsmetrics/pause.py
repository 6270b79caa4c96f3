"""Test hook shared by the loader and the pipeline: hold a command at a named phase, so a test
can start a second command meanwhile or SIGKILL this one there. Unset in production.

<HOOK>_PAUSE_AT=<phase> logs `event=paused phase=<phase>` and waits before that phase while the
file named by <HOOK>_PAUSE_FILE exists (at most 600 s), or for <HOOK>_PAUSE_SECONDS when no file
is named. HOOK is SEEDS_LOADER or SEEDS_PIPELINE.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

# how long a pause waits for its file to disappear unless <HOOK>_PAUSE_SECONDS says otherwise
FILE_WAIT_SECONDS = 600.0


def pause_at(phase: str, hook: str, log: Callable[..., object], default_seconds: float) -> None:
    """Wait at `phase` when `<hook>_PAUSE_AT` names it (see the module docstring); else nothing."""
    if os.environ.get(f"{hook}_PAUSE_AT") != phase:
        return
    pause_file = os.environ.get(f"{hook}_PAUSE_FILE")
    log("paused", level="warning", phase=phase, pause_file=pause_file)
    default = FILE_WAIT_SECONDS if pause_file else default_seconds
    deadline = time.monotonic() + float(os.environ.get(f"{hook}_PAUSE_SECONDS", default))
    while time.monotonic() < deadline and (not pause_file or Path(pause_file).exists()):
        time.sleep(0.2)
