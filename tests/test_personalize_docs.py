"""docs/personalize.md's Python example runs as written and prints what the page says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "personalize.md"


def test_the_python_example_runs() -> None:
    text = DOC.read_text()
    block = re.search(r"runs it\):\n\n```python\n(.*?)```", text, re.S)
    assert block is not None, "the runnable example is gone from docs/personalize.md"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block.group(1), str(DOC), "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "vip {'text': 'Welcome back, Ann'}"
    assert lines[1] == "hello"
    assert lines[2] == "{'first_name': 'Ann', 'plan': 'vip'}"
    assert "arm='vip'" in lines[3] and "exposed=1" in lines[3]
