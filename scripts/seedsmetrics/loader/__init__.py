"""`seedsmetrics load`: copy the Django source tables into the warehouse raw schema.

Fast (binary COPY relayed without decoding rows), consistent (one source snapshot for all tables),
atomic (views re-pointed in one transaction), incremental (high-water mark + overlap, upsert by
primary key). Design and reasons: engine.py and raw_layer.py. Public API for the demo and the
pipeline runner: `run_load(...) -> LoadResult`.
"""

from seedsmetrics.loader.cli import register
from seedsmetrics.loader.engine import LoadResult, TableResult, run_load

__all__ = ["LoadResult", "TableResult", "register", "run_load"]
