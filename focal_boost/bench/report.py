"""Statistics and the markdown report, computed from ``results.csv`` alone (plus the run's metadata).

- mean ± standard error over the (repeat, fold) pairs: ``se = std(ddof=1) / sqrt(n)``;
- paired difference against ``logloss`` on the same (repeat, fold): mean ± standard error of the differences and the
  two-sided Wilcoxon signed-rank p-value (``scipy.stats.wilcoxon`` with its defaults; zero differences are dropped,
  and when every difference is zero the p-value is 1);
- the verdict of each focal method per dataset and engine on the primary metric (PR-AUC): ``WINS`` when the mean
  difference favours focal and p < level, ``LOSES`` when it favours logloss and p < level, ``NO BETTER`` otherwise.
"""

from __future__ import annotations

import math
import warnings
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
    "wilcoxon_p",
]

BASELINE = "logloss"
PRIMARY = "pr_auc"
LEVEL = 0.05
KEY_ORDER = ("logloss", "weighted_logloss", "focal_tuned", "focal_tuned[uncalibrated]", "focal_retinanet",
             "focal_retinanet[uncalibrated]")
FOCAL_KEYS = ("focal_tuned", "focal_retinanet")
# method names of older results.csv files -> today's name (focal_default was renamed: it is RetinaNet's setting,
# not the library's default)
LEGACY_METHODS = {"focal_default": "focal_retinanet"}
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


