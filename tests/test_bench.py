"""The benchmark (`focal-boost bench`): a --quick run end to end, its report recomputed from results.csv by code
independent of focal_boost.bench.report, the --data path on a small CSV, and the verdict logic on synthetic tables."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon

METRICS = ["pr_auc", "roc_auc", "f1", "recall", "brier", "log_loss", "ece", "fit_time_s"]
HIGHER = {"pr_auc", "roc_auc", "f1", "recall"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# -- helpers independent of the package's report code --------------------------------------------------------------
def parse_table(text: str, anchor: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    start = lines.index(f"<!-- table:{anchor} -->")
    header = [c.strip() for c in lines[start + 1].strip().strip("|").split("|")]
    rows = []
    for line in lines[start + 3:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def parse_mean(cell: str) -> tuple[float, float]:
    m = re.fullmatch(r"([-+]?\d+\.\d+) ± (\d+\.\d+|n/a)", cell)
    assert m, cell
    return float(m.group(1)), (math.nan if m.group(2) == "n/a" else float(m.group(2)))


def parse_diff(cell: str) -> tuple[float, float, float]:
    m = re.fullmatch(r"([-+]\d+\.\d+) ± (\d+\.\d+|n/a) \(p=([^)]+)\)", cell)
    assert m, cell
    se = math.nan if m.group(2) == "n/a" else float(m.group(2))
    return float(m.group(1)), se, (math.nan if m.group(3) == "n/a" else float(m.group(3)))


def close_4dp(printed: float, value: float) -> bool:
    return abs(printed - value) <= 0.5e-4 + 1e-9


def close_3sig(printed: float, value: float) -> bool:
    if math.isnan(value):
        return math.isnan(printed)
    exp = math.floor(math.log10(abs(value))) if value != 0 else 0
    return abs(printed - value) <= 0.5 * 10 ** (exp - 2) * 1.001


def ref_p(d: np.ndarray) -> float:
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return math.nan
    if np.all(d == 0):
        return 1.0
    return float(wilcoxon(d).pvalue)


def ref_verdict(metric: str, diff: float, p: float) -> str:
    good = diff > 0 if metric in HIGHER else diff < 0
    bad = diff < 0 if metric in HIGHER else diff > 0
    if p < 0.05 and good:
        return "WINS"
    if p < 0.05 and bad:
        return "LOSES"
    return "NO BETTER"


def report_key(row: pd.Series) -> str:
    return row["method"] + ("[uncalibrated]" if row["probabilities"] == "uncalibrated" else "")


def check_report_against_csv(folder: Path) -> pd.DataFrame:
    """Recompute every number of report.md's tables from results.csv and compare."""
    df = pd.read_csv(folder / "results.csv")
    df["key"] = df.apply(report_key, axis=1)
    text = (folder / "report.md").read_text()
    means = parse_table(text, "means")
    assert means, "the means table is empty"
    titles = dict(zip(METRICS, ["PR-AUC", "ROC-AUC", "F1", "recall", "Brier", "log loss", "ECE", "fit time (s)"],
                      strict=True))
    groups = {k: g for k, g in df.groupby(["dataset", "engine", "key"])}
    assert {(r["dataset"], r["engine"], r["method"]) for r in means} == set(groups)
    for r in means:
        g = groups[(r["dataset"], r["engine"], r["method"])]
        for m in METRICS:
            x = g[m].to_numpy(float)
            mean, se = parse_mean(r[titles[m]])
            assert close_4dp(mean, x.mean()), (r, m)
            assert close_4dp(se, x.std(ddof=1) / math.sqrt(len(x))), (r, m)
    diffs = parse_table(text, "diffs")
    expected_pairs = {k for k in groups if k[2] != "logloss" and (k[0], k[1], "logloss") in groups}
    assert {(r["dataset"], r["engine"], r["method"]) for r in diffs} == expected_pairs
    recomputed = {}
    for r in diffs:
        g = groups[(r["dataset"], r["engine"], r["method"])].sort_values(["repeat", "fold"])
        b = groups[(r["dataset"], r["engine"], "logloss")].sort_values(["repeat", "fold"])
        assert list(zip(g["repeat"], g["fold"], strict=True)) == list(zip(b["repeat"], b["fold"], strict=True))
        for m in METRICS:
            d = g[m].to_numpy(float) - b[m].to_numpy(float)
            diff, se, p = parse_diff(r[titles[m]])
            assert close_4dp(diff, d.mean()), (r, m)
            assert close_4dp(se, d.std(ddof=1) / math.sqrt(len(d))), (r, m)
            assert close_3sig(p, ref_p(d)), (r, m, p, ref_p(d))
            recomputed[(r["dataset"], r["engine"], r["method"], m)] = (d.mean(), ref_p(d))
    verdict = parse_table(text, "verdict")
    focal = {k for k in expected_pairs if k[2] in ("focal_tuned", "focal_default")}
    assert {(r["dataset"], r["engine"], r["method"]) for r in verdict} == focal
    for r in verdict:
        k = (r["dataset"], r["engine"], r["method"])
        diff, _, p = parse_diff(r["Δ PR-AUC vs logloss (mean ± SE, p)"])
        mean_d, p_ref = recomputed[(*k, "pr_auc")]
        assert close_4dp(diff, mean_d) and close_3sig(p, p_ref)
        assert r["verdict"] == ref_verdict("pr_auc", mean_d, p_ref), r
        quality = METRICS[1:-1]  # not PR-AUC (the verdict itself), not fit time
        worse = {titles[m] for m in quality if ref_verdict(m, *recomputed[(*k, m)]) == "LOSES"}
        better = {titles[m] for m in quality if ref_verdict(m, *recomputed[(*k, m)]) == "WINS"}
        assert set(r["significantly worse on (quality metrics)"].split(", ")) - {"-"} == worse, r
        assert set(r["also significantly better on"].split(", ")) - {"-"} == better, r
    # the plain-words summary counts the verdict table's LOSES rows
    for key in ("focal_tuned", "focal_default"):
        losers = [r for r in verdict if r["method"] == key and r["verdict"] == "LOSES"]
        if any(r["method"] == key for r in verdict):
            assert f"**{key} vs logloss on PR-AUC**" in text
            assert f"**loses in {len(losers)}**" in text.split(f"**{key} vs logloss on PR-AUC**")[1].split("\n")[0]
    headline = parse_table(text, "headline")
    for r in headline:
        for key in ("logloss", "weighted_logloss", "focal_tuned", "focal_default"):
            if key in r and r[key] != "skipped":
                x = groups[(r["dataset"], r["engine"], key)]["pr_auc"].to_numpy(float)
                assert close_4dp(parse_mean(r[key])[0], x.mean())
    return df


