"""The docs run: every Python example in `docs/*.md` and `README.md` is executed.

How a page's ```` ```python ```` blocks run:

- Each page runs in one fresh subprocess (importing Prefect costs seconds; a process per
  block would too), in a temporary working directory, against the session's Prefect test
  API (`PREFECT_API_URL`), with `FF_ENV_FILE=/dev/null`, no `DISCORD_WEBHOOK_URL`, and an
  unreachable proxy for everything but loopback, so no example ever reaches Discord or the
  internet. Pages run side by side, three at a time. Each block is still its own test, with the
  id `<file>:<line>`, and a failure's traceback points at the line in the Markdown file.
- Each block runs as a fresh `__main__` module. A `test_*` function a block defines is then
  called, with the plugin's fixtures built from their plain APIs (`_fixtures()` below).
- A comment on the line(s) right before a block changes that:

  - `<!-- continue -->`: run in the namespace of the page's previous Python block, to
    build on what it defined;
  - `<!-- raises: ConfigError -->`: the block must raise that exception (or a subclass);
  - `<!-- not run: <reason> -->`: do not run it (it is still compiled); the reason is
    required, e.g. `<!-- not run: posts to a real Discord webhook -->`.

A block a reader copies must work as copied, or say it is a fragment: a Python block that
uses a name it does not define (a `<!-- continue -->` block, or a block not run that builds
on an earlier one) starts with a comment line, visible in the rendered page, such as
`# Continues the example above: weekly_points is defined there.`, naming each such name.

Other blocks are not run, but every `ff-prefect-kit <command>` written in code on any page
must be a command of the CLI, and `docs/reference.md`'s tables must match the code.
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
import json
import os
import re
import subprocess
import symtable
import sys
import tempfile
import traceback
import types
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = (*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md")
REFERENCE = ROOT / "docs" / "reference.md"
PYTHON = ("python", "py")
PAGE_TIMEOUT = 300

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")
_COMMENT = re.compile(r"^\s*<!--(?P<body>.*?)-->\s*$")
_MARKER = re.compile(r"^\s*(?P<kind>continue|raises|not run)\s*(?::\s*(?P<arg>.*?))?\s*$")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_COMMAND = re.compile(r"ff-prefect-kit((?: [a-z][a-z-]*)+)")
_FRAGMENT_LABEL = re.compile(r"^# Continues\b")


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page, with the markers on the lines right before it."""

    page: Path
    line: int  # the first line of code, 1-based
    lang: str
    code: str
    markers: tuple[tuple[str, str | None], ...] = ()
    comments: tuple[str, ...] = ()  # every comment right before it, markers or not

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def marker(self, kind: str) -> str | None:
        """The argument of marker `kind` ("" when it has none), or None when absent."""
        return next(((arg or "") for k, arg in self.markers if k == kind), None)

    @property
    def runs(self) -> bool:
        return self.lang in PYTHON and self.marker("not run") is None


@dataclass
class Page:
    """A Markdown page: its code blocks and its text outside them."""

    path: Path
    blocks: list[Block] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)
    stray_markers: list[int] = field(default_factory=list)  # lines of markers before no block

    @property
    def python(self) -> list[Block]:
        return [b for b in self.blocks if b.lang in PYTHON]


