"""Project checks for dbt-bouncer: every column declared on a source table or a seed has a
description.

dbt-bouncer 4.3 checks model column descriptions, and that every raw or seed column is declared
(check_source_columns_are_all_documented, check_seed_columns_are_all_documented), but not the
descriptions of source and seed columns; these two checks close that gap.
"""

from dbt_bouncer.check_framework.decorator import check, fail
from dbt_bouncer.utils import is_description_populated


def _undocumented(columns: dict | None, min_length: int) -> list[str]:
    return sorted(name for name, column in (columns or {}).items()
                  if not is_description_populated(column.description or "", min_length))


@check
def check_source_columns_description_populated(source, *, min_description_length: int = 4):
    """Columns declared on a source table must have a populated description.

    Receives:
        source (SourceNode): The SourceNode object to check.

    """
    if missing := _undocumented(source.columns, min_description_length):
        fail(f"`{source.source_name}.{source.name}` has columns without a description: "
             f"{', '.join(missing)}.")


@check
def check_seed_columns_description_populated(seed, *, min_description_length: int = 4):
    """Columns declared on a seed must have a populated description.

    Receives:
        seed (SeedNode): The SeedNode object to check.

    """
    if missing := _undocumented(seed.columns, min_description_length):
        fail(f"`{seed.name}` has columns without a description: {', '.join(missing)}.")