# -- the --quick run -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "quick"
    proc = subprocess.run([sys.executable, "-m", "focal_boost.cli", "bench", "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_quick_run_writes_the_report_folder(quick_run: Path) -> None:
    meta = json.loads((quick_run / "run.json").read_text())
    for name in ("results.csv", "report.md", "headline.md", "run.json"):
        assert (quick_run / name).stat().st_size > 0, name
    assert meta["errors"] == []
    figures = meta["figures"]
    assert any(f.startswith("pr_") for f in figures) and any(f.startswith("reliability_") for f in figures)
    assert "diff_vs_logloss.png" in figures
    for f in figures:
        assert (quick_run / f).read_bytes()[:8] == PNG_MAGIC, f
        assert f"]({f})" in (quick_run / "report.md").read_text()


def test_quick_run_has_one_row_per_dataset_engine_method_fold(quick_run: Path) -> None:
    meta = json.loads((quick_run / "run.json").read_text())
    df = pd.read_csv(quick_run / "results.csv")
    keys = ["dataset", "engine", "method", "probabilities", "repeat", "fold"]
    assert not df.duplicated(keys).any()
    n_folds = meta["protocol"]["pairs per comparison"]
    skipped = {(s["dataset"], s["engine"], s["method"]) for s in meta["skipped"]}
    expected = 0
    for dataset in meta["datasets"]:
        for engine in ("lightgbm", "xgboost", "catboost"):
            for method in ("logloss", "weighted_logloss", "focal_tuned", "focal_default"):
                rows = df[(df.dataset == dataset) & (df.engine == engine) & (df.method == method)]
                if (dataset, engine, method) in skipped:
                    assert rows.empty  # skipped, and said so below, never silently
                    continue
                per_fold = 2 if method.startswith("focal") else 1
                assert len(rows) == n_folds * per_fold, (dataset, engine, method)
                expected += len(rows)
                if method.startswith("focal"):
                    assert set(rows.probabilities) == {"calibrated", "uncalibrated"}
                else:
                    assert set(rows.probabilities) == {"native"}
    assert expected == len(df)
    # both problem types ran; the metrics are in range
    assert {"synth_pos10pct", "synth_longtail3"} <= set(df.dataset)
    for m in ("pr_auc", "roc_auc", "f1", "recall", "ece"):
        assert df[m].between(0, 1).all(), m
    assert (df.brier >= 0).all() and (df.log_loss > 0).all() and (df.fit_time_s > 0).all()


def test_quick_report_numbers_recompute_from_results_csv(quick_run: Path) -> None:
    check_report_against_csv(quick_run)


def test_quick_report_states_what_was_skipped(quick_run: Path) -> None:
    meta = json.loads((quick_run / "run.json").read_text())
    text = (quick_run / "report.md").read_text()
    # CatBoost's per-object multiclass focal objective is fast enough since issue 13: its cells run, not skipped
    assert not any(s["engine"] == "catboost" and s["dataset"] == "synth_longtail3" for s in meta["skipped"])
    df = pd.read_csv(quick_run / "results.csv")
    ran = set(df[(df.engine == "catboost") & (df.dataset == "synth_longtail3")].method)
    assert {"focal_tuned", "focal_default"} <= ran
    for s in meta["skipped"]:
        assert f"- {s['dataset']} / {s['engine']} / {s['method']}: {s['reason']}" in text


# -- --data FILE --target COLUMN ---------------------------------------------------------------------------------------
def _small_table(n: int = 360) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4))
    logit = 2.0 * x[:, 0] - 1.5 * x[:, 1] - 2.5
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["colour"] = rng.choice(["red", "green", "blue"], size=n)
    frame.loc[3, "c"] = np.nan
    frame["label"] = np.where(y, "churn", "stay")
    return frame