@cache
def parse(path: Path) -> Page:
    """Split a page into fenced blocks (with their markers) and prose."""
    page = Page(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    comments: list[tuple[int, str]] = []  # comment lines right before the current line
    i = 0
    while i < len(lines):
        text = lines[i]
        opening = _FENCE.match(text)
        if opening is None:
            if comment := _COMMENT.match(text):
                comments.append((i + 1, comment["body"].strip()))
            elif text.strip():
                page.stray_markers += [n for n, body in comments if _MARKER.match(body)]
                comments = []
                page.prose.append(text)
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            text = lines[i]
            body.append(text[indent:] if text[:indent].strip() == "" else text.lstrip())
            i += 1
        i += 1
        markers = tuple(
            (m["kind"], m["arg"]) for _, body_text in comments if (m := _MARKER.match(body_text))
        )
        page.blocks.append(
            Block(
                page=path,
                line=i - len(body),
                lang=opening["lang"].lower(),
                code="\n".join(body) + "\n",
                markers=markers,
                comments=tuple(c for _, c in comments),
            )
        )
        comments = []
    page.stray_markers += [n for n, body in comments if _MARKER.match(body)]
    return page


def _blocks(select: Callable[[Block], bool]) -> list[Any]:
    return [pytest.param(b, id=b.id) for page in PAGES for b in parse(page).blocks if select(b)]


# --- running a page ----------------------------------------------------------------------


def _environment(api_url: str, workdir: Path) -> dict[str, str]:
    """The environment a page runs in: a test API, no secrets, no way off the machine."""
    keep = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "FF_", "DISCORD_"))
        and name.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    }
    return {
        **keep,
        "PREFECT_API_URL": api_url,
        "PREFECT_HOME": str(workdir / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
        "FF_ENV_FILE": os.devnull,
        # Port 9 (discard) refuses: a block that posts anywhere but loopback fails fast.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost,::1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@dataclass(frozen=True)
class PageRun:
    """What running one page gave: each block's outcome, and the process's output."""

    outcomes: dict[int, dict[str, str]]
    output: str


class DocsRunner:
    """Run pages in parallel subprocesses, each page once per session."""

    def __init__(self, api_url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.api_url = api_url
        self.tmp = tmp_path_factory
        # Two cores here: three pages at a time keep both busy while one waits on the API.
        self.pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="docs-page")
        self.runs: dict[Path, Future[PageRun]] = {}

    def start(self, paths: Iterable[Path]) -> None:
        """Start running `paths` in the background, each at most once."""
        for path in paths:
            if path not in self.runs:
                # Made here, in the session's thread: the first `mktemp` creates the worker's
                # base folder, which two page threads at once would both try to create.
                self.runs[path] = self.pool.submit(self._run, path, self.tmp.mktemp(path.stem))

    def run(self, path: Path) -> PageRun:
        self.start([path])
        return self.runs[path].result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, path: Path, workdir: Path) -> PageRun:
        blocks = [b for b in parse(path).python if b.runs]
        plan = workdir / ".docs-plan.json"
        report = workdir / ".docs-report.json"
        plan.write_text(
            json.dumps(
                [
                    {
                        "file": str(b.page),
                        "line": b.line,
                        "code": b.code,
                        "continue": b.marker("continue") is not None,
                        "raises": b.marker("raises"),
                    }
                    for b in blocks
                ]
            )
        )
        try:
            done = subprocess.run(
                [sys.executable, __file__, str(plan), str(report)],
                cwd=workdir,
                env=_environment(self.api_url, workdir),
                capture_output=True,
                text=True,
                timeout=PAGE_TIMEOUT,
                check=False,
            )
            output = done.stdout + done.stderr
        except subprocess.TimeoutExpired as expired:
            output = f"the page did not finish within {PAGE_TIMEOUT} s\n{expired.stdout!r}"
        outcomes = json.loads(report.read_text()) if report.exists() else {}
        return PageRun({int(line): o for line, o in outcomes.items()}, output)


@pytest.fixture(scope="session")
def docs_runner(
    request: pytest.FixtureRequest,
    prefect_test_harness: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DocsRunner]:
    """Runs the pages' blocks against the session's Prefect test API.

    Every page with a selected block starts at once, so pages run side by side.
    """
    runner = DocsRunner(prefect_test_harness.api_url, tmp_path_factory)
    selected = [
        item.callspec.params["block"].page
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_python_block_runs"
    ]
    try:
        runner.start(dict.fromkeys(selected))
        yield runner
    finally:
        runner.close()


@pytest.mark.parametrize("block", _blocks(lambda b: b.runs))
def test_python_block_runs(block: Block, docs_runner: DocsRunner) -> None:
    """The Python example runs as written (and raises what its `raises` marker says)."""
    run = docs_runner.run(block.page)
    outcome = run.outcomes.get(block.line)
    if outcome is None:
        pytest.fail(f"{block.id}: the page's run reported nothing\n{run.output[-4000:]}")
    if outcome["status"] != "ok":
        pytest.fail(f"{block.id}: {outcome['detail']}\n--- the page's output ---\n{run.output}")


# --- markers -----------------------------------------------------------------------------


@pytest.mark.parametrize("block", _blocks(lambda b: b.marker("not run") is not None))
def test_not_run_marker_gives_a_reason(block: Block) -> None:
    """A block left out of the run says why: `<!-- not run: <reason> -->`."""
    assert block.marker("not run"), (
        f"{block.id}: write why the block is not run, e.g. <!-- not run: needs a webhook -->"
    )


@pytest.mark.parametrize("block", _blocks(lambda b: b.lang in PYTHON and not b.runs))
def test_block_not_run_still_compiles(block: Block) -> None:
    """A Python block that is not run is still valid Python."""
    compile(block.code, block.id, "exec")


@pytest.mark.parametrize("block", _blocks(lambda b: bool(b.comments)))
def test_comments_before_a_block_are_known_markers(block: Block) -> None:
    """A comment right before a block is a marker the runner knows, on a Python block."""
    for comment in block.comments:
        assert _MARKER.match(comment), (
            f"{block.id}: unknown marker <!-- {comment} -->; use <!-- continue -->, "
            "<!-- raises: ErrorName --> or <!-- not run: reason -->"
        )
    assert block.lang in PYTHON, f"{block.id}: markers apply to ```python blocks only"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_marker_is_right_before_a_block(page: Path) -> None:
    """A marker is followed by a code block, with nothing but blank lines between."""
    assert not parse(page).stray_markers, (
        f"{page.relative_to(ROOT)}: markers on lines {parse(page).stray_markers} "
        "are not right before a code block; move them there or remove them"
    )


@pytest.mark.parametrize("block", _blocks(lambda b: b.marker("continue") is not None))
def test_continued_block_follows_a_block_that_runs(block: Block) -> None:
    """`<!-- continue -->` builds on the page's previous Python block, which must run."""
    python = parse(block.page).python
    before = python[: python.index(block)]
    assert before, f"{block.id}: the first Python block of a page cannot continue"
    assert before[-1].runs, f"{block.id}: continues {before[-1].id}, which is not run"


# --- fragments ---------------------------------------------------------------------------


def undefined_names(code: str) -> list[str]:
    """The global names `code` reads but neither defines, imports nor gets from builtins."""
    top = symtable.symtable(code, "<block>", "exec")
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    used: set[str] = set()
    tables = [top]
    while tables:
        table = tables.pop()
        for symbol in table.get_symbols():
            # At module level every name is global; inside a function or class, the
            # names it neither binds nor takes from an enclosing function are.
            if symbol.is_referenced() and (table is top or symbol.is_global()):
                used.add(symbol.get_name())
        tables += table.get_children()
    return sorted(used - defined - set(dir(builtins)) - {"__file__", "__name__"})


def test_undefined_names_sees_names_used_inside_functions_and_classes() -> None:
    """A name read in a function, a class body or a comprehension, defined nowhere, is found."""
    code = "import a.b\nclass C:\n    x = y\n    def f(self):\n        return [i for i in z]\n"
    assert undefined_names(code) == ["y", "z"]


@pytest.mark.parametrize("block", _blocks(lambda b: b.lang in PYTHON))
def test_a_fragment_says_so_in_its_first_line(block: Block) -> None:
    """A block using names it does not define starts with `# Continues ...` naming them."""
    missing = undefined_names(block.code)
    if not missing:
        return
    first = block.code.splitlines()[0] if block.code.strip() else ""
    assert _FRAGMENT_LABEL.match(first), (
        f"{block.id}: uses {missing} without defining them; define them in the block, or "
        "make its first line say where they come from, e.g. "
        f"`# Continues the example above: {missing[0]} is defined there.`"
    )
    unnamed = [name for name in missing if not re.search(rf"\b{re.escape(name)}\b", first)]
    assert not unnamed, f"{block.id}: its first line does not name {unnamed}"


# --- the command line --------------------------------------------------------------------


def _cli_commands() -> dict[str, set[str]]:
    """The CLI's commands: a plain command maps to no subcommands, a group to its own."""
    import typer

    from ff_prefect_kit.cli._main import app

    # Duck-typed: newer typer releases carry their own copy of click.
    root: Any = typer.main.get_command(app)
    return {
        name: set(getattr(command, "commands", None) or ())
        for name, command in root.commands.items()
    }


def _code_texts(page: Page) -> Iterator[str]:
    for block in page.blocks:
        yield block.code
    for line in page.prose:
        yield from _CODE_SPAN.findall(line)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_commands_named_in_code_exist(page: Path) -> None:
    """Every `ff-prefect-kit <command>` written in a page's code is a command of the CLI."""
    commands = _cli_commands()
    unknown = []
    for text in _code_texts(parse(page)):
        for match in _COMMAND.finditer(text):
            words = match[1].split()
            if words[0] not in commands:
                unknown.append(" ".join(words[:1]))
            elif commands[words[0]] and (len(words) < 2 or words[1] not in commands[words[0]]):
                unknown.append(" ".join(words[:2]))
    assert not unknown, (
        f"{page.relative_to(ROOT)} names ff-prefect-kit commands the CLI lacks: "
        f"{sorted(set(unknown))}; it has {sorted(commands)}"
    )


# --- docs/reference.md against the code --------------------------------------------------


def _table(heading: str) -> list[list[str]]:
    """The rows (cells as text) of the first table under the `## heading` of reference.md."""
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"## {heading}")
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))  # `\|` is a literal pipe
            rows.append([cell.strip().replace("\\|", "|") for cell in cells])
        elif rows:
            break
    return rows[2:]  # no header, no |---| line


