"""Which of a frame's columns Pydantic reads for each field of a model.

Pydantic reads a field from its `validation_alias` (a name, an `AliasChoices` tried in
order, or an `AliasPath` into a nested value), else its `alias` (which an
`alias_generator` may have set), else its name; `validate_by_name` (or
`populate_by_name`) adds the name as a last choice, and `validate_by_alias=False`
leaves the name alone. A row of a frame is a dict holding every column, so the first
plain name that is a column is the one read, for every row. An `AliasPath` of more
than one step reads a column's nested value and may find nothing in one row and
something in the next: such a field's column is only known row by row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo

__all__ = ["FieldColumns", "field_columns"]


@dataclass(frozen=True)
class FieldColumns:
    """Where one field's value comes from in a frame.

    Attributes:
        field: The field's name.
        keys: The top-level names Pydantic looks up, in its order (an `AliasPath`
            contributes its first step).
        column: The column read for every row, or `None` when no plain name is a
            column (absent, or only reached through a nested `AliasPath`).
        reads: Every column Pydantic may read for the field (more than `column`
            only when an `AliasPath` comes first).
        required: Whether the field has no default.
    """

    field: str
    keys: tuple[str, ...]
    column: str | None
    reads: tuple[str, ...]
    required: bool

    @property
    def exact(self) -> bool:
        """Whether one column holds the field's value in every row."""
        return self.column is not None and self.reads == (self.column,)


def field_columns(schema: type[BaseModel], columns: Collection[str]) -> list[FieldColumns]:
    """For each field of `schema`, the columns of a frame with `columns` Pydantic reads."""
    found = []
    for name, info in schema.model_fields.items():
        lookups = _lookups(name, info, schema.model_config)
        column = None
        reads: list[str] = []
        for key, plain in lookups:
            if key not in columns:
                continue
            if key not in reads:
                reads.append(key)
            if plain:
                column = key
                break  # present in every row: no later choice is ever read
        found.append(
            FieldColumns(
                field=name,
                keys=tuple(dict.fromkeys(key for key, _ in lookups)),
                column=column,
                reads=tuple(reads),
                required=info.is_required(),
            )
        )
    return found


def _lookups(name: str, info: FieldInfo, config: Any) -> list[tuple[str, bool]]:
    """`(top-level key, whether the key alone is the value)` in Pydantic's order."""
    from pydantic import AliasChoices, AliasPath

    alias = info.validation_alias if info.validation_alias is not None else info.alias
    by_alias = config.get("validate_by_alias", True) is not False
    by_name = bool(config.get("validate_by_name") or config.get("populate_by_name"))
    if alias is None or not by_alias:
        return [(name, True)]
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
    lookups = []
    for choice in choices:
        if isinstance(choice, AliasPath):
            first = choice.path[0]
            lookups.append((str(first), len(choice.path) == 1))
        else:
            lookups.append((str(choice), True))
    if by_name:
        lookups.append((name, True))
    return lookups
