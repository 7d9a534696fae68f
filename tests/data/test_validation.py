"""`validate_frame` / `validate_records`: every failing row reported, exactly as Pydantic would."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Literal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import (
    AfterValidator,
    AliasChoices,
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic import model_validator as pydantic_model_validator

from ff_prefect_kit import SchemaValidationError, validate_frame
from ff_prefect_kit.data import validate_records, validation_path


class Position(enum.Enum):
    QB = "QB"
    RB = "RB"
    WR = "WR"


class PlayerWeek(BaseModel):
    player_id: int = Field(ge=1)
    name: str = Field(min_length=2, max_length=12, pattern=r"^[A-Z]")
    position: Position
    points: float = Field(ge=-10, le=80)
    week: int = Field(ge=1, le=18, multiple_of=1)
    note: Literal["ok", "injured"] | None = None


def _frame(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "player_id": pl.int_range(1, n + 1, eager=True),
            "name": [f"P{i % 1000}" for i in range(n)],
            "position": [("QB", "RB", "WR")[i % 3] for i in range(n)],
            "points": [float(i % 50) for i in range(n)],
            "week": pl.Series([i % 18 + 1 for i in range(n)], dtype=pl.Int32),
            "note": [None] * n,
        },
        schema_overrides={"note": pl.String},
    )


def test_a_clean_frame_passes_on_the_columnar_path() -> None:
    """A valid frame is returned conformed, and Pydantic never sees a row."""
    df = _frame(1000)
    assert validation_path(PlayerWeek, df) == "columnar"
    out = validate_frame.fn(df, PlayerWeek)
    assert out.columns == list(PlayerWeek.model_fields)
    assert out.schema["week"] == pl.Int32
    assert out.equals(df)


def test_three_bad_rows_among_100k_are_all_reported() -> None:
    """Each bad row is reported with its index, field, value and Pydantic's message."""
    df = _frame(100_000).with_columns(
        points=pl.when(pl.int_range(pl.len()) == 17).then(99.5).otherwise(pl.col("points")),
        name=pl.when(pl.int_range(pl.len()) == 50_001).then(pl.lit("x")).otherwise("name"),
        player_id=pl.when(pl.int_range(pl.len()) == 99_999).then(0).otherwise("player_id"),
    )
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(df, PlayerWeek)
    failures = caught.value.failures
    assert isinstance(failures, pl.DataFrame)
    got = {(r["row"], r["field"], r["value"]) for r in failures.iter_rows(named=True)}
    assert got == {(17, "points", "99.5"), (50_001, "name", "'x'"), (99_999, "player_id", "0")}
    messages = dict(zip(failures["row"], failures["message"], strict=True))
    assert messages[17] == "Input should be less than or equal to 80"
    assert "row 17, points=99.5: Input should be less than or equal to 80" in str(caught.value)


def test_the_message_shows_the_first_few_and_counts_the_rest() -> None:
    """With many failures the message lists five and says how many more; all are on .failures."""
    df = _frame(50).with_columns(player_id=pl.lit(0, dtype=pl.Int64))
    with pytest.raises(SchemaValidationError, match=r"and 45 more") as caught:
        validate_frame.fn(df, PlayerWeek)
    assert caught.value.failures.height == 50
    assert caught.value.failures["row"].to_list() == list(range(50))


def test_a_null_in_a_required_column_is_reported() -> None:
    """A null where the model needs a value is a failure with Pydantic's wording."""
    df = _frame(3).with_columns(points=pl.Series([1.0, None, 2.0]))
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(df, PlayerWeek)
    assert caught.value.failures.select("row", "field", "value").row(0) == (1, "points", "None")


def test_an_enum_or_literal_outside_its_choices_is_reported() -> None:
    """Values outside an Enum or a Literal are caught by the columnar checks."""
    df = _frame(4).with_columns(
        position=pl.Series(["QB", "K", "RB", "WR"]), note=pl.Series([None, None, "?", "ok"])
    )
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(df, PlayerWeek)
    assert caught.value.failures.select("row", "field").rows() == [(1, "position"), (2, "note")]


class WithValidator(BaseModel):
    player_id: int
    team: str

    @field_validator("team")
    @classmethod
    def known_team(cls, value: str) -> str:
        if value not in {"KC", "BUF"}:
            raise ValueError(f"unknown team {value}")
        return value.lower()


