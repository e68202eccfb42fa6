"""Smoke test of the speed benchmark (no timing assertions): it runs at tiny n, writes the CSV and the markdown
table with every section and column, and its naive reference is the textbook focal derivative."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from focal_boost import FocalLoss

ROOT = Path(__file__).resolve().parents[1]


def _load_speed():
    # the speed harness is a development tool in benchmarks/, not part of the package
    import importlib.util

    spec = importlib.util.spec_from_file_location("focal_boost_speed_harness", ROOT / "benchmarks" / "speed.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


speed = _load_speed()


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == speed.CSV_FIELDS
        return list(reader)


def _run(*args: str) -> None:
    # --omp-passive: the engines' OpenMP threads sleep between parallel regions, so a busy test machine does not
    # stretch this run by minutes; a subprocess, because it must be set before an engine loads.
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "speed.py"), "--quick", "--omp-passive", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_quick_run_writes_every_section(tmp_path):
    _run("--out", str(tmp_path), "--sections", "train,kernel,startup")
    rows = _read(tmp_path / "speed.csv")
    train = [r for r in rows if r["section"] == "train"]
    pairs = {(r["engine"], r["task"], r["candidate"], r["reference"]) for r in train}
    for engine in ("lightgbm", "xgboost"):
        for task in ("binary", "multiclass"):
            assert (engine, task, "focal", "builtin") in pairs
            assert (engine, task, "focal (numpy path)", "builtin") in pairs
    assert ("catboost", "binary", "focal (builtin path)", "builtin Focal") in pairs
    assert ("catboost", "binary", "focal (Python objective)", "builtin Logloss") in pairs
    assert ("catboost", "multiclass", "focal (Python objective)", "builtin MultiClass") in pairs
    # multi-label (issue 21): each engine's focal training against what it is compared with
    for strategy in ("one_output_per_tree", "multi_output_tree"):
        assert ("xgboost", "multilabel", f"focal ({strategy})", f"builtin binary:logistic ({strategy})") in pairs
    assert ("lightgbm", "multilabel", "focal", "L binary boosters (builtin binary)") in pairs
    assert ("lightgbm", "multilabel", "focal", "custom logloss objective (num_class=L)") in pairs
    assert ("catboost", "multilabel", "focal (Python objective)", "builtin MultiLogloss") in pairs
    for r in train:
        assert float(r["candidate_value"]) > 0 and float(r["reference_value"]) > 0 and float(r["ratio"]) > 0
        assert r["repeats"] == "1" and r["rounds"] == "5"
    kernel = [r for r in rows if r["section"] == "kernel"]
    assert {r["candidate"] for r in kernel} >= {"FocalLoss.grad_hess (validated)", "FocalLoss._grad_hess (per round)"}
    assert all(float(r["candidate_value"]) > 0 for r in kernel)
    # the quick kernel size is above MIN_SIZE, so these compare the numba path with the numpy path
    accuracy = {r["candidate"]: r for r in rows if r["section"] == "accuracy"}
    for name in ("grad", "hess", "softmax grad", "softmax hess"):
        assert accuracy[f"fast path vs core numpy path ({name})"]["met"] == "yes"
    assert [r for r in rows if r["section"] == "startup"]
    assert len([r for r in rows if r["section"] == "run"]) == 1
    md = (tmp_path / "speed.md").read_text()
    for heading in ("## Training time", "## Gradient/hessian throughput", "## Agreement of the values",
                    "## One-time cost of the numba path", "## Machine", "## Runs"):
        assert heading in md
    assert md.count("| lightgbm | binary |") == 2


def test_memory_run_merges_into_existing_table(tmp_path):
    _run("--out", str(tmp_path), "--sections", "kernel", "--engines", "lightgbm")
    _run("--out", str(tmp_path), "--sections", "memory", "--engines", "lightgbm", "--tasks", "binary")
    rows = _read(tmp_path / "speed.csv")
    assert [r for r in rows if r["section"] == "kernel"]  # kept from the first run
    (mem,) = [r for r in rows if r["section"] == "memory"]
    assert (mem["engine"], mem["task"], mem["candidate"], mem["reference"]) == ("lightgbm", "binary", "focal",
                                                                                "builtin")
    assert float(mem["candidate_value"]) > 50 and float(mem["reference_value"]) > 50  # MiB of a Python process
    assert "growth over the 2nd half" in mem["detail"]
    assert len([r for r in rows if r["section"] == "run"]) == 2
    assert "## Peak memory" in (tmp_path / "speed.md").read_text()


def test_only_multilabel_adds_its_rows_and_keeps_the_others(tmp_path):
    kept = {"section": "train", "engine": "xgboost", "task": "binary", "n": "100", "rounds": "100",
            "candidate": "focal", "reference": "builtin", "candidate_value": "2", "reference_value": "1",
            "unit": "s", "ratio": "2", "repeats": "3", "run": "earlier"}
    speed.write_csv(tmp_path / "speed.csv", [kept])
    _run("--out", str(tmp_path), "--only", "multilabel", "--engines", "lightgbm")
    rows = _read(tmp_path / "speed.csv")
    assert any(r["task"] == "binary" and r["run"] == "earlier" for r in rows)  # the other rows stay
    new = [r for r in rows if r["section"] == "train" and r["task"] == "multilabel"]
    assert {(r["candidate"], r["reference"]) for r in new} == {
        ("focal", "L binary boosters (builtin binary)"), ("focal", "custom logloss objective (num_class=L)"),
        ("custom logloss objective (num_class=L)", "L binary boosters (builtin binary)")}
    assert all(r["n"] == "2000" for r in new)  # --quick's n, capped at the multi-label size
    (run,) = [r for r in rows if r["section"] == "run"]
    assert "--only multilabel" in run["candidate"] and "load_before" in run["detail"]
    assert "| lightgbm | multilabel |" in (tmp_path / "speed.md").read_text()


def test_multilabel_data_has_the_label_rates():
    X, Y = speed.make_data(20_000, 20, "multilabel")
    assert X.shape == (20_000, 20) and Y.shape == (20_000, speed.N_LABELS)
    np.testing.assert_allclose(Y.mean(axis=0), speed.LABEL_RATES, atol=1e-3)


def test_merge_replaces_rows_with_the_same_key():
    old = [{"section": "train", "engine": "lightgbm", "task": "binary", "n": "100", "candidate": "focal",
            "reference": "builtin", "ratio": "9"},
           {"section": "train", "engine": "xgboost", "task": "binary", "n": "100", "candidate": "focal",
            "reference": "builtin", "ratio": "8"}]
    new = [{"section": "train", "engine": "lightgbm", "task": "binary", "n": 100, "candidate": "focal",
            "reference": "builtin", "ratio": 1.0}]
    merged = speed.merge_rows(old, new)
    assert [r["ratio"] for r in merged] == ["8", 1.0]


def test_naive_reference_is_the_textbook_derivative():
    """Where 1 - p_t does not cancel and the clip is inactive, the naive formula equals the core's exact
    derivatives (an independent computation in log space)."""
    rng = np.random.default_rng(0)
    raw = rng.uniform(-6, 6, 5000)
    y = (rng.uniform(size=5000) < 0.3).astype(np.int64)
    g, h = speed.naive_grad_hess(y, raw, gamma=2.0, alpha=0.25)
    loss = FocalLoss(2.0, 0.25, "exact")
    g_ref, h_ref = loss.grad_hess(y, raw)
    np.testing.assert_allclose(g, g_ref, rtol=1e-9)
    np.testing.assert_allclose(h, h_ref, rtol=1e-7, atol=1e-12)
    # and it does lose digits where p_t is close to 1 (the reason the core works in log space)
    g_far, _ = speed.naive_grad_hess(np.array([1]), np.array([33.0]))
    exact_far = loss.grad(np.array([1.0]), np.array([33.0]))
    assert abs(g_far[0] - exact_far[0]) > 1e-3 * abs(exact_far[0])


@pytest.mark.parametrize("argv", [["--engines", "spark"], ["--tasks", "regression"]])
def test_bad_options_are_refused(argv):
    with pytest.raises(SystemExit):
        speed.parse_args(argv)


def test_the_speed_harness_is_not_in_the_package():
    from focal_boost import cli

    assert not (ROOT / "focal_boost" / "bench" / "speed.py").exists()
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--speed"])
    assert "make speed" in str(exit_info.value.code)


def test_default_output_folder_is_benchmarks_results_speed():
    assert speed.parse_args([]).out == ROOT / "benchmarks" / "results" / "speed"
