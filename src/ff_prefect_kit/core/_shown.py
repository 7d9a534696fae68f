"""The exception a decorated task or flow hands Prefect: printable, and with no secret in it.

Prefect keeps the text of a run's exception: the state message of the task run and of the
flow run (what the UI shows), written with `str()`, and log lines written with `repr()`.
An exception whose text holds a known secret, or whose `__str__` or `__repr__` raises, is
replaced by a stand-in that an `except` clause, a retry rule or `pytest.raises` still
matches:

- a Pydantic `ValidationError` by a new `ValidationError` of the same errors, each input
  and context redacted (the same type, not a subclass);
- any other exception by an instance of a subclass of its type, named like it, with the
  same attributes, its arguments, notes and texts redacted, and `str`/`repr` that print
  the original's, redacted (an exception group's members in turn);
- what cannot be subclassed (a type that forbids it) by the original with its arguments
  redacted in place, else by a `KitError` naming the type.

An exception that prints and holds no known secret is handed over as it is, the same object.
"""

from __future__ import annotations

from typing import Any

from ff_prefect_kit._errors import KitError
from ff_prefect_kit._secrets import redact, redact_data

__all__ = ["shown"]


def _text(exc: BaseException) -> tuple[str, bool]:
    """`str(exc)`, and whether it printed."""
    try:
        return str(exc), True
    except Exception as error:
        return f"<message unprintable: {type(error).__name__} in its __str__>", False


def _representation(exc: BaseException, text: str) -> tuple[str, bool]:
    """`repr(exc)`, and whether it printed; a stand-in built from `text` when it does not."""
    try:
        return repr(exc), True
    except Exception:
        return f"{type(exc).__name__}({text!r})", False


def shown(exc: BaseException) -> BaseException:
    """`exc` itself, or a stand-in of its type that prints and shows no known secret.

    Args:
        exc: The exception a task or flow raised.

    Returns:
        What to raise in its place, so that Prefect keeps no secret (see the module).
    """
    text, text_prints = _text(exc)
    representation, repr_prints = _representation(exc, text)
    clean_text, clean_repr = redact(text), redact(representation)
    notes = getattr(exc, "__notes__", None)
    clean_notes = [redact(str(n)) for n in notes] if isinstance(notes, list) else None
    if (
        text_prints
        and repr_prints
        and clean_text == text
        and clean_repr == representation
        and clean_notes == notes
    ):
        return exc
    for make in (_validation_error, _subclass, _in_place):
        try:
            made = make(exc, clean_text, clean_repr)
        except Exception:  # this way does not suit the type: the next one
            continue
        if made is not None:
            if clean_notes is not None:
                made.__notes__ = clean_notes
            return made
    return KitError(f"{type(exc).__name__}: {clean_text}")


def _validation_error(exc: BaseException, text: str, _repr: str) -> BaseException | None:
    from pydantic import ValidationError
    from pydantic_core import PydanticCustomError

    if type(exc) is not ValidationError:
        return None
    # A model that hides its inputs in errors keeps them hidden.
    hide_input = "input_value=" not in text
    errors = []
    for error in exc.errors(include_url=False):
        context = redact_data(dict(error.get("ctx") or {}))
        for name, value in context.items():
            if isinstance(value, BaseException):
                context[name] = shown(value)
        line: dict[str, Any] = {
            "type": error["type"],
            "loc": error["loc"],
            "input": redact_data(error.get("input")),
        }
        if context:
            line["ctx"] = context
        errors.append(line)
    try:
        rebuilt = ValidationError.from_exception_data(
            exc.title,
            errors,  # type: ignore[arg-type]
            hide_input=hide_input,
        )
    except (KeyError, TypeError, ValueError):
        # Errors of a validator's own type: rebuilt as custom errors with their message.
        for line, error in zip(errors, exc.errors(include_url=False), strict=True):
            line["type"] = PydanticCustomError(error["type"], redact(error["msg"]))
            line.pop("ctx", None)
        rebuilt = ValidationError.from_exception_data(
            exc.title,
            errors,  # type: ignore[arg-type]
            hide_input=hide_input,
        )
    return rebuilt


def _clean_args(exc: BaseException) -> tuple[Any, ...]:
    if isinstance(exc, BaseExceptionGroup):
        return (redact(exc.message), [shown(member) for member in exc.exceptions])
    args = tuple(redact_data(arg) for arg in exc.args)
    if isinstance(exc, OSError) and len(args) == 2 and exc.filename is not None:
        # OSError keeps its file names out of `args`: given again, they are kept.
        args = (*args, redact_data(exc.filename), None, redact_data(exc.filename2))
    return args


def _subclass(exc: BaseException, text: str, representation: str) -> BaseException:
    original = type(exc)
    stand_in_type = _stand_in_type(original, text, representation)
    args = _clean_args(exc)
    made: BaseException = stand_in_type.__new__(stand_in_type, *args)
    if not isinstance(exc, BaseExceptionGroup | OSError):
        made.args = args
    attributes = getattr(exc, "__dict__", {})
    made.__dict__.update(
        {name: redact_data(value) for name, value in attributes.items() if name != "__notes__"}
    )
    return made


def _stand_in_type(original: type[BaseException], text: str, representation: str) -> type[Any]:
    def reduce(self: BaseException) -> tuple[Any, ...]:
        return (_rebuild, (original, text, representation, self.args, dict(self.__dict__)))

    return type(
        original.__name__,
        (original,),
        {
            "__str__": lambda _self: text,
            "__repr__": lambda _self: representation,
            "__reduce__": reduce,
            "__module__": original.__module__,
            "__qualname__": original.__qualname__,
        },
    )


def _rebuild(
    original: type[BaseException],
    text: str,
    representation: str,
    args: tuple[Any, ...],
    attributes: dict[str, Any],
) -> BaseException:
    """Unpickle a stand-in (a result store, a Dask worker's answer): the same stand-in."""
    stand_in_type = _stand_in_type(original, text, representation)
    made: BaseException = stand_in_type.__new__(stand_in_type, *args)
    made.__dict__.update(attributes)
    return made


def _in_place(exc: BaseException, _clean_text: str, _clean_repr: str) -> BaseException | None:
    exc.args = _clean_args(exc)
    shown_text, prints = _text(exc)
    shown_repr, repr_prints = _representation(exc, shown_text)
    clean = redact(shown_text) == shown_text and redact(shown_repr) == shown_repr
    return exc if prints and repr_prints and clean else None
