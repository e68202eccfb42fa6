"""PNG figures of a run: precision-recall curves, reliability diagrams (both from the held-out predictions of the
first repeat, pooled over its folds, so each row is predicted once) and paired differences against logloss with
standard-error bars (over all folds). matplotlib's Agg backend; no display needed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import METRICS
from .report import BASELINE, KEY_ORDER, METRIC_TITLES, _order, paired_stats

__all__ = ["plot_differences", "plot_pr_curves", "plot_reliability", "pooled_predictions"]

Pooled = dict[str, tuple[np.ndarray, np.ndarray]]  # key -> (labels (n,), probabilities (n, K))
STYLE = {
    "logloss": ("tab:blue", "-"), "weighted_logloss": ("tab:orange", "-"), "focal_tuned": ("tab:green", "-"),
    "focal_tuned[uncalibrated]": ("tab:green", ":"), "focal_retinanet": ("tab:red", "-"),
    "focal_retinanet[uncalibrated]": ("tab:red", ":"),
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pooled_predictions(folds: dict[int, tuple[np.ndarray, dict[str, np.ndarray]]], y: np.ndarray) -> Pooled:
    """Concatenate a repeat's folds: ``folds[fold] = (test_idx, {key: proba})`` -> ``{key: (y, proba)}``; a key
    missing from any fold (its fit failed) is left out."""
    keys = set.intersection(*(set(p) for _, p in folds.values())) if folds else set()
    out: Pooled = {}
    for key in keys:
        idx = np.concatenate([folds[f][0] for f in sorted(folds)])
        proba = np.concatenate([folds[f][1][key] for f in sorted(folds)]).astype(np.float64)
        out[key] = (y[idx], proba)
    return out


def plot_pr_curves(dataset: str, per_engine: dict[str, Pooled], path: Path) -> None:
    """One panel per engine; binary: the positive class; multiclass: the rarest class against the rest."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    plt = _plt()
    engines = list(per_engine)
    fig, axes = plt.subplots(1, len(engines), figsize=(4.6 * len(engines), 4.2), squeeze=False, sharey=True)
    for ax, engine in zip(axes[0], engines, strict=True):
        pooled = per_engine[engine]
        for key in _order(pooled, KEY_ORDER):
            if key.endswith("[uncalibrated]"):
                continue  # same ranking as the calibrated probabilities for binary; keeps the panel readable
            y, proba = pooled[key]
            target = 1 if proba.shape[1] == 2 else int(np.argmin(np.bincount(y, minlength=proba.shape[1])))
            yt, score = y == target, proba[:, target]
            prec, rec, _ = precision_recall_curve(yt, score)
            ap = average_precision_score(yt, score)
            color, ls = STYLE.get(key, ("gray", "-"))
            ax.step(rec, prec, where="post", color=color, ls=ls, lw=1.4, label=f"{key} (AP {ap:.3f})")
        prevalence = float(np.mean(yt))
        ax.axhline(prevalence, color="gray", lw=0.8, ls="--")
        ax.set_title(f"{engine}")
        ax.set_xlabel("recall" + ("" if proba.shape[1] == 2 else f" (rarest class, {target}, vs rest)"))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, loc="lower left")
    axes[0][0].set_ylabel("precision")
    fig.suptitle(f"{dataset}: precision-recall, held-out folds of repeat 0 (dashed: prevalence)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _reliability_points(y: np.ndarray, proba: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    if proba.shape[1] == 2:
        conf, hit = proba[:, 1], (y == 1).astype(np.float64)
    else:
        conf, hit = proba.max(axis=1), (proba.argmax(axis=1) == y).astype(np.float64)
    order = np.argsort(conf, kind="stable")
    bins = np.array_split(order, n_bins)  # equal-count bins: imbalanced data leave equal-width bins empty
    return (np.array([conf[b].mean() for b in bins if len(b)]), np.array([hit[b].mean() for b in bins if len(b)]))


def plot_reliability(dataset: str, per_engine: dict[str, Pooled], path: Path, n_bins: int = 10) -> None:
    """Mean predicted vs observed frequency in equal-count bins; binary: positive class (log-log axes when the
    positive rate is below 5%), multiclass: top-label confidence vs accuracy."""
    plt = _plt()
    engines = list(per_engine)
    fig, axes = plt.subplots(1, len(engines), figsize=(4.6 * len(engines), 4.2), squeeze=False)
    for ax, engine in zip(axes[0], engines, strict=True):
        pooled = per_engine[engine]
        binary = rate = None
        for key in _order(pooled, KEY_ORDER):
            y, proba = pooled[key]
            binary = proba.shape[1] == 2
            rate = float(np.mean(y == 1)) if binary else None
            x, f = _reliability_points(y, proba, n_bins)
            color, ls = STYLE.get(key, ("gray", "-"))
            ax.plot(x, f, marker="o", ms=3, color=color, ls=ls, lw=1.2, label=key)
        log = bool(binary and rate is not None and rate < 0.05)
        if log:
            ax.set_xscale("log")
            ax.set_yscale("symlog", linthresh=1e-4)
            lo = 1e-5
        else:
            lo = 0.0
        ax.plot([max(lo, 1e-6), 1], [max(lo, 1e-6), 1], color="gray", lw=0.8, ls="--")
        ax.set_title(engine)
        ax.set_xlabel("mean predicted probability" + ("" if binary else " (top label)"))
        ax.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("observed frequency")
    fig.suptitle(f"{dataset}: reliability, {n_bins} equal-count bins, held-out folds of repeat 0", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_differences(df: pd.DataFrame, path: Path, metrics: Sequence[str] = METRICS[:-1]) -> None:
    """Forest plot per metric: mean paired difference (method - logloss) ± 1 standard error, per dataset/engine."""
    plt = _plt()
    paired = paired_stats(df, metrics)
    if paired.empty:
        return
    cells = list(dict.fromkeys(zip(paired["dataset"], paired["engine"], strict=True)))
    keys = [k for k in KEY_ORDER if k != BASELINE and k in set(paired["key"])]
    ncol = 4
    nrow = int(np.ceil(len(metrics) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 0.32 * len(cells) * nrow + 1.5 * nrow),
                             squeeze=False, sharey=True)
    ypos = np.arange(len(cells))[::-1]
    offsets = np.linspace(-0.3, 0.3, len(keys)) if len(keys) > 1 else np.zeros(1)
    for i, metric in enumerate(metrics):
        ax = axes[i // ncol][i % ncol]
        for off, key in zip(offsets, keys, strict=True):
            p = paired[(paired["metric"] == metric) & (paired["key"] == key)].set_index(["dataset", "engine"])
            xs, es, ys = [], [], []
            for y0, cell in zip(ypos, cells, strict=True):
                if cell in p.index:
                    xs.append(p.loc[cell, "mean_diff"])
                    es.append(np.nan_to_num(p.loc[cell, "se_diff"]))
                    ys.append(y0 + off)
            color, ls = STYLE.get(key, ("gray", "-"))
            ax.errorbar(xs, ys, xerr=es, fmt="o" if ls == "-" else "s", ms=3, color=color, capsize=2, lw=1,
                        mfc=color if ls == "-" else "white", label=key)
        ax.axvline(0, color="gray", lw=0.8)
        better = "higher is better" if metric in ("pr_auc", "roc_auc", "f1", "recall") else "lower is better"
        ax.set_title(f"Δ {METRIC_TITLES[metric]} vs logloss ({better})", fontsize=9)
        ax.set_yticks(ypos)
        ax.set_yticklabels([f"{d} / {e}" for d, e in cells], fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
    for j in range(len(metrics), nrow * ncol):
        axes[j // ncol][j % ncol].axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(keys), fontsize=8)
    fig.suptitle("Paired differences against builtin logloss, mean ± 1 SE over folds", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    fig.savefig(path, dpi=80)
    plt.close(fig)
