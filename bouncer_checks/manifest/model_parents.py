"""Project check for dbt-bouncer: a model has at most N direct parents (dbt-project-evaluator's
fct_too_many_joins, threshold 7), meant for the daily marts (models/marts/portfolio).

dbt-bouncer's check_model_max_upstream_dependencies counts upstream models and sources
separately; this check counts every direct parent dbt records for the model (the distinct
`depends_on.nodes` of the manifest: models, seeds, snapshots and sources, including the ones a
macro `ref()`s on the model's behalf), as dbt-project-evaluator does.

Enabled in dbt-bouncer.yml for models/marts/portfolio with max_parents 7 (issue 9).
"""

from typing import Annotated

from dbt_bouncer.check_framework.decorator import check, fail
from pydantic import Field


def _parents(model) -> list[str]:
    depends_on = getattr(model, "depends_on", None)
    return sorted(set(getattr(depends_on, "nodes", None) or []))


def _short(unique_id: str) -> str:
    """model.seeds_metrics.int_loan_days -> int_loan_days; source.p.django.loans -> django.loans"""
    parts = unique_id.split(".")
    return ".".join(parts[2:]) if parts[0] == "source" else parts[-1]


@check
def check_model_max_parents(model, *, max_parents: Annotated[int, Field(gt=0)] = 7):
    """A model has at most `max_parents` direct parents (distinct `depends_on.nodes`).

    Reason to flag: a model that joins many parents does several jobs at once, which makes it
    hard to read, test and change, and often means the work of an intermediate model is being
    done inline. Parents a macro `ref()`s silently count too: they are dependencies the model's
    SQL does not show, so the lineage analysts read hides them.

    How to remediate: move groups of joins that belong together into an intermediate model the
    mart refs (for the daily marts: one change-feed model such as int_daily_changes instead of
    the staging views the incremental-window macros read), and pass values to macros as
    arguments instead of letting them ref() tables.

    Receives:
        model (ModelNode): The ModelNode object to check.

    """
    parents = _parents(model)
    if len(parents) > max_parents:
        fail(f"`{model.name}` has {len(parents)} direct parents, more than the permitted "
             f"{max_parents}: {', '.join(_short(parent) for parent in parents)}.")
