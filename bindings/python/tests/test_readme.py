"""The top-level README's "From Python" example, run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def python_example() -> str:
    text = README.read_text()
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the From Python section has one python example"
    return str(blocks[0])


def test_the_readme_example_runs_and_prints_what_it_says() -> None:
    r = subprocess.run([sys.executable, "-c", python_example()], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "alice-1 position 0",
        "bob-1 position 1 has an ETA: True",
        "carol-1 refused as busy at position 2 eta > 1 s: True",
        "alice-2: AGAIN",
        "bob-1: HELLO completed: 3",
        "squares: [0, 1, 4, 9]",
    ]
