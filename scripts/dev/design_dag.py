"""Draw the project's model DAG as a Mermaid flowchart from dbt's manifest, for docs/DESIGN.md.

    python scripts/dev/design_dag.py [--manifest target/manifest.json]            # print it
    python scripts/dev/design_dag.py --write docs/DESIGN.md                        # refresh the doc
    python scripts/dev/design_dag.py --check docs/DESIGN.md                        # exit 1 if stale

The picture sits in the document between the lines `<!-- dag:start -->` and `<!-- dag:end -->`.
Nodes are the models (one box per layer folder), the seeds they read and one node for the raw
source tables; edges are the manifest's depends_on, so the picture is the lineage dbt itself uses.
Run `seedsmetrics dbt parse` first so that the manifest is current.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

START = "<!-- dag:start -->"
END = "<!-- dag:end -->"
LAYERS = [
    ("staging", "models/staging/"),
    ("intermediate", "models/intermediate/"),
    ("marts_core", "models/marts/core/"),
    ("marts_portfolio", "models/marts/portfolio/"),
]
RAW = "raw[(raw: the Django tables)]"


def load_nodes(manifest_path: Path) -> dict[str, dict]:
    manifest = json.loads(manifest_path.read_text())
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed")
    }


def node_name(uid: str, nodes: dict[str, dict]) -> str:
    if uid.startswith("source."):
        return "raw"
    return nodes[uid]["name"]


def edges(nodes: dict[str, dict]) -> list[tuple[str, str]]:
    found = set()
    for node in nodes.values():
        if node["resource_type"] != "model":
            continue
        for parent in node["depends_on"]["nodes"]:
            if parent.startswith("source.") or parent in nodes:
                found.add((node_name(parent, nodes), node["name"]))
    return sorted(found)


def layer_lines(nodes: dict[str, dict]) -> list[str]:
    lines = []
    for layer, prefix in LAYERS:
        names = sorted(
            n["name"]
            for n in nodes.values()
            if n["resource_type"] == "model" and n["original_file_path"].startswith(prefix)
        )
        lines.append(f"    subgraph {layer}")
        lines.extend(f"        {name}" for name in names)
        lines.append("    end")
    return lines


def mermaid(nodes: dict[str, dict]) -> str:
    seeds = sorted(n["name"] for n in nodes.values() if n["resource_type"] == "seed")
    lines = ["```mermaid", "flowchart LR", f"    {RAW}"]
    lines.extend(f"    {seed}[/{seed} seed/]" for seed in seeds)
    lines.extend(layer_lines(nodes))
    lines.extend(f"    {parent} --> {child}" for parent, child in edges(nodes))
    lines.append("```")
    return "\n".join(lines)


def replace_block(document: str, block: str) -> str:
    head, found, rest = document.partition(START)
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise SystemExit(f"design_dag: the document has no {START} ... {END} block")
    return f"{head}{START}\n{block}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=Path("target/manifest.json"))
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, metavar="DOC")
    action.add_argument("--check", type=Path, metavar="DOC")
    args = parser.parse_args(argv)
    block = mermaid(load_nodes(args.manifest))
    if args.write:
        args.write.write_text(replace_block(args.write.read_text(), block))
    elif args.check:
        document = args.check.read_text()
        if replace_block(document, block) != document:
            print(
                f"design_dag: the DAG in {args.check} is stale; run "
                f"python scripts/dev/design_dag.py --write {args.check}",
                file=sys.stderr,
            )
            return 1
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