def _spans(cell: str) -> list[str]:
    return _CODE_SPAN.findall(cell)


def _settings_rows() -> dict[str, list[str]]:
    return {_spans(row[0])[0]: row for row in _table("Settings")}


def _exception_classes() -> dict[str, type[BaseException]]:
    import ff_prefect_kit

    return {
        name: obj
        for name in ff_prefect_kit.__all__
        if isinstance(obj := getattr(ff_prefect_kit, name), type)
        and issubclass(obj, ff_prefect_kit.KitError)
    }


def test_reference_lists_every_setting() -> None:
    """reference.md's settings table has one row per `KitSettings` field, and no other."""
    from ff_prefect_kit import KitSettings

    documented, fields = set(_settings_rows()), set(KitSettings.model_fields)
    assert documented == fields, (
        f"docs/reference.md, Settings: add {sorted(fields - documented)}, "
        f"remove {sorted(documented - fields)}"
    )


def test_reference_names_each_settings_variable() -> None:
    """Each setting's row names the environment variable that sets it."""
    from ff_prefect_kit._settings import env_name

    wrong = {
        name: (_spans(row[1]), env_name(name))
        for name, row in _settings_rows().items()
        if env_name(name) not in _spans(row[1])
    }
    assert not wrong, f"docs/reference.md, Settings: (written, right) variables: {wrong}"


