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
(the others are what they print, not compared). `curl` lines run as written, in bash, against
one real server the session starts (`touchpath serve` on 127.0.0.1, on a copy of the demo store
made before the pages run; `localhost:8000` and `:8765` reach it through curl's own
`connect-to`), with the token and write keys the page tells the reader to set (`export
TOUCHPATH_TOKEN=tp_...`, `KEY=...`: the page must name each variable a curl line uses) set to
real ones. Every answer's status must be a success, and where the page shows the answer (a
`# {...}` comment line after the command, or a `json` block after the block) the answer must
hold what it shows (`...` stands for anything). `touchpath serve` lines are the test's server.
Any other program is an error, so such a block must be marked. A Python block that uses `store`, `tp` or `api` without defining them (a
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
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
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
    r"(?:\n```text\n(?P<out>.*?)```\n)?"
    r"(?:\n```json\n(?P<json>.*?)```\n)?",
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
    shown_json: str | None = None
    """A `json` block right after the block: what its last curl line answers."""

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def blocks() -> list[Block]:
    out = []
    for page in PAGES:
        text = (REPO / page).read_text()
        for m in _BLOCK.finditer(text):
            line = text.count("\n", 0, m.start("lang")) + 1
            out.append(Block(page, line, m["lang"], m["body"], m["out"], m["why"], m["json"]))
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
        demo = tp.store.create_source("demo")  # as `touchpath demo` names it
        for batch in business.batches(2000):
            raws = [orjson.dumps(m) for m in batch]
            tp.store.ingest(stage_messages(raws, source=demo.id, received_at=now)).result()
        tp.store.wait_idle(120)
        journey.optimize(tp.store)
    _serve_later(where, demo.write_key)
    return where


def _serve_later(where: Path, demo_key: str) -> None:
    """The store the server will serve: a copy of the demo store as the pages start, with an
    owner's token and a source `web`; the secrets the pages' variables stand for beside it."""
    from touchpath import access
    from touchpath.store import Store

    served = where.parent / "served.duckdb"
    shutil.copyfile(where / "demo.duckdb", served)
    with Store(served) as store:
        token = access.create_token(store, "owner", "the docs' curl lines")[1]
        web = store.create_source("web").write_key
    secrets = {"TOUCHPATH_TOKEN": token, "TOKEN": token, "KEY": web, "WRITE_KEY": web,
               "DEMO_WRITE_KEY": demo_key}  # fmt: skip
    (where.parent / "served.json").write_bytes(orjson.dumps(secrets))


@dataclass(frozen=True)
class Served:
    """The server the curl lines call, and the values of the variables pages define."""

    port: int
    curl_home: Path
    secrets: dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def served(docs_dir: Path) -> Iterator[Served]:
    """`touchpath serve` on 127.0.0.1 over the served copy, one for the session (the kernels
    off: the few analyses the pages ask need no compiled pass, and loading them costs CPU)."""
    port = _free_port()
    home = docs_dir.parent / "curl"
    home.mkdir(exist_ok=True)
    hops = "".join(f'connect-to = "{host}:{p}:127.0.0.1:{port}"\n'
                   for host in ("localhost", "127.0.0.1") for p in (8000, 8765))  # fmt: skip
    (home / ".curlrc").write_text(
        hops + 'write-out = "%{stderr}<<<status %{http_code}>>>\\n"\nmax-time = 120\n'
    )
    exe = Path(sys.executable).parent / "touchpath"
    log = (docs_dir.parent / "server.log").open("wb")
    env = {**os.environ, "TOUCHPATH_ANALYTICS_KERNELS": "false"}
    for name in ("TOUCHPATH_DB", "TOUCHPATH_PORT", "TOUCHPATH_HOST"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [str(exe), "serve", "--db", str(docs_dir.parent / "served.duckdb"), "--port", str(port)],
        cwd=docs_dir.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600  # a loaded CI machine starts it slowly
        while True:
            assert proc.poll() is None, (docs_dir.parent / "server.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/ping", timeout=60).status_code:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer in 600 s"
                time.sleep(0.3)
        secrets = orjson.loads((docs_dir.parent / "served.json").read_bytes())
        yield Served(port, home, secrets)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def _inside(where: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(where)
    try:
        yield
    finally:
        os.chdir(before)


def logical_lines(body: str) -> list[str]:
    """The lines of a shell block as a shell reads them: continuation lines joined, a quote
    that spans lines kept whole (the text as written)."""
    lines, pending = [], ""
    for line in body.replace("\\\n", " ").splitlines():  # a quote may span lines
        pending = f"{pending}\n{line}" if pending else line
        try:
            shlex.split(pending, comments=True)
        except ValueError:
            continue
        lines.append(pending)
        pending = ""
    return lines


def commands(body: str) -> list[list[str]]:
    """The commands of a shell block: continuation lines joined, comments dropped, `;` split."""
    out: list[list[str]] = []
    for line in logical_lines(body):
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


def _open_quote(text: str) -> bool:
    """Whether `text` ends inside a quote (the command goes on on the next line)."""
    try:
        shlex.split(text.replace("\\\n", " "), comments=True)
    except ValueError:
        return True
    return False


def console_commands(body: str) -> list[tuple[str, str]]:
    """The commands of a `console` block (`$ ` lines and their continuation lines, or the
    lines of a quote that spans them), each with the lines shown after it."""
    out: list[tuple[str, str]] = []
    going = False
    for line in body.splitlines():
        if line.startswith("$ ") or going:
            text = line[2:] if line.startswith("$ ") and not going else line
            if going:
                out[-1] = (out[-1][0] + "\n" + text, "")
            else:
                out.append((text, ""))
            going = line.rstrip().endswith("\\") or _open_quote(out[-1][0])
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + line + "\n")
    return out


_ASSIGN = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def _run_sh(block: Block, served: Served | None) -> str:
    env: dict[str, str] = {}
    if block.lang != "console":
        return _run_lines(block, logical_lines(block.body), env, served, None)
    shown = []
    for text, said in console_commands(block.body):
        # a command the page shows failing must fail, with the error the page shows
        error = said.strip() if said.startswith("error:") else None
        shown.append(_run_lines(block, logical_lines(text + "\n"), env, served, error))
    return "".join(shown)


def _run_lines(
    block: Block, lines: list[str], env: dict[str, str], served: Served | None, error: str | None
) -> str:
    """Each line of a shell block: a curl line in bash against the server (a `# {...}` line
    right after it is what it answers), any other command in-process."""
    out: list[str] = []
    last: str | None = None
    for raw in lines:
        if raw.lstrip().startswith("# {") and last is not None:
            _holds(block, last, raw.lstrip()[2:])
            continue
        words = commands(raw + "\n")
        last = None
        if words and _program(words[0]) == "curl":
            assert served is not None and len(words) == 1, f"{block.id}: one curl a line"
            last = _run_curl(block, raw, env, served)
            out.append(last)
            continue
        out += [_run_line(block, w, env, error, served) for w in words]
    if block.shown_json is not None:
        assert last is not None, f"{block.id}: a json block after a block that ends in no curl"
        _holds(block, last, block.shown_json)
    return "".join(out)


def _program(words: list[str]) -> str:
    """The program a command runs (after its `K=V` assignments)."""
    rest = [w for w in words if not _ASSIGN.match(w)]
    return rest[0] if rest else ""


_VAR = re.compile(r"\$\{?([A-Z_][A-Z0-9_]*)")


def _defined(page: str) -> set[str]:
    """The variables a page tells the reader to set (`NAME=...` anywhere on it)."""
    return set(re.findall(r"\b([A-Z_][A-Z0-9_]*)=", (REPO / page).read_text()))


def _run_curl(block: Block, raw: str, env: dict[str, str], served: Served) -> str:
    """One curl line in bash against the test's server: what it prints; every answer must be
    a success."""
    used = set(_VAR.findall(raw))
    defined = _defined(block.page) | set(env)
    assert used <= defined, f"{block.id}: uses {sorted(used - defined)}, which the page never sets"
    values = {k: v for k, v in served.secrets.items() if k in defined}
    run_env = {"PATH": os.environ["PATH"], "CURL_HOME": str(served.curl_home),
               "HOME": str(served.curl_home), **values, **env}  # fmt: skip
    done = subprocess.run(["bash", "-c", "set -eo pipefail\n" + raw], env=run_env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    statuses = [int(x) for x in re.findall(r"<<<status (\d+)>>>", done.stderr)]
    said = f"{block.id}: {raw}\nexit {done.returncode}, status {statuses}\n{done.stdout[:2000]}"
    assert done.returncode == 0 and statuses, said + done.stderr[-2000:]
    assert all(200 <= x < 300 for x in statuses), said
    return done.stdout


def _holds(block: Block, answer: str, shown: str) -> None:
    """The answer holds what the page shows of it (`...` stands for anything)."""
    want = _lenient(shown)
    assert want is not None, f"{block.id}: the shown answer is not JSON: {shown}"
    got = orjson.loads(answer)
    assert _within(want, got), f"{block.id}: the page shows {shown}\nthe server said {answer}"


def _lenient(text: str) -> object | None:
    """JSON as a page shows it, with `...` for what it leaves out: a `...` element or member is
    dropped, a `...` value is any value, a string ending in `...` any string that starts so."""
    cut = re.sub(r",\s*\.\.\.(?=\s*[}\]])", "", text)
    cut = re.sub(r"(?<=[{\[])\s*\.\.\.\s*,?", "", cut)
    cut = re.sub(r"(:\s*)\.\.\.(?=\s*[,}])", r'\1"..."', cut)
    try:
        return orjson.loads(cut)
    except orjson.JSONDecodeError:
        return None


def _within(want: object, got: object) -> bool:
    """Whether `got` holds `want`: its keys with their values, its first items, `...`."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(
            k in got and _within(v, got[k]) for k, v in want.items()
        )
    if isinstance(want, list):
        return (isinstance(got, list) and len(got) >= len(want)
                and all(_within(w, g) for w, g in zip(want, got, strict=False)))  # fmt: skip
    if isinstance(want, str) and want.endswith("..."):
        return isinstance(got, str) and got.startswith(want[:-3])
    return want == got


def _assign(word: str, served: Served | None) -> tuple[str, str]:
    """`K=V`: a placeholder value (`tp_...`, `...`) of a variable the server has a secret for
    is that secret (the reader's own token or write key)."""
    name, value = word.split("=", 1)
    if "..." in value and served is not None and name in served.secrets:
        return name, served.secrets[name]
    return name, value


def _run_line(
    block: Block, words: list[str], env: dict[str, str], error: str | None, served: Served | None
) -> str:
    """One command of a shell block, in-process; `export` (or a line of assignments alone) sets
    `env` for those after it; `touchpath serve` is the test's own server."""
    from touchpath.cli import app

    sets = words[1:] if words[0] == "export" else words
    if all(_ASSIGN.match(w) for w in sets):
        env.update(_assign(w, served) for w in sets)
        return ""
    here = dict(env)
    while words and _ASSIGN.match(words[0]):
        here.update([_assign(words.pop(0), served)])
    assert words[0] == "touchpath", f"{block.id}: `{words[0]}` cannot run here; mark it"
    if words[1:2] == ["serve"]:
        assert served is not None, f"{block.id}: serves, and calls no curl: mark it"
        return ""
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
def test_the_docs_block_runs(block: Block, docs_dir: Path, request: pytest.FixtureRequest) -> None:
    calls = block.lang != "python" and any(
        _program(w) == "curl" for w in commands(block.body.replace("$ ", ""))
    )
    served: Served | None = request.getfixturevalue("served") if calls else None
    with _inside(docs_dir):
        shown = _run_python(block) if block.lang == "python" else _run_sh(block, served)
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