def test_a_model_with_a_custom_validator_is_still_exactly_right() -> None:
    """Custom validators run (on every row): their failures and rewrites both show."""
    df = pl.DataFrame({"player_id": [1, 2, 3], "team": ["KC", "XX", "BUF"]})
    assert validation_path(WithValidator, df) == "pydantic"
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(df, WithValidator)
    assert caught.value.failures.rows() == [(1, "team", "'XX'", "Value error, unknown team XX")]
    ok = validate_frame.fn(df.filter(pl.col("team") != "XX"), WithValidator)
    assert ok["team"].to_list() == ["kc", "buf"]


class WithModelValidator(BaseModel):
    low: int
    high: int

    @pydantic_model_validator(mode="after")
    def ordered(self) -> WithModelValidator:
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


def test_the_pydantic_path_returns_enum_values_not_objects() -> None:
    """Enum fields on the Pydantic path come back as their values, in a typed column."""

    class M(WithValidator):
        position: Position

    out = validate_frame.fn(pl.DataFrame({"player_id": [1], "team": ["KC"], "position": ["QB"]}), M)
    assert out.schema["position"] == pl.String
    assert out.row(0) == (1, "kc", "QB")


def test_a_model_validator_failure_is_reported_against_the_row() -> None:
    """A model-level failure names the row, with `(row)` as its field."""
    df = pl.DataFrame({"low": [1, 5], "high": [2, 3]})
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(df, WithModelValidator)
    assert caught.value.failures.select("row", "field").rows() == [(1, "(row)")]


def test_an_annotated_validator_takes_the_pydantic_path() -> None:
    """An `AfterValidator` in the annotation is code the columnar checks cannot read."""

    class M(BaseModel):
        x: Annotated[int, AfterValidator(lambda v: v * 2)]

    df = pl.DataFrame({"x": [1, 2]})
    assert validation_path(M, df) == "pydantic"
    assert validate_frame.fn(df, M)["x"].to_list() == [2, 4]


def test_a_column_the_model_lacks_is_named() -> None:
    """An extra column is refused with its name and the ways out."""
    df = _frame(2).with_columns(bye_week=pl.lit(7))
    with pytest.raises(SchemaValidationError, match=r"\['bye_week'\] not in PlayerWeek") as caught:
        validate_frame.fn(df, PlayerWeek)
    assert "extra_columns='drop'" in str(caught.value)
    assert caught.value.failures["field"].to_list() == ["bye_week"]


def test_extra_columns_can_be_dropped() -> None:
    """`extra_columns='drop'` validates the model's columns and returns only those."""
    out = validate_frame.fn(
        _frame(2).with_columns(bye_week=pl.lit(7)), PlayerWeek, extra_columns="drop"
    )
    assert "bye_week" not in out.columns


def test_a_missing_required_column_is_named() -> None:
    """A column the model needs is named, with the columns the frame has."""
    with pytest.raises(SchemaValidationError, match=r"missing column\(s\) \['points'\]"):
        validate_frame.fn(_frame(2).drop("points"), PlayerWeek)


def test_a_missing_column_with_a_default_is_filled_by_pydantic() -> None:
    """A field with a default may be absent; Pydantic supplies the default."""
    out = validate_frame.fn(_frame(2).drop("note"), PlayerWeek)
    assert out["note"].to_list() == [None, None]


@pytest.mark.parametrize("validate", [validate_frame.fn, validate_records])
def test_an_empty_frame_is_refused_with_a_reason(validate: object) -> None:
    """No rows is an error by default: an empty output usually hides an upstream bug."""
    assert callable(validate)
    with pytest.raises(SchemaValidationError, match=r"has no rows.*allow_empty=True"):
        validate(_frame(0), PlayerWeek)


def test_an_empty_frame_is_accepted_when_allowed() -> None:
    """`allow_empty=True` returns the empty frame with the model's columns."""
    assert validate_frame.fn(_frame(0), PlayerWeek, allow_empty=True).columns == list(
        PlayerWeek.model_fields
    )


def test_not_a_frame_is_refused() -> None:
    """Anything but a polars DataFrame is a SchemaValidationError naming its type."""
    with pytest.raises(SchemaValidationError, match="got list"):
        validate_frame.fn([{"a": 1}], PlayerWeek)  # type: ignore[arg-type]


def test_validate_records_returns_model_instances() -> None:
    """`validate_records` returns one model instance per row, in order."""
    records = validate_records(_frame(3), PlayerWeek)
    assert [r.player_id for r in records] == [1, 2, 3]
    assert records[0].position is Position.QB


