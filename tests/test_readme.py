"""The README's Python examples run as written (in order, sharing one namespace, as a reader would paste them)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    # a block that needs a real Dask cluster (a scheduler address) is for reading, not for running here
    return [b for b in blocks if "tcp://" not in b]


def test_readme_examples_run(capsys):
    blocks = python_blocks()
    assert len(blocks) >= 3
    namespace: dict = {"__name__": "__readme__"}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    printed = capsys.readouterr().out
    assert "FocalLGBMClassifier" in printed and "FocalCatBoostClassifier" in printed
    assert namespace["proba"].shape[1] == 2
