"""The docs' examples run as written: every `sh`, `bash`, `console` and `python` block of every
page in docs/ and of the README's tour (`PAGES`) runs against one small demo store
(`demo.duckdb` in the block's working directory, also linked as `touchpath.duckdb` and
`touchpath-demo.duckdb`, with `src` and `../shared` linked to the repository's), and where a
block is followed by a `text` block, its output must be that text; a block marked
`<!-- file: NAME -->` is written to that file first (`funnel.yaml`). A block that cannot run in
a test (a live server, a reader's own file, a long import) is marked
`<!-- not-tested: reason -->` on the line before it; the last test says how many ran and how
many were marked. Pages run in order, one after another, on the one store, so a page may use
what an earlier block of it made.

Shell blocks run `touchpath` commands in-process (typer's runner over `touchpath.cli.app`): one
command per line (`\\` continues it, `;` separates two, `#` starts a comment), `export K=V` and
`K=V touchpath ...` set the environment; in a `console` block only the `$ ` lines are commands
(the others are what they print, not compared). Any other program is an error, so such a block
must be marked. A Python block that uses `store`, `tp` or `api` without defining them (a
fragment of a longer program) gets them: the demo store opened with its components.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import glob
import io
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
PAGES = tuple(
    [*sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md")), "README.md"]
)
"""Every page of docs/ and the README."""

_BLOCK = re.compile(
    r"(?P<mark><!-- not-tested: (?P<why>[^>]*?) -->\n)?```(?P<lang>sh|bash|console|python)\n"
    r"(?P<body>.*?)```\n"
    r"(?:\n```text\n(?P<out>.*?)```\n)?",
    re.S,
)


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    body: str
    output: str | None
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def blocks() -> list[Block]:
    out = []
    for page in PAGES:
        text = (REPO / page).read_text()
        for m in _BLOCK.finditer(text):
            line = text.count("\n", 0, m.start("lang")) + 1
            out.append(Block(page, line, m["lang"], m["body"], m["out"], m["why"]))
    return out


_FILE = re.compile(r"<!-- file: (?P<name>[\w.-]+) -->\n```\w*\n(?P<body>.*?)```\n", re.S)


def files() -> dict[str, str]:
    """Blocks a page marks `<!-- file: NAME -->`: written to the working directory first."""
    out: dict[str, str] = {}
    for page in PAGES:
        for m in _FILE.finditer((REPO / page).read_text()):
            out[m["name"]] = m["body"]
    return out


BLOCKS = blocks()
RAN: list[str] = []


@pytest.fixture(scope="session")
def docs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory with the small demo store as `demo.duckdb` (and as the default
    store, `touchpath.duckdb`) and `src` linked."""
    from touchpath.analytics import journey
    from touchpath.demo import DemoBusiness, DemoConfig
    from touchpath.events.message import stage_messages
    from touchpath.system import Touchpath

    where = tmp_path_factory.mktemp("docs") / "work"
    where.mkdir()
    (where / "src").symlink_to(REPO / "src")
    (where.parent / "shared").symlink_to(REPO.parent / "shared")  # ../shared/data
    (where / "touchpath.duckdb").symlink_to(where / "demo.duckdb")  # the default store
    (where / "touchpath-demo.duckdb").symlink_to(where / "demo.duckdb")  # `make demo`'s
    for name, body in files().items():
        (where / name).write_text(body)
    business = DemoBusiness(DemoConfig(customers=300, days=45, seed=7))
    with Touchpath.open(db=where / "demo.duckdb") as tp:
        now = datetime.now(UTC).replace(tzinfo=None)
        source = tp.store.create_source("demo").id  # as `touchpath demo` names it
        for batch in business.batches(2000):
            raws = [orjson.dumps(m) for m in batch]
            tp.store.ingest(stage_messages(raws, source=source, received_at=now)).result()
        tp.store.wait_idle(120)
        journey.optimize(tp.store)
    return where