def test_reference_gives_each_settings_default() -> None:
    """Each setting's default is the code's: `unset` for None, else the value in code."""
    from ff_prefect_kit import KitSettings

    wrong = {}
    for name, row in _settings_rows().items():
        info = KitSettings.model_fields.get(name)
        if info is None:
            continue
        default, cell = info.default, row[2]
        right = cell.startswith("unset") if default is None else str(default) in _spans(cell)
        if not right:
            wrong[name] = (cell, "unset" if default is None else str(default))
    assert not wrong, f"docs/reference.md, Settings: (written, right) defaults: {wrong}"


def test_reference_lists_every_exception() -> None:
    """reference.md's exceptions table has one row per `KitError` class the package exports."""
    documented = {_spans(row[0])[0] for row in _table("Exceptions")}
    exported = set(_exception_classes())
    assert documented == exported, (
        f"docs/reference.md, Exceptions: add {sorted(exported - documented)}, "
        f"remove {sorted(documented - exported)}"
    )


def test_reference_gives_each_exceptions_bases() -> None:
    """Each exception's row lists exactly its base classes, in order."""
    classes = _exception_classes()
    wrong = {}
    for row in _table("Exceptions"):
        name = _spans(row[0])[0]
        if name in classes:
            bases = [base.__name__ for base in classes[name].__bases__]
            if _spans(row[1]) != bases:
                wrong[name] = (_spans(row[1]), bases)
    assert not wrong, f"docs/reference.md, Exceptions: (written, right) bases: {wrong}"


def test_reference_lists_every_command() -> None:
    """reference.md's command table has one row per command of the CLI, and no other."""
    documented = set()
    for row in _table("Command line"):
        words = _spans(row[0])[0].split()[1:]
        documented.add(" ".join(w for w in words[:2] if re.fullmatch(r"[a-z][a-z-]*", w)))
    commands = {
        f"{name} {sub}".strip() if subs else name
        for name, subs in _cli_commands().items()
        for sub in (sorted(subs) or [""])
    }
    assert documented == commands, (
        f"docs/reference.md, Command line: add {sorted(commands - documented)}, "
        f"remove {sorted(documented - commands)}"
    )


