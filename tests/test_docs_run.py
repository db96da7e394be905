"""The docs' examples run as written: every `sh` and `python` block of the pages in `PAGES`
runs against one small demo store (`demo.duckdb` in the block's working directory, with `src`
linked to the repository's), and where a block is followed by a `text` block, its output must
be that text; a block marked `<!-- file: NAME -->` is written to that file first (`funnel.yaml`).
A block that cannot run in a test (a live server, a reader's own file, a long
benchmark) is marked `<!-- not-tested: reason -->` on the line before it; the last test says
how many ran and how many were marked.

Shell blocks run `touchpath` commands in-process (typer's runner over `touchpath.cli.app`): one
command per line (`\\` continues it, `;` separates two, `#` starts a comment); any other
program is an error, so such a block must be marked.
"""

from __future__ import annotations

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
PAGES = ("maps.md", "demo.md", "funnels.md")
"""The pages under test (the others follow as their blocks are made runnable or marked)."""

_BLOCK = re.compile(
    r"(?P<mark><!-- not-tested: (?P<why>[^>]*?) -->\n)?```(?P<lang>sh|python)\n(?P<body>.*?)```\n"
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
        text = (REPO / "docs" / page).read_text()
        for m in _BLOCK.finditer(text):
            line = text.count("\n", 0, m.start("lang")) + 1
            out.append(Block(page, line, m["lang"], m["body"], m["out"], m["why"]))
    return out


_FILE = re.compile(r"<!-- file: (?P<name>[\w.-]+) -->\n```\w*\n(?P<body>.*?)```\n", re.S)


def files() -> dict[str, str]:
    """Blocks a page marks `<!-- file: NAME -->`: written to the working directory first."""
    out: dict[str, str] = {}
    for page in PAGES:
        for m in _FILE.finditer((REPO / "docs" / page).read_text()):
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

    where = tmp_path_factory.mktemp("docs")
    (where / "src").symlink_to(REPO / "src")
    (where / "touchpath.duckdb").symlink_to(where / "demo.duckdb")  # the default store
    for name, body in files().items():
        (where / name).write_text(body)
    business = DemoBusiness(DemoConfig(customers=300, days=45, seed=7))
    with Touchpath.open(db=where / "demo.duckdb") as tp:
        now = datetime.now(UTC).replace(tzinfo=None)
        for batch in business.batches(2000):
            raws = [orjson.dumps(m) for m in batch]
            tp.store.ingest(stage_messages(raws, source="demo", received_at=now)).result()
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


def _run_sh(block: Block) -> str:
    from touchpath.cli import app

    runner = CliRunner()
    shown = []
    for words in commands(block.body):
        assert words[0] == "touchpath", f"{block.id}: `{words[0]}` cannot run here; mark it"
        args: list[str] = []
        for w in words[1:]:
            matched = sorted(glob.glob(w)) if any(c in w for c in "*?[") else []
            args += matched or [w]  # as a shell does: a pattern matching nothing stays
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"{block.id}: touchpath {' '.join(args)}\n{result.output}"
        shown.append(result.output)
    return "".join(shown)


def _run_python(block: Block) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block.body, block.id, "exec"), {"__name__": "__docs__"})
    return out.getvalue()


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.skip is None], ids=lambda b: b.id)
def test_the_docs_block_runs(block: Block, docs_dir: Path) -> None:
    with _inside(docs_dir):
        shown = _run_sh(block) if block.lang == "sh" else _run_python(block)
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