def test_validate_records_reports_failures_like_validate_frame() -> None:
    """Bad rows fail `validate_records` with the same report."""
    df = _frame(3).with_columns(week=pl.Series([1, 19, 2], dtype=pl.Int32))
    with pytest.raises(SchemaValidationError) as caught:
        validate_records(df, PlayerWeek)
    assert caught.value.failures.select("row", "field", "value").rows() == [(1, "week", "19")]


def test_integer_column_for_a_float_field_is_conformed() -> None:
    """An integer column for a `float` field comes back Float64, as Pydantic would make it."""

    class M(BaseModel):
        x: float

    assert validate_frame.fn(pl.DataFrame({"x": [1, 2]}), M).schema["x"] == pl.Float64


def test_a_string_column_for_an_int_field_takes_the_pydantic_path() -> None:
    """A dtype pair the checks do not model exactly is left to Pydantic, which coerces."""

    class M(BaseModel):
        x: int

    df = pl.DataFrame({"x": ["1", "two"]})
    assert validation_path(M, df) == "pydantic"
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(df, M)
    assert caught.value.failures["row"].to_list() == [1]


# --- the columnar checks agree with Pydantic -------------------------------------------


class Fuzz(BaseModel):
    a: int = Field(ge=-5, lt=50, multiple_of=3)
    b: float | None = Field(default=None, gt=-1.5, le=2.5)
    c: str = Field(min_length=1, max_length=4, pattern=r"^[a-c]+$")
    d: Literal["x", "y"]
    e: bool
    f: float = Field(multiple_of=0.5)


_row = st.fixed_dictionaries(
    {
        "a": st.integers(-10, 60),
        "b": st.none() | st.floats(allow_nan=True, allow_infinity=True),
        "c": st.text(alphabet="abcdZ\u00e9", max_size=6),
        "d": st.sampled_from(["x", "y", "z"]),
        "e": st.booleans(),
        "f": st.floats(-4, 4, allow_nan=False) | st.sampled_from([0.5, 1.0, -2.5, 0.25]),
    }
)


@given(rows=st.lists(_row, min_size=1, max_size=40))
def test_the_columnar_engine_agrees_with_pydantic_on_which_rows_fail(
    rows: list[dict[str, object]],
) -> None:
    """On random rows, the failing (row, field) pairs are exactly Pydantic's."""
    df = pl.DataFrame(
        rows,
        schema={
            "a": pl.Int64,
            "b": pl.Float64,
            "c": pl.String,
            "d": pl.String,
            "e": pl.Boolean,
            "f": pl.Float64,
        },
    )
    assert validation_path(Fuzz, df) == "columnar"
    expected: set[tuple[int, str]] = set()
    for index, row in enumerate(df.to_dicts()):
        try:
            TypeAdapter(Fuzz).validate_python(row)
        except ValidationError as exc:
            expected |= {(index, str(e["loc"][0])) for e in exc.errors()}
    try:
        validate_frame.fn(df, Fuzz)
    except SchemaValidationError as exc:
        got = {(r, f) for r, f in exc.failures.select("row", "field").rows()}
    else:
        got = set()
    assert got == expected


# --- aliases: the columns Pydantic reads ------------------------------------------------


class Scored(BaseModel):
    points: int = Field(validation_alias="pts", ge=0)


def test_a_validation_alias_names_the_column_read() -> None:
    """A frame keyed by the alias is checked there and comes back under the field's name."""
    df = pl.DataFrame({"pts": [0, 3]})
    assert validation_path(Scored, df) == "columnar"
    assert validate_frame.fn(df, Scored).to_dicts() == [{"points": 0}, {"points": 3}]


def test_a_bad_value_under_the_alias_is_reported() -> None:
    """A row breaking the constraint under the alias fails as Pydantic fails it."""
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(pl.DataFrame({"pts": [1, -1]}), Scored)
    assert caught.value.failures.select("row", "field").rows() == [(1, "pts")]


def test_a_column_named_like_the_field_is_not_its_alias() -> None:
    """Keyed by the field's name, the column Pydantic reads is missing: said so, with the fix."""
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(pl.DataFrame({"points": [-1]}), Scored)
    message = str(caught.value)
    assert "missing column(s) ['pts']" in message
    assert "Pydantic reads field 'points' from 'pts'" in message
    assert "validate_by_name=True" in message