def test_data_path_runs_on_a_small_csv(tmp_path: Path) -> None:
    from focal_boost.cli import main

    frame = _small_table()
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    status = main(["bench", "--quick", "--data", str(path), "--target", "label", "--engines", "lightgbm",
                   "--jobs", "1", "--no-plots", "--out", str(out)])
    assert status == 0
    df = check_report_against_csv(out)
    assert set(df.dataset) == {"customers"} and set(df.engine) == {"lightgbm"}
    assert set(df.method) == {"logloss", "weighted_logloss", "focal_tuned", "focal_default"}
    meta = json.loads((out / "run.json").read_text())
    n_churn = int((frame.label == "churn").sum())
    # the minority label is the positive class; counts are (negatives, positives)
    assert meta["datasets"]["customers"]["class_counts"] == f"{len(frame) - n_churn}, {n_churn}"
    assert n_churn < len(frame) - n_churn
    assert "'label'" in meta["datasets"]["customers"]["description"]


def test_data_loader_csv_and_parquet_agree_and_bad_target_is_named(tmp_path: Path) -> None:
    from focal_boost.bench.datasets import load_table

    frame = _small_table(120)
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    a, b = load_table(tmp_path / "t.csv", "label"), load_table(tmp_path / "t.parquet", "label")
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_allclose(a.X, b.X, equal_nan=True)
    assert a.X.shape == (120, 5) and np.isnan(a.X[3, 2])
    np.testing.assert_array_equal(a.y, (frame.label == "churn").to_numpy().astype(int))
    with pytest.raises(ValueError, match="'target_col'"):
        load_table(tmp_path / "t.csv", "target_col")
    frame.loc[5, "label"] = None
    frame.to_csv(tmp_path / "missing.csv", index=False)
    with pytest.raises(ValueError, match="missing values"):
        load_table(tmp_path / "missing.csv", "label")


def test_cli_rejects_data_without_target(tmp_path: Path) -> None:
    from focal_boost.cli import main

    with pytest.raises(SystemExit, match="--target"):
        main(["bench", "--data", str(tmp_path / "x.csv")])