# --- the runner, in the page's subprocess ------------------------------------------------


def _fixtures(stack: contextlib.ExitStack, test: Callable[..., Any]) -> dict[str, Any]:
    """Build the fixtures a `test_*` function of a block asks for, from their plain APIs."""
    from ff_prefect_kit.testing import (
        HarnessHandle,
        build_synthetic_marts,
        mock_discord_webhook,
        set_testing,
    )

    marks = {mark.name: mark for mark in getattr(test, "pytestmark", [])}
    used = [*inspect.signature(test).parameters]
    if "usefixtures" in marks:
        used += [name for name in marks["usefixtures"].args if name not in used]
    folder = Path(tempfile.mkdtemp(dir="."))
    webhook_options = (
        marks["discord_webhook_mock"].kwargs if "discord_webhook_mock" in marks else {}
    )
    makers: dict[str, Callable[[], Any]] = {
        "tmp_path": lambda: folder,
        "prefect_test_harness": lambda: HarnessHandle(
            api_url=os.environ["PREFECT_API_URL"], home=Path(os.environ["PREFECT_HOME"])
        ),
        "no_retry_delays": lambda: stack.enter_context(set_testing(True)),
        "discord_webhook_mock": lambda: stack.enter_context(
            mock_discord_webhook(**webhook_options)
        ),
        "synthetic_marts": lambda: build_synthetic_marts(folder / "marts.duckdb"),
    }
    missing = [name for name in used if name not in makers]
    if missing:
        raise LookupError(
            f"the docs runner has no fixture {missing}: add it to _fixtures() in "
            "tests/test_docs.py, or mark the block <!-- not run: reason -->"
        )
    made = {name: makers[name]() for name in used}
    return {name: made[name] for name in inspect.signature(test).parameters}


def _run_block(block: dict[str, Any], module: types.ModuleType) -> None:
    """Execute a block in `module`, then call the `test_*` functions it defined."""
    before = dict(module.__dict__)
    # Padded to its line, and named after the page: a traceback points into the Markdown.
    source = "\n" * (block["line"] - 1) + block["code"]
    exec(compile(source, block["file"], "exec", dont_inherit=True), module.__dict__)
    for name, value in list(module.__dict__.items()):
        if name.startswith("test") and callable(value) and before.get(name) is not value:
            with contextlib.ExitStack() as stack:
                value(**_fixtures(stack, value))


def _outcome(block: dict[str, Any], module: types.ModuleType) -> dict[str, str]:
    expected = block["raises"]
    try:
        _run_block(block, module)
    except BaseException as exc:
        names = [cls.__name__ for cls in type(exc).__mro__]
        if expected and expected in names:
            return {"status": "ok", "detail": ""}
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # the runner's own frames tell nothing about the block
        lines = traceback.format_exception(type(exc), exc, tb)
        return {"status": "failed", "detail": "".join(lines)}
    if expected:
        return {"status": "failed", "detail": f"expected the block to raise {expected}"}
    return {"status": "ok", "detail": ""}


def _run_page(plan: Path, report: Path) -> None:
    """Run a page's blocks in order; write each block's outcome to `report`."""
    outcomes: dict[int, dict[str, str]] = {}
    module, previous = types.ModuleType("__main__"), None
    for block in json.loads(plan.read_text()):
        if not block["continue"]:
            module, previous = types.ModuleType("__main__"), None
            module.__file__ = block["file"]
        sys.modules["__main__"] = module
        if previous is not None and outcomes[previous]["status"] != "ok":
            outcomes[block["line"]] = {
                "status": "failed",
                "detail": f"not run: it continues the block at line {previous}, which failed",
            }
        else:
            outcomes[block["line"]] = _outcome(block, module)
        previous = block["line"]
        report.write_text(json.dumps(outcomes))


if __name__ == "__main__":
    # The page's working directory is importable, as it is for `python -c`.
    sys.path[0] = ""
    _run_page(Path(sys.argv[1]), Path(sys.argv[2]))
