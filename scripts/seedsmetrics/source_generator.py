"""Placeholder: being written (see the issue). register() adds the subcommand."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    pass
