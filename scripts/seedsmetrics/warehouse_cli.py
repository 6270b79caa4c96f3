"""`seedsmetrics warehouse start|stop|status|url|env`: manage the embedded warehouse."""

from __future__ import annotations

import argparse

from seedsmetrics import warehouse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("warehouse",
                                   help="start, stop or inspect the embedded PostgreSQL warehouse")
    parser.add_argument("action", choices=["start", "stop", "status", "url", "env"])
    parser.add_argument("--database", default=None,
                        help="database name for `url` (default: warehouse)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "start":
        server = warehouse.start()
        print(f"embedded warehouse running: {server.url()} (data in {warehouse.home()})")
        return 0
    if args.action == "stop":
        print("embedded warehouse stopped" if warehouse.stop()
              else "embedded warehouse was not running")
        return 0
    server = warehouse.status()
    if args.action == "status":
        print(f"running: {server.url()}" if server else "not running")
        return 0 if server else 3
    server = server or warehouse.start()
    if args.action == "url":
        print(server.url(args.database))
    else:
        for key, value in server.env().items():
            print(f"export {key}={value}")
    return 0