@contextlib.contextmanager
def _inside(where: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(where)
    try:
        yield
    finally:
        os.chdir(before)


def commands(body: str) -> list[list[str]]:
    """The commands of a shell block: continuation lines joined, comments dropped, `;` split."""
    out: list[list[str]] = []
    lines, pending = [], ""
    for line in body.replace("\\\n", " ").splitlines():  # a quote may span lines
        pending = f"{pending}\n{line}" if pending else line
        try:
            shlex.split(pending, comments=True)
        except ValueError:
            continue
        lines.append(pending)
        pending = ""
    for line in lines:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for word in [*lexer, ";"]:
            if word == ";":
                if words:
                    out.append(words)
                words = []
            else:
                words.append(word)
    return out


def console_commands(body: str) -> list[tuple[str, str]]:
    """The commands of a `console` block (`$ ` lines and their continuation lines), each with
    the lines shown after it."""
    out: list[tuple[str, str]] = []
    going = False
    for line in body.splitlines():
        if line.startswith("$ ") or going:
            text = line[2:] if line.startswith("$ ") and not going else line
            if going:
                out[-1] = (out[-1][0] + "\n" + text, "")
            else:
                out.append((text, ""))
            going = line.rstrip().endswith("\\")
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + line + "\n")
    return out


_ASSIGN = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def _run_sh(block: Block) -> str:
    env: dict[str, str] = {}
    if block.lang != "console":
        return "".join(_run_line(block, words, env, None) for words in commands(block.body))
    shown = []
    for text, said in console_commands(block.body):
        # a command the page shows failing must fail, with the error the page shows
        error = said.strip() if said.startswith("error:") else None
        shown += [_run_line(block, words, env, error) for words in commands(text + "\n")]
    return "".join(shown)


def _run_line(block: Block, words: list[str], env: dict[str, str], error: str | None) -> str:
    """One command of a shell block, in-process; `export` sets `env` for those after it."""
    from touchpath.cli import app

    if words[0] == "export" and all(_ASSIGN.match(w) for w in words[1:]):
        env.update(w.split("=", 1) for w in words[1:])
        return ""
    here = dict(env)
    while words and _ASSIGN.match(words[0]):
        here.update([words.pop(0).split("=", 1)])
    assert words[0] == "touchpath", f"{block.id}: `{words[0]}` cannot run here; mark it"
    args: list[str] = []
    for w in words[1:]:
        matched = sorted(glob.glob(w)) if any(c in w for c in "*?[") else []
        args += matched or [w]  # as a shell does: a pattern matching nothing stays
    result = CliRunner().invoke(app, args, env=here)
    said = f"{block.id}: touchpath {' '.join(args)}\n{result.output}"
    if error is None:
        assert result.exit_code == 0, said
    else:
        assert result.exit_code != 0, said
        # the CLI prints `error: <the exception>`; more names may follow the first one shown
        got = " ".join(f"{result.output} error: {result.exception}".split())
        assert " ".join(error.split()).rstrip("?") in got, said
    return result.output


_GIVEN = {"store", "tp", "api"}


def _undefined(body: str) -> set[str]:
    """The names a Python block reads without defining or importing them."""
    tree = ast.parse(body)
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    loaded = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    return loaded - bound


def _run_python(block: Block) -> str:
    from touchpath.analytics import api
    from touchpath.system import Touchpath

    missing = _undefined(block.body)
    assert missing <= _GIVEN, f"{block.id}: uses {sorted(missing - _GIVEN)} without defining them"
    out = io.StringIO()
    code = compile(block.body, block.id, "exec")
    with contextlib.ExitStack() as stack:
        names: dict[str, object] = {"__name__": "__docs__"}
        if missing:
            tp = stack.enter_context(Touchpath.open(db="demo.duckdb"))
            names.update(tp=tp, store=tp.store, api=api)
        with contextlib.redirect_stdout(out):
            exec(code, names)
    return out.getvalue()


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.skip is None], ids=lambda b: b.id)
def test_the_docs_block_runs(block: Block, docs_dir: Path) -> None:
    with _inside(docs_dir):
        shown = _run_python(block) if block.lang == "python" else _run_sh(block)
    if block.output is not None:
        assert shown == block.output, f"{block.id}: the page shows other output"
    RAN.append(block.id)


def test_blocks_that_do_not_run_say_why() -> None:
    skipped = [b for b in BLOCKS if b.skip is not None]
    assert all(b.skip and b.skip.strip() for b in skipped)
    runnable = len(BLOCKS) - len(skipped)
    print(f"docs blocks: {runnable} run, {len(skipped)} marked not-tested, pages {PAGES}")
    assert runnable >= 5 and BLOCKS


def test_commands_are_split_as_a_shell_would() -> None:
    body = "touchpath a --x \"b c\"  # note\ntouchpath d \\\n  e ; touchpath f '{g:\n h}'\n"
    assert commands(body) == [["touchpath", "a", "--x", "b c"], ["touchpath", "d", "e"],
                              ["touchpath", "f", "{g:\n h}"]]  # fmt: skip
