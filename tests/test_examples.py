"""Every script in examples/ runs to completion in a fresh interpreter and prints its metrics.

The scripts are found by glob, so new examples are picked up without touching this file. Each must exit with 0
and print PR-AUC and log-loss figures. The examples are meant to take under 30 s on 2 idle cores; the time limit
here is a generous hang guard, since the test machine may be shared.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIME_LIMIT_S = 180
NUMBER = re.compile(r"\b\d+\.\d{3,}\b")  # a printed metric value such as 0.5369
# what the engines print on their own when an example forgets to quiet them
ENGINE_NOISE = re.compile(r"^\[LightGBM\]|^Finding random open ports|got rank \d", re.M)


def test_examples_exist():
    names = {path.name for path in EXAMPLES}
    assert {"catboost_binary.py", "multiclass_all_engines.py", "sklearn_gridsearch.py"} <= names


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs_and_prints_metrics(script):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True,
                          timeout=TIME_LIMIT_S)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, f"{script.name} failed after {seconds:.1f} s:\n{proc.stderr[-4000:]}"
    out = proc.stdout
    assert "PR-AUC" in out, f"{script.name} printed no PR-AUC:\n{out}"
    assert re.search(r"log ?loss", out, re.IGNORECASE), f"{script.name} printed no log loss:\n{out}"
    assert len(NUMBER.findall(out)) >= 3, f"{script.name} printed no metric values:\n{out}"
    noise = ENGINE_NOISE.search(out + proc.stderr)
    assert not noise, f"{script.name} printed engine logs:\n{out}\n{proc.stderr[-2000:]}"