# -- verdict logic on synthetic results --------------------------------------------------------------------------
def _synthetic_results(n_folds: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    base = 0.6 + 0.05 * rng.standard_normal(n_folds)
    shifts = {"logloss": 0.0, "weighted_logloss": None, "focal_tuned": -0.05, "focal_default": +0.03}
    for method, shift in shifts.items():
        for probs in (["calibrated", "uncalibrated"] if method.startswith("focal") else ["native"]):
            for f in range(n_folds):
                noise = 0.002 * rng.standard_normal()
                pr = base[f] + (0.02 * rng.standard_normal() if shift is None else shift + noise)
                brier = 0.05 + (0.01 if method == "focal_tuned" and probs == "calibrated" else 0.0) + 0.001 * f
                rows.append({"dataset": "toy", "engine": "lightgbm", "method": method, "probabilities": probs,
                             "repeat": f // 4, "fold": f % 4, "pr_auc": pr, "roc_auc": 0.8, "f1": 0.5,
                             "recall": 0.5, "brier": brier, "log_loss": 0.2, "ece": 0.01, "fit_time_s": 0.1,
                             "tune_time_s": 0.4, "n_rounds": 10, "selected": "depth=4", "val_pr_auc": 0.6,
                             "threshold": 0.3, "n_train": 100, "n_val": 30, "n_test": 60, "n_test_minority": 5})
    return pd.DataFrame(rows)


def test_verdicts_say_plainly_where_focal_loses(tmp_path: Path) -> None:
    from focal_boost.bench.report import paired_stats, render_markdown, verdicts

    df = _synthetic_results()
    ver = verdicts(paired_stats(df)).set_index("key")
    # every fold worse by 0.05: the exact two-sided Wilcoxon p with 8 pairs all of one sign is 2 / 2^8
    assert ver.loc["focal_tuned", "verdict"] == "LOSES"
    assert ver.loc["focal_tuned", "p"] == pytest.approx(2 / 2**8)
    assert ver.loc["focal_tuned", "worse_on"] == "Brier"  # higher Brier is worse
    assert ver.loc["focal_default", "verdict"] == "WINS"
    assert ver.loc["focal_default", "worse_on"] == "-"
    folder = tmp_path / "synthetic"
    folder.mkdir()
    df.to_csv(folder / "results.csv", index=False)
    text = render_markdown(df, {"name": "synthetic", "wall_time_s": 1.0})
    (folder / "report.md").write_text(text)
    check_report_against_csv(folder)
    assert "**focal_tuned vs logloss on PR-AUC**: wins in 0 of 1 dataset × engine cells, **loses in 1** " \
           "(toy/lightgbm)" in text
    assert "**focal_default vs logloss on PR-AUC**: wins in 1 of 1" in text


def test_no_better_when_differences_are_noise_or_zero() -> None:
    from focal_boost.bench.report import verdict_of, wilcoxon_p

    d = np.array([0.01, -0.012, 0.004, -0.003, 0.008, -0.009])
    assert verdict_of("pr_auc", d.mean(), wilcoxon_p(d)) == "NO BETTER"
    assert wilcoxon_p(np.zeros(6)) == 1.0
    assert verdict_of("pr_auc", 0.0, 1.0) == "NO BETTER"
    # lower-is-better metrics flip the direction
    assert verdict_of("log_loss", +0.1, 0.01) == "LOSES" and verdict_of("log_loss", -0.1, 0.01) == "WINS"
    # five pairs can never reach p < 0.05 (smallest exact two-sided p = 2/32)
    assert wilcoxon_p(np.array([0.1, 0.2, 0.3, 0.4, 0.5])) == pytest.approx(2 / 32)


# -- metrics against brute force -------------------------------------------------------------------------------------
def test_threshold_and_ece_against_brute_force() -> None:
    from focal_boost.bench.metrics import best_f1_threshold, ece, evaluate

    rng = np.random.default_rng(3)
    y = (rng.random(200) < 0.2).astype(int)
    p = np.clip(0.3 * y + 0.7 * rng.random(200), 0, 1)
    t = best_f1_threshold(y, p)

    def f1_at(th: float) -> float:
        pred = p >= th
        tp = np.sum(pred & (y == 1))
        return 2 * tp / (pred.sum() + y.sum())

    assert f1_at(t) == pytest.approx(max(f1_at(th) for th in np.unique(p)))
    proba = np.column_stack([1 - p, p])
    assert evaluate(y, proba, t)["f1"] == pytest.approx(f1_at(t))
    # ECE by a direct loop over 15 equal-width bins
    total = 0.0
    for b in range(15):
        lo, hi = b / 15, (b + 1) / 15
        m = (p >= lo) & ((p < hi) if b < 14 else (p <= hi))
        if m.any():
            total += m.sum() * abs(y[m].mean() - p[m].mean())
    assert ece(y, proba) == pytest.approx(total / len(y))


def test_importing_the_cli_and_bench_imports_no_engine() -> None:
    code = ("import sys, focal_boost.cli, focal_boost.bench, focal_boost.bench.plots; "
            "print([m for m in ('lightgbm', 'xgboost', 'catboost') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
