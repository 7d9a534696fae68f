"""The exception a task or flow hands Prefect: its type kept, its text printable and secret-free."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import Any

import cloudpickle
import pytest
from pydantic import BaseModel, ValidationError

from ff_prefect_kit import analytics_task, monitored_flow
from ff_prefect_kit.alerts import LogSink
from ff_prefect_kit.core._shown import shown
from ff_prefect_kit.testing import HarnessHandle

KEY = "pnu_shownTestKey0123456789abcdef"


@pytest.fixture(autouse=True)
def _known_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("PREFECT_API_KEY", KEY)


class _Model(BaseModel):
    points: int


class _UnprintableRepr(Exception):
    def __repr__(self) -> str:
        raise AttributeError("no repr")


class _UnprintableStr(Exception):
    def __str__(self) -> str:
        raise AttributeError("no str")


def _invalid(value: str) -> ValidationError:
    try:
        _Model(points=value)  # type: ignore[arg-type]
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


SHAPES: dict[str, Callable[[], BaseException]] = {
    "plain": lambda: RuntimeError(f"key {KEY}"),
    "key-error": lambda: KeyError(KEY),
    "os-error": lambda: FileNotFoundError(2, f"no file for {KEY}", f"/data/{KEY}"),
    "group": lambda: ExceptionGroup(f"2 failed: {KEY}", [ValueError(KEY), OSError("disk")]),
    "repr-raising": lambda: _UnprintableRepr(f"key {KEY}"),
    "validation": lambda: _invalid(KEY),
}


def test_an_exception_that_prints_clean_is_handed_over_as_it_is() -> None:
    """No secret and a working str and repr: the same object, untouched."""
    exc = RuntimeError("the feed is late")
    assert shown(exc) is exc


@pytest.mark.parametrize("make", SHAPES.values(), ids=SHAPES.keys())
def test_a_secret_is_hidden_and_the_type_kept(make: Callable[[], BaseException]) -> None:
    """str and repr show no secret; the stand-in is still an instance of the original type."""
    original = make()
    handed = shown(original)
    assert isinstance(handed, type(original))
    assert KEY not in str(handed)
    assert KEY not in repr(handed)
    assert "<redacted>" in str(handed) + repr(handed)


@pytest.mark.parametrize("dumps", [pickle, cloudpickle], ids=["pickle", "cloudpickle"])
@pytest.mark.parametrize("make", SHAPES.values(), ids=SHAPES.keys())
def test_a_stand_in_pickles_as_itself(make: Callable[[], BaseException], dumps: Any) -> None:
    """A result store or a Dask worker's answer brings back the same type and text."""
    handed = shown(make())
    copy = dumps.loads(dumps.dumps(handed))
    assert isinstance(copy, type(make()))
    assert str(copy) == str(handed)


def test_a_validation_error_stays_a_validation_error() -> None:
    """Pydantic's own type (not a subclass) with the same errors, each input redacted."""
    handed = shown(_invalid(KEY))
    assert type(handed) is ValidationError
    assert [e["loc"] for e in handed.errors()] == [("points",)]
    assert handed.errors()[0]["input"] == "<redacted>"


@pytest.mark.parametrize(
    "exc", [_UnprintableStr("x"), _UnprintableRepr("the feed is late")], ids=["str", "repr"]
)
def test_an_unprintable_exception_prints_with_its_own_type(exc: BaseException) -> None:
    """A str or repr that raises: the stand-in prints, named after the original type."""
    handed = shown(exc)
    assert type(exc).__name__ in repr(handed)
    assert str(handed)


@pytest.mark.usefixtures("no_retry_delays")
def test_the_caller_catches_the_original_type_and_prefect_keeps_no_secret(
    prefect_test_harness: HarnessHandle,
) -> None:
    """`pytest.raises(KeyError)` still matches; the run's state messages are redacted."""

    @analytics_task(name="lookup", retries=0)
    def lookup() -> None:
        raise KeyError(KEY)

    @monitored_flow(name="raises-a-secret", alerts=LogSink())
    def nightly() -> None:
        lookup()

    state = nightly(return_state=True)
    with pytest.raises(KeyError) as caught:
        state.result()
    assert KEY not in str(caught.value)
    record = prefect_test_harness.run_record(state)
    messages = [record.flow_run.state.message, *(t.message for t in record.tasks)]
    assert all(KEY not in (m or "") for m in messages)
    assert all("KeyError: '<redacted>'" in (m or "") for m in messages)


def test_the_cause_of_a_stand_in_is_the_original_cause() -> None:
    """A chained error raised through a task keeps its cause for the traceback."""
    from ff_prefect_kit.core._instrument import instrument

    cause = ConnectionError("refused")

    def load() -> None:
        raise RuntimeError(f"key {KEY}") from cause

    with pytest.raises(RuntimeError) as caught:
        instrument(load, "Task", "load")()
    assert caught.value.__cause__ is cause
    assert KEY not in str(caught.value)