@pytest.mark.parametrize(
    ("config", "options", "column"),
    [
        ({"validate_by_name": True}, {"validation_alias": "pts"}, "points"),
        ({"populate_by_name": True}, {"alias": "pts"}, "points"),
        ({"validate_by_name": True, "validate_by_alias": False}, {"alias": "pts"}, "points"),
        ({}, {"validation_alias": AliasChoices("pts", "score")}, "score"),
        ({}, {"validation_alias": AliasPath("pts")}, "pts"),
        ({"alias_generator": str.upper}, {}, "POINTS"),
    ],
    ids=["by-name", "populate-by-name", "name-only", "second-choice", "one-step-path", "generator"],
)
def test_each_way_pydantic_names_a_column_is_followed(
    config: dict[str, Any], options: dict[str, Any], column: str
) -> None:
    """by_name, by_alias, AliasChoices, AliasPath, alias_generator: Pydantic's column is checked."""
    model = create_model(  # type: ignore[call-overload]
        "Named", __config__=ConfigDict(**config), points=(int, Field(ge=0, **options))
    )
    df = pl.DataFrame({column: [2, -1]})
    assert validation_path(model, df) == "columnar"
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(df, model)
    assert caught.value.failures.select("row", "field").rows() == [(1, column)]


def test_a_later_alias_choice_beside_the_first_is_an_extra_column() -> None:
    """With both choices present Pydantic reads the first: the other is not read, and said so."""

    class Either(BaseModel):
        points: int = Field(validation_alias=AliasChoices("pts", "score"))

    df = pl.DataFrame({"pts": [1], "score": [2]})
    with pytest.raises(SchemaValidationError, match=r"\['score'\] not in Either"):
        validate_frame.fn(df, Either)
    assert validate_frame.fn(df, Either, extra_columns="drop").to_dicts() == [{"points": 1}]


def test_a_nested_alias_path_is_left_to_pydantic() -> None:
    """An AliasPath into a struct is read by Pydantic, row by row."""

    class Nested(BaseModel):
        yards: int = Field(validation_alias=AliasPath("stats", "yards"), ge=0)

    df = pl.DataFrame({"stats": [{"yards": 3}, {"yards": -2}]})
    assert validation_path(Nested, df) == "pydantic"
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(df, Nested)
    assert caught.value.failures["row"].to_list() == [1]


# --- numbers at the edges ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "dtype", "bad"),
    [
        ({"le": 1e18}, pl.Int64, 10**18 + 1),
        ({"lt": 1e18}, pl.Int64, 10**18),
        ({"ge": -1e18}, pl.Int64, -(10**18) - 1),
        ({"le": 2**63 - 1}, pl.UInt64, 2**63),
        ({"ge": 2**64}, pl.UInt64, 2**64 - 1),
        ({"lt": -(2**63)}, pl.Int64, -(2**63)),
        ({"multiple_of": 2**63}, pl.Int64, 2**62),
    ],
    ids=["le-float", "lt-float", "ge-float", "le-uint", "ge-beyond", "lt-beyond", "multiple"],
)
def test_an_int_fields_bounds_are_compared_exactly(
    options: dict[str, Any], dtype: type[pl.DataType], bad: int
) -> None:
    """A float bound or one beyond the column's type still rejects the value Pydantic rejects."""
    model = create_model("Bounded", x=(int, Field(**options)))  # type: ignore[call-overload]
    with pytest.raises(SchemaValidationError) as caught:
        validate_frame.fn(pl.DataFrame({"x": pl.Series([bad], dtype=dtype)}), model)
    assert caught.value.failures["row"].to_list() == [0]


def test_a_frame_of_only_extra_columns_keeps_its_rows() -> None:
    """Dropping every column still validates each row, which the defaults fill in."""

    class Defaults(BaseModel):
        note: str = "none"

    out = validate_frame.fn(pl.DataFrame({"x": [1, 2]}), Defaults, extra_columns="drop")
    assert out.to_dicts() == [{"note": "none"}, {"note": "none"}]


def test_the_pydantic_path_keeps_a_columns_time_zone() -> None:
    """An aware datetime column comes back in its zone, not as naive UTC."""

    class Kickoff(BaseModel):
        at: dt.datetime
        note: str = "x"

    df = pl.DataFrame({"at": [dt.datetime(2024, 9, 8, 13, tzinfo=dt.UTC)]}).with_columns(
        pl.col("at").dt.convert_time_zone("America/New_York")
    )
    out = validate_frame.fn(df, Kickoff)
    assert out.schema["at"] == pl.Datetime("us", "America/New_York")
    assert out["at"].to_list() == df["at"].to_list()