def wilcoxon_p(diffs: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (NaN-free); 1.0 when all are zero."""
    d = np.asarray(diffs, dtype=np.float64)
    d = d[~np.isnan(d)]
    if d.size == 0:
        return float("nan")
    if np.all(d == 0):
        return 1.0
    from scipy.stats import wilcoxon

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(wilcoxon(d).pvalue)


def min_attainable_p(n: int) -> float:
    """Smallest two-sided exact Wilcoxon p-value with n non-zero pairs: 2 / 2^n."""
    return min(1.0, 2.0 / 2.0**n)


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


def paired_stats(df: pd.DataFrame, metrics: Sequence[str] = METRICS, baseline: str = BASELINE) -> pd.DataFrame:
    """Paired differences ``key - baseline`` on the same (repeat, fold): mean, SE, Wilcoxon p, n pairs."""
    df = add_keys(df) if "key" not in df else df
    out = []
    for (dataset, engine), g in df.groupby(["dataset", "engine"], sort=False):
        base = g[g["key"] == baseline][["repeat", "fold", *metrics]]
        if base.empty:
            continue
        for key, gk in g[g["key"] != baseline].groupby("key", sort=False):
            joined = gk.merge(base, on=["repeat", "fold"], how="inner", suffixes=("", "__base"))
            for metric in metrics:
                d = (joined[metric] - joined[metric + "__base"]).to_numpy(dtype=np.float64)
                d = d[~np.isnan(d)]
                out.append({"dataset": dataset, "engine": engine, "key": key, "metric": metric,
                            "mean_diff": float(np.mean(d)) if d.size else float("nan"), "se_diff": _se(d),
                            "p": wilcoxon_p(d), "n": int(d.size)})
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
                    "se_diff": r["se_diff"], "p": r["p"], "n": int(r["n"]),
                    "verdict": verdict_of(primary, r["mean_diff"], r["p"], level),
                    "better_on": ", ".join(better) or "-", "worse_on": ", ".join(worse) or "-"})
    return pd.DataFrame(out)


# -- formatting ---------------------------------------------------------------------------------------------------
def fmt_mean(mean: float, se: float) -> str:
    if not np.isfinite(mean):
        return "n/a"
    return f"{mean:.4f} ± {se:.4f}" if np.isfinite(se) else f"{mean:.4f} ± n/a"


def fmt_p(p: float) -> str:
    return "n/a" if not np.isfinite(p) else f"{p:.3g}"


def fmt_diff(diff: float, se: float, p: float) -> str:
    if not np.isfinite(diff):
        return "n/a"
    se_text = f"{se:.4f}" if np.isfinite(se) else "n/a"
    return f"{diff:+.4f} ± {se_text} (p={fmt_p(p)})"


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


def _calibration_sentences(summ: pd.DataFrame) -> list[str]:
    lines = []
    for key in FOCAL_KEYS:
        cal = summ[(summ["key"] == key) & (summ["metric"] == "log_loss")].set_index(["dataset", "engine"])["mean"]
        unc = summ[(summ["key"] == f"{key}[uncalibrated]") & (summ["metric"] == "log_loss")].set_index(
            ["dataset", "engine"])["mean"]
        both = cal.to_frame("cal").join(unc.to_frame("unc"), how="inner").dropna()
        if both.empty:
            continue
        n_better = int(np.sum(both["cal"] < both["unc"]))
        lines.append(f"- {key}: the calibrated probabilities (the default) have a lower mean held-out log loss than "
                     f"the uncalibrated sigmoid/softmax of the raw score in {n_better} of {len(both)} cells.")
    return lines


def render_markdown(df: pd.DataFrame, meta: dict[str, Any], figures: Sequence[str] = (), level: float = LEVEL) -> str:
    """The whole report.md text from the results table ``df`` and the run metadata ``meta``."""
    df = add_keys(df)
    summ = summary_stats(df)
    paired = paired_stats(df)
    ver = verdicts(paired, level=level)
    datasets = list(dict.fromkeys(df["dataset"]))
    engines = _order(df["engine"].unique(), ("lightgbm", "xgboost", "catboost"))
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
    out += ["## Verdict", "",
            f"Primary metric: PR-AUC (average precision) on held-out folds, paired by fold against builtin `logloss` "
            f"with a two-sided Wilcoxon signed-rank test at level {level}. {n_pairs} paired folds per comparison"
            + (f"; with n pairs the smallest possible p-value is 2/2^n = {min_attainable_p(n_pairs):.3g}"
               if n_pairs else "")
            + ". WINS / LOSES = significant difference in focal's favour / against it; NO BETTER = no significant "
              "difference (whatever the sign of the mean difference). No correction for multiple comparisons; repeated "
              "CV folds overlap, so the p-values are optimistic. Read them as a screen, not as proof.", ""]
    if n_pairs and min_attainable_p(n_pairs) >= level:
        out += [f"- **With {n_pairs} paired folds no difference can reach p < {level}: every verdict below is NO "
                "BETTER by construction.** Run more folds or repeats (`--folds`, `--repeats`) for a verdict.", ""]
    out += _verdict_sentences(ver, paired, level)
    out += _calibration_sentences(summ)
    out += _fit_time_sentences(summ)
    out.append("")
    vrows = []
    for r in ver.itertuples():
        vrows.append([r.dataset, r.engine, r.key, fmt_diff(r.mean_diff, r.se_diff, r.p), r.verdict, r.better_on,
                      r.worse_on])
    out.append(_table(["dataset", "engine", "method", "Δ PR-AUC vs logloss (mean ± SE, p)", "verdict",
                       "also significantly better on", "significantly worse on (quality metrics)"], vrows, "verdict"))
    out.append("")
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
    out.append("Method minus logloss on the same fold, mean ± SE, and the Wilcoxon signed-rank p-value. Higher is "
               "better for PR-AUC, ROC-AUC, F1, recall; lower is better for Brier, log loss, ECE, fit time.")
    out.append("")
    drows = []
    for dataset in datasets:
        for engine in engines:
            for key in keys_all:
                s = paired[(paired["dataset"] == dataset) & (paired["engine"] == engine) & (paired["key"] == key)]
                if s.empty:
                    continue
                s = s.set_index("metric")
                drows.append([dataset, engine, key]
                             + [fmt_diff(s.loc[m, "mean_diff"], s.loc[m, "se_diff"], s.loc[m, "p"]) for m in METRICS])
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
                   "focal_retinanet": "focal_retinanet"}


def fmt_compact(mean: float, se: float) -> str:
    """``0.812±0.012`` (3 decimals): the console summary's cell."""
    if not np.isfinite(mean):
        return "n/a"
    return f"{mean:.3f}±{se:.3f}" if np.isfinite(se) else f"{mean:.3f}±n/a"


def summary_rows(df: pd.DataFrame, level: float = LEVEL) -> tuple[list[str], list[list[str]], str]:
    """Header, rows and legend of the end-of-run console summary: held-out PR-AUC ``mean±SE`` per dataset, engine
    and method, each focal cell followed by ``WINS`` or ``LOSES`` when its paired Wilcoxon test against logloss is
    significant. Sized for 100 columns; report.md has the full tables."""
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
                cell = fmt_compact(s.loc[k, "mean"], s.loc[k, "se"])
                verdict = v.loc[k, "verdict"] if len(v) and k in v.index else None
                if verdict in ("WINS", "LOSES"):
                    cell += f" {verdict}"
                cells.append(cell)
            rows.append([dataset, engine, *cells])
    header = ["dataset", "engine", *[CONSOLE_HEADERS.get(k, k) for k in keys]]
    n = int(summ["n"].max()) if len(summ) else 0
    legend = (f"Held-out PR-AUC, mean±SE over {n} folds. weighted = weighted_logloss; focal_retinanet = gamma 2, "
              f"alpha 0.25 (RetinaNet). WINS / LOSES: the focal method is significantly better / worse than logloss "
              f"on the same folds (Wilcoxon, p < {level}); no mark: no significant difference.")
    if n and min_attainable_p(n) >= level:
        legend += f" With {n} folds no difference can reach p < {level}: use --folds/--repeats for a verdict."
    return header, rows, legend


__all__ += ["PROBABILITY_METRICS", "fmt_compact", "fmt_diff", "fmt_mean", "fmt_p", "min_attainable_p", "summary_rows",
            "verdict_of"]
