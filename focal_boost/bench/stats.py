"""Statistics for comparing focal loss with logloss: within one dataset, across datasets, and among many methods.

Sign convention (every function here): a *difference* is ``focal - logloss`` of one metric, so a positive
difference, "right" in the Bayesian test, means focal scored higher. For a higher-is-better metric (PR-AUC, ROC-AUC,
F1, recall) right is "focal better"; for a lower-is-better metric (Brier, log loss, ECE, time) right is "focal
worse" -- negate the differences first if "right = focal better" is wanted for those too.

- :func:`corrected_t_interval` -- one dataset, repeated k-fold CV: the corrected resampled t-test of Nadeau & Bengio
  (2003), in the repeated-CV form of Bouckaert & Frank (2004).
- :func:`wilcoxon_across` -- many datasets: Wilcoxon signed-rank test on the per-dataset mean differences
  (Demšar 2006, section 3.1.3).
- :func:`bayesian_signed_rank` -- many datasets: the Bayesian signed-rank test of Benavoli et al. (2017) with a
  region of practical equivalence (rope), reproducing ``baycomp.SignedRankTest``.
- :func:`friedman_nemenyi`, :func:`nemenyi_groups`, :func:`plot_cd_diagram` -- many methods on many datasets:
  average ranks, Friedman and Iman-Davenport tests, Nemenyi critical difference and the CD diagram (Demšar 2006,
  sections 3.2.2 and 3.2.4).

References:

- C. Nadeau, Y. Bengio. Inference for the generalization error. Machine Learning 52(3):239-281, 2003.
- R. R. Bouckaert, E. Frank. Evaluating the replicability of significance tests for comparing learning algorithms.
  PAKDD 2004, LNCS 3056:3-12.
- J. Demšar. Statistical comparisons of classifiers over multiple data sets. JMLR 7:1-30, 2006.
- A. Benavoli, G. Corani, J. Demšar, M. Zaffalon. Time for a change: a tutorial for comparing multiple classifiers
  through Bayesian analysis. JMLR 18(77):1-36, 2017. Reference code: ``baycomp`` (github.com/janezd/baycomp).

Only numpy and scipy are needed; matplotlib is imported inside :func:`plot_cd_diagram` and draws with the Agg
canvas, never through pyplot's global state.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict

import numpy as np
from scipy import stats as _st

__all__ = [
    "NEMENYI_Q",
    "BayesianSignedRank",
    "CorrectedTInterval",
    "FriedmanNemenyi",
    "WilcoxonAcross",
    "bayesian_signed_rank",
    "corrected_t_interval",
    "friedman_nemenyi",
    "nemenyi_groups",
    "nemenyi_q",
    "plot_cd_diagram",
    "wilcoxon_across",
]


class CorrectedTInterval(TypedDict):
    mean: float
    se: float
    ci_low: float
    ci_high: float
    t: float
    p: float
    n_pairs: int


class WilcoxonAcross(TypedDict):
    statistic: float
    p: float
    n: int
    n_nonzero: int


class BayesianSignedRank(TypedDict):
    p_left: float
    p_rope: float
    p_right: float


class FriedmanNemenyi(TypedDict):
    avg_ranks: np.ndarray
    chi2: float
    p: float
    iman_davenport_f: float
    iman_davenport_p: float
    q_alpha: float
    cd: float
    n_datasets: int
    n_methods: int


# Demšar (2006), Table 5(a): critical values q_alpha of the two-tailed Nemenyi test, the studentized range statistic
# with infinite degrees of freedom divided by sqrt(2), for k = 2..10 methods.
NEMENYI_Q: dict[float, dict[int, float]] = {
    0.05: {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164},
    0.10: {2: 1.645, 3: 2.052, 4: 2.291, 5: 2.459, 6: 2.589, 7: 2.693, 8: 2.780, 9: 2.855, 10: 2.920},
}


# ----------------------------------------------------------------------------------------------------------------
# validation helpers


def _finite_1d(values: object, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values)
    except Exception as exc:  # ragged nested sequences and the like
        raise ValueError(f"{name} must be a 1-D array of finite numbers, got {values!r}") from exc
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers (not bool/str/object), got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr[~np.isfinite(arr)][:5].tolist()} among its values")
    return arr


def _per_dataset(diffs_per_dataset: object, name: str) -> np.ndarray:
    """One difference per dataset: a 1-D array-like as is, or a mapping dataset -> difference(s), each averaged."""
    if isinstance(diffs_per_dataset, Mapping):
        means = []
        for key, value in diffs_per_dataset.items():
            per_fold = _finite_1d(np.atleast_1d(np.asarray(value)), f"{name}[{key!r}]")
            if per_fold.size == 0:
                raise ValueError(f"{name}[{key!r}] is empty")
            means.append(float(np.mean(per_fold)))
        return np.asarray(means, dtype=float)
    return _finite_1d(diffs_per_dataset, name)


def _real(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------------------------------------------
# one dataset: corrected resampled t-test


def corrected_t_interval(
    diffs: Sequence[float] | np.ndarray, n_train: float, n_test: float, confidence: float = 0.95
) -> CorrectedTInterval:
    r"""Corrected resampled t-test and confidence interval for paired differences from repeated k-fold CV.

    ``diffs`` (J,) are the J = k·r paired differences ``focal - logloss`` of one metric, one per (repeat, fold) of
    r-times repeated k-fold cross-validation on one dataset. The folds share training data, so the J differences are
    positively correlated and the naive variance σ̂²/J is too small. Nadeau & Bengio (2003) correct it by the
    test/train size ratio; Bouckaert & Frank (2004) apply the same correction to repeated k-fold CV:

    .. math::

        \bar d = \frac1J \sum_j d_j,\qquad
        \hat\sigma^2 = \frac1{J-1} \sum_j (d_j - \bar d)^2,\qquad
        \mathrm{se} = \sqrt{\Bigl(\frac1J + \frac{n_\text{test}}{n_\text{train}}\Bigr)\hat\sigma^2},

        t = \bar d / \mathrm{se} \sim t_{J-1},\qquad
        p = 2\,P(T_{J-1} > |t|),\qquad
        \mathrm{CI} = \bar d \pm t_{J-1,\,(1+c)/2}\,\mathrm{se}.

    ``n_train`` and ``n_test`` are the sizes of one fold's training and test parts (for k-fold CV
    ``n_test / n_train ≈ 1 / (k - 1)``); mean sizes are fine when folds differ by a row.

    Zero variance (all J differences identical) is decided, not divided by: ``se = 0`` and the interval is the single
    point ``[d̄, d̄]``; if ``d̄ == 0`` then ``t = 0, p = 1``, otherwise ``t = ±inf, p = 0``. The latter is the limit of
    the test as σ̂ → 0 and reflects the estimator, not real certainty: with few folds it usually means the metric is
    too coarse (e.g. identical predictions) rather than that the methods provably differ.

    Returns ``mean`` (d̄), ``se`` (corrected standard error), ``ci_low``, ``ci_high``, ``t``, ``p`` (two-sided) and
    ``n_pairs`` (J). Raises ValueError if J < 2 or a size/confidence is out of range.
    """
    d = _finite_1d(diffs, "diffs")
    if d.size < 2:
        raise ValueError(f"diffs must hold at least 2 paired differences (J = k*r >= 2), got {d.size}")
    n_train_f = _real(n_train, "n_train")
    n_test_f = _real(n_test, "n_test")
    if n_train_f <= 0:
        raise ValueError(f"n_train must be > 0, got {n_train!r}")
    if n_test_f <= 0:
        raise ValueError(f"n_test must be > 0, got {n_test!r}")
    conf = _real(confidence, "confidence")
    if not 0.0 < conf < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")

    n_pairs = int(d.size)
    if np.all(d == d[0]):
        mean = float(d[0])
        var = 0.0
    else:
        mean = float(np.mean(d))
        var = float(np.var(d, ddof=1))
    se = math.sqrt((1.0 / n_pairs + n_test_f / n_train_f) * var)
    if se == 0.0:  # identical differences, or a variance that underflowed
        t = 0.0 if mean == 0.0 else math.copysign(math.inf, mean)
        p = 1.0 if mean == 0.0 else 0.0
        return CorrectedTInterval(mean=mean, se=0.0, ci_low=mean, ci_high=mean, t=t, p=p, n_pairs=n_pairs)
    df = n_pairs - 1
    t = mean / se
    p = float(min(1.0, 2.0 * _st.t.sf(abs(t), df)))
    half = float(_st.t.ppf(0.5 + conf / 2.0, df)) * se
    return CorrectedTInterval(mean=mean, se=se, ci_low=mean - half, ci_high=mean + half, t=t, p=p, n_pairs=n_pairs)


# ----------------------------------------------------------------------------------------------------------------
# many datasets: Wilcoxon signed-rank and its Bayesian counterpart


def wilcoxon_across(
    diffs_per_dataset: Sequence[float] | np.ndarray | Mapping[str, object], zero_method: str = "zsplit"
) -> WilcoxonAcross:
    r"""Wilcoxon signed-rank test of "median difference = 0" over datasets (Demšar 2006, section 3.1.3).

    ``diffs_per_dataset``: one difference ``focal - logloss`` per dataset (N,), or a mapping dataset -> difference or
    per-fold differences (averaged per dataset). The absolute differences are ranked (ties averaged) and

    .. math::

        R^+ = \sum_{d_i > 0} \mathrm{rank}(|d_i|),\quad R^- = \sum_{d_i < 0} \mathrm{rank}(|d_i|),\quad
        T = \min(R^+, R^-),

    with the two-sided p-value from ``scipy.stats.wilcoxon(method="auto")``: exact null distribution for N ≤ 50
    without ties or zeros, an exact sign-flip permutation test for N ≤ 13 with ties or zeros, otherwise the normal
    approximation with continuity correction. ``zero_method`` is scipy's: ``"zsplit"`` (default, Demšar's
    recommendation: zero differences' ranks are split evenly between R⁺ and R⁻; Demšar additionally drops one zero
    when their count is odd, scipy does not), ``"wilcox"`` (zeros dropped) or ``"pratt"``.

    Edge cases: all differences zero → ``p = 1`` and ``statistic`` = the value the method gives (N(N+1)/4 for
    zsplit, 0 otherwise), without calling scipy (whose normal approximation would divide by zero). A single dataset is
    allowed (p = 1). Note that with N ≤ 5
    datasets the two-sided exact p-value cannot fall below 0.0625, so the test can never reject at 0.05.

    Returns ``statistic`` (T), ``p``, ``n`` (datasets) and ``n_nonzero`` (datasets with a nonzero difference).
    Raises ValueError for no datasets or an unknown ``zero_method``.
    """
    d = _per_dataset(diffs_per_dataset, "diffs_per_dataset")
    if zero_method not in ("zsplit", "wilcox", "pratt"):
        raise ValueError(f"zero_method must be 'zsplit', 'wilcox' or 'pratt', got {zero_method!r}")
    n = int(d.size)
    if n == 0:
        raise ValueError("diffs_per_dataset must hold at least one dataset, got none")
    n_nonzero = int(np.count_nonzero(d))
    if n_nonzero == 0:
        statistic = n * (n + 1) / 4.0 if zero_method == "zsplit" else 0.0
        return WilcoxonAcross(statistic=statistic, p=1.0, n=n, n_nonzero=0)
    res = _st.wilcoxon(d, zero_method=zero_method, alternative="two-sided")
    return WilcoxonAcross(statistic=float(res.statistic), p=float(min(1.0, res.pvalue)), n=n, n_nonzero=n_nonzero)


def bayesian_signed_rank(
    diffs_per_dataset: Sequence[float] | np.ndarray | Mapping[str, object],
    rope: float,
    n_samples: int = 50000,
    seed: int | None = 0,
    prior: float = 0.5,
) -> BayesianSignedRank:
    r"""Bayesian signed-rank test (Benavoli et al. 2017, section 4.2), the algorithm of ``baycomp.SignedRankTest``.

    ``diffs_per_dataset``: one difference ``focal - logloss`` per dataset, d_1..d_N (or a mapping as in
    :func:`wilcoxon_across`). ``rope`` ≥ 0 is the half-width of the region of practical equivalence, in the metric's
    units: |difference| < rope counts as "equivalent".

    The distribution of differences gets a Dirichlet-process posterior with a pseudo-observation d_0 = 0 of weight
    ``prior`` (the prior strength s), so the posterior weights are w ~ Dirichlet(s, 1, ..., 1) over d_0..d_N. For
    each of ``n_samples`` draws of w, the mass of the pairwise (Walsh) sums z_ij = d_i + d_j, i, j = 0..N (the
    diagonal included, as baycomp does), in each region is

    .. math::

        \theta_\text{left} = \sum_{ij} w_i w_j\, H(-z_{ij} - 2\,\mathrm{rope}),\quad
        \theta_\text{right} = \sum_{ij} w_i w_j\, H(z_{ij} - 2\,\mathrm{rope}),\quad
        \theta_\text{rope} = 1 - \theta_\text{left} - \theta_\text{right},

    with H(x) = 1 for x > 0, ½ at 0, 0 below (that is, (d_i + d_j)/2 compared with ±rope). The returned
    probabilities are, as in baycomp, the fractions of draws in which each region has the largest mass:
    ``p_left`` = P(logloss practically higher), ``p_rope`` = P(practically equivalent), ``p_right`` = P(focal
    practically higher). With ``rope == 0`` there is no rope region: ``p_rope = 0`` and left/right compare the mass
    below and above zero (baycomp's ``probs`` then returns the pair (p_left, p_right)).

    Draws use ``numpy.random.RandomState(seed).dirichlet`` as baycomp does, so with the same seed and sample count
    this reproduces ``baycomp.SignedRankTest.probs(x, y, rope, prior=prior, nsamples=n_samples,
    random_state=seed)`` for ``y - x = diffs``. One deliberate difference: a draw in which two regions tie exactly
    for the largest mass is split evenly between them, where baycomp gives it to the first (left). Exact ties only
    arise from degenerate inputs -- e.g. all differences 0 with ``rope == 0``, where this returns 0.5/0/0.5 and
    baycomp's split is decided by rounding error (its left mass is ``1 - right``).

    Returns ``p_left``, ``p_rope``, ``p_right`` (summing to 1, Monte Carlo error ~ sqrt(p(1-p)/n_samples)).
    """
    d = _per_dataset(diffs_per_dataset, "diffs_per_dataset")
    if d.size == 0:
        raise ValueError("diffs_per_dataset must hold at least one dataset, got none")
    rope_f = _real(rope, "rope")
    if rope_f < 0:
        raise ValueError(f"rope must be >= 0, got {rope!r}")
    n_samples_i = _int(n_samples, "n_samples")
    if n_samples_i <= 0:
        raise ValueError(f"n_samples must be > 0, got {n_samples!r}")
    if seed is not None:
        seed = _int(seed, "seed")
        if seed < 0:
            raise ValueError(f"seed must be >= 0 or None, got {seed!r}")
    prior_f = _real(prior, "prior")
    if prior_f <= 0:
        raise ValueError(f"prior must be > 0 (a Dirichlet weight), got {prior!r}")

    diff = np.concatenate(([0.0], d))
    sums = diff[:, None] + diff[None, :]
    threshold = 2.0 * rope_f

    def heaviside(a: np.ndarray) -> np.ndarray:
        return (a > threshold).astype(float) + 0.5 * (a == threshold).astype(float)

    below = heaviside(-sums)
    above = heaviside(sums)
    alphas = np.ones(diff.size)
    alphas[0] = prior_f
    rng = np.random.RandomState(seed)  # baycomp's generator, for a draw-by-draw reproduction
    wins = np.zeros(3)
    # chunks bound memory to O(chunk * N); the legacy generator draws row by row, so chunking keeps the stream
    chunk = max(1, min(n_samples_i, 2**22 // diff.size))
    done = 0
    while done < n_samples_i:
        m = min(chunk, n_samples_i - done)
        w = rng.dirichlet(alphas, m)
        theta = np.empty((m, 3))
        theta[:, 0] = np.einsum("si,ij,sj->s", w, below, w, optimize=True)
        theta[:, 2] = np.einsum("si,ij,sj->s", w, above, w, optimize=True)
        theta[:, 1] = 0.0 if rope_f == 0 else 1.0 - theta[:, 0] - theta[:, 2]
        is_max = theta == theta.max(axis=1, keepdims=True)
        wins += (is_max / is_max.sum(axis=1, keepdims=True)).sum(axis=0)
        done += m
    p_left, p_rope, p_right = (wins / n_samples_i).tolist()
    return BayesianSignedRank(p_left=p_left, p_rope=p_rope, p_right=p_right)


# ----------------------------------------------------------------------------------------------------------------
# many methods: Friedman, Nemenyi, CD diagram


def nemenyi_q(n_methods: int, alpha: float = 0.05) -> float:
    """Critical value q_alpha of the Nemenyi test for ``n_methods`` methods.

    Demšar's (2006) Table 5(a) for alpha in {0.05, 0.10} and 2..10 methods (the published 3-decimal values, so CDs
    match the literature); otherwise ``scipy.stats.studentized_range.ppf(1 - alpha, k, inf) / sqrt(2)``, which is
    what the table tabulates.
    """
    k = _int(n_methods, "n_methods")
    if k < 2:
        raise ValueError(f"n_methods must be >= 2, got {n_methods!r}")
    a = _real(alpha, "alpha")
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    for tabulated, row in NEMENYI_Q.items():
        if math.isclose(a, tabulated) and k in row:
            return row[k]
    return float(_st.studentized_range.ppf(1.0 - a, k, np.inf)) / math.sqrt(2.0)


def friedman_nemenyi(
    scores: Sequence[Sequence[float]] | np.ndarray, higher_is_better: bool = True, alpha: float = 0.05
) -> FriedmanNemenyi:
    r"""Average ranks, Friedman and Iman-Davenport tests and the Nemenyi critical difference (Demšar 2006, 3.2.2).

    ``scores`` (N datasets, k methods): one score per method and dataset (e.g. a CV mean). Within each dataset the
    best method gets rank 1 (highest score if ``higher_is_better``, else lowest); ties get the average of the ranks
    they span. With R_j the average rank of method j over the N datasets:

    .. math::

        \chi^2_F = \frac{12N}{k(k+1)}\Bigl[\sum_j R_j^2 - \frac{k(k+1)^2}{4}\Bigr]\ \text{(tie-corrected by scipy)},
        \qquad F_F = \frac{(N-1)\chi^2_F}{N(k-1) - \chi^2_F} \sim F_{k-1,\,(k-1)(N-1)},

        \mathrm{CD} = q_\alpha \sqrt{\frac{k(k+1)}{6N}}.

    ``chi2``/``p`` come from ``scipy.stats.friedmanchisquare`` (which divides χ²_F by the tie correction, so with tied
    scores it exceeds Demšar's uncorrected formula); Iman-Davenport's F_F, less conservative than χ²_F, is derived
    from it. For k = 2 scipy has no Friedman test and ``chi2, p, iman_davenport_f, iman_davenport_p`` are nan (use
    :func:`wilcoxon_across`). If every dataset ties all methods there is no evidence: χ² = F = 0, p = 1. If every
    dataset ranks the methods identically F_F = inf, p = 0.

    Two methods differ significantly (Nemenyi, level ``alpha``) when their average ranks differ by at least ``cd``.

    Returns ``avg_ranks`` (k,) in column order, ``chi2``, ``p``, ``iman_davenport_f``, ``iman_davenport_p``,
    ``q_alpha``, ``cd``, ``n_datasets`` (N), ``n_methods`` (k).
    """
    try:
        arr = np.asarray(scores)
    except Exception as exc:
        raise ValueError(f"scores must be a 2-D array (datasets x methods), got {scores!r}") from exc
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"scores must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"scores must be 2-D (datasets x methods), got shape {arr.shape}")
    n, k = arr.shape
    if n < 2:
        raise ValueError(f"scores must have at least 2 datasets (rows), got shape {arr.shape}")
    if k < 2:
        raise ValueError(f"scores must have at least 2 methods (columns), got shape {arr.shape}")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError("scores must be finite (a method missing on a dataset cannot be ranked)")
    if not isinstance(higher_is_better, bool | np.bool_):
        raise TypeError(f"higher_is_better must be a bool, got {higher_is_better!r}")
    q = nemenyi_q(k, alpha)

    ranks = _st.rankdata(-arr if higher_is_better else arr, axis=1, method="average")
    avg_ranks = ranks.mean(axis=0)
    nan = math.nan
    chi2 = p = f_id = p_id = nan
    if k >= 3:
        if np.all(arr == arr[:, :1]):
            chi2, p, f_id, p_id = 0.0, 1.0, 0.0, 1.0
        else:
            res = _st.friedmanchisquare(*arr.T)
            chi2, p = float(res.statistic), float(res.pvalue)
            denom = n * (k - 1) - chi2
            if denom <= 1e-12 * n * (k - 1):
                f_id, p_id = math.inf, 0.0
            else:
                f_id = (n - 1) * chi2 / denom
                p_id = float(_st.f.sf(f_id, k - 1, (k - 1) * (n - 1)))
    cd = q * math.sqrt(k * (k + 1) / (6.0 * n))
    return FriedmanNemenyi(avg_ranks=avg_ranks, chi2=chi2, p=p, iman_davenport_f=f_id, iman_davenport_p=p_id,
                           q_alpha=q, cd=cd, n_datasets=int(n), n_methods=int(k))


def _check_ranks(avg_ranks: Mapping[str, float], cd: float) -> tuple[list[tuple[str, float]], float]:
    if not isinstance(avg_ranks, Mapping):
        raise TypeError(f"avg_ranks must be a mapping method name -> average rank, got {type(avg_ranks).__name__}")
    if len(avg_ranks) < 2:
        raise ValueError(f"avg_ranks must hold at least 2 methods, got {dict(avg_ranks)!r}")
    items = []
    for name, rank in avg_ranks.items():
        if not isinstance(name, str):
            raise TypeError(f"avg_ranks keys must be method names (str), got {name!r}")
        r = _real(rank, f"avg_ranks[{name!r}]")
        if not 1.0 - 1e-9 <= r <= len(avg_ranks) + 1e-9:
            raise ValueError(f"avg_ranks[{name!r}] = {rank!r} is outside [1, {len(avg_ranks)}]")
        items.append((name, r))
    cd_f = _real(cd, "cd")
    if cd_f <= 0:
        raise ValueError(f"cd must be > 0, got {cd!r}")
    items.sort(key=lambda item: item[1])
    return items, cd_f


def nemenyi_groups(avg_ranks: Mapping[str, float], cd: float) -> list[tuple[str, ...]]:
    """Maximal groups of methods whose average ranks all lie within less than ``cd`` of each other.

    These are the bars of the CD diagram: the methods of a group are not significantly different from each other.
    Groups are runs of methods consecutive in rank (best first), at least 2 long, none contained in another, ordered
    by their best rank. A method in no group differs significantly from every other method.
    """
    items, cd_f = _check_ranks(avg_ranks, cd)
    groups: list[tuple[int, int]] = []
    for i in range(len(items)):
        j = i
        while j + 1 < len(items) and items[j + 1][1] - items[i][1] < cd_f:
            j += 1
        if j > i and not any(lo <= i and j <= hi for lo, hi in groups):
            groups.append((i, j))
    return [tuple(name for name, _ in items[lo : hi + 1]) for lo, hi in groups]


def plot_cd_diagram(
    avg_ranks: Mapping[str, float], cd: float, path: str | os.PathLike[str], title: str | None = None
) -> Path:
    """Draw Demšar's (2006, Fig. 1a) critical-difference diagram and save it (format from the suffix, e.g. PNG).

    ``avg_ranks``: method name -> average rank (1 = best), e.g.
    ``dict(zip(names, friedman_nemenyi(scores)["avg_ranks"]))``; ``cd``: the critical difference. The rank axis runs
    from k on the left to 1 (best) on the right, as in the paper; the better half of the methods is labelled on the
    right, the rest on the left; a thick bar joins each group of :func:`nemenyi_groups` (not significantly
    different); the CD is drawn as a bar above the axis. Returns the path.
    """
    items, cd_f = _check_ranks(avg_ranks, cd)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {title!r}")
    out = Path(path)
    if not out.parent.is_dir():
        raise ValueError(f"path's directory does not exist: {out.parent}")
    groups = nemenyi_groups(avg_ranks, cd_f)
    rank_of = dict(items)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    k = len(items)
    n_right = (k + 1) // 2
    right = items[:n_right]  # best first, top row
    left = items[n_right:][::-1]  # worst first, top row
    row_gap = 0.28
    bar_top = 0.18
    bar_gap = 0.12
    label_top = bar_top + bar_gap * len(groups) + 0.2
    bottom = label_top + row_gap * (max(len(right), len(left)) - 1) + 0.2
    span = max(k - 1, 1)
    x_left_end, x_right_end = k + 0.12 * span, 1 - 0.12 * span

    fig = Figure(figsize=(max(6.0, 1.2 * k), 1.3 + 1.6 * bottom))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.2, 0.02, 0.6, 0.8 if title else 0.9))
    ax.set_xlim(x_left_end, x_right_end)  # inverted: best rank on the right
    ax.set_ylim(bottom, -0.75)  # inverted: downward from the axis
    ax.set_axis_off()

    line = {"color": "black", "linewidth": 1.0, "clip_on": False}
    ax.plot([k, 1], [0, 0], **line)
    for tick in np.arange(1, k + 0.001, 0.5):
        major = float(tick).is_integer()
        ax.plot([tick, tick], [0, -0.1 if major else -0.05], **line)
        if major:
            ax.text(tick, -0.14, str(int(tick)), ha="center", va="bottom", fontsize=10)
    # critical difference, anchored at the worst end as in the paper
    ax.plot([k, k - cd_f], [-0.55, -0.55], **line)
    for x in (k, k - cd_f):
        ax.plot([x, x], [-0.6, -0.5], **line)
    ax.text(k - cd_f / 2, -0.6, f"CD = {cd_f:.2f}", ha="center", va="bottom", fontsize=9)

    for row, (name, rank) in enumerate(right):
        y = label_top + row * row_gap
        ax.plot([rank, rank, x_right_end], [0, y, y], **line)
        ax.text(x_right_end - 0.02 * span, y, f"{name} ({rank:.2f})", ha="left", va="center", fontsize=10,
                parse_math=False)
    for row, (name, rank) in enumerate(left):
        y = label_top + row * row_gap
        ax.plot([rank, rank, x_left_end], [0, y, y], **line)
        ax.text(x_left_end + 0.02 * span, y, f"({rank:.2f}) {name}", ha="right", va="center", fontsize=10,
                parse_math=False)
    for i, group in enumerate(groups):
        y = bar_top + i * bar_gap
        lo, hi = rank_of[group[0]], rank_of[group[-1]]
        ax.plot([lo - 0.03 * span, hi + 0.03 * span], [y, y], color="black", linewidth=4, solid_capstyle="butt",
                clip_on=False)
    if title:
        fig.suptitle(title, fontsize=11, parse_math=False)  # names and titles are text, not mathtext
    fig.savefig(out, bbox_inches="tight", dpi=120)
    return out
