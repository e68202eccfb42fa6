"""focal_boost.bench.stats against hand computation, scipy, baycomp and the worked example of Demšar (2006)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats as st

from focal_boost.bench.stats import (
    NEMENYI_Q,
    bayesian_signed_rank,
    corrected_t_interval,
    friedman_nemenyi,
    nemenyi_groups,
    nemenyi_q,
    plot_cd_diagram,
    wilcoxon_across,
)

# Demšar (2006), Table 6: AUC of C4.5, C4.5+m, C4.5+cf, C4.5+m+cf on 14 UCI datasets.
DEMSAR_METHODS = ("C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf")
DEMSAR_AUC = np.array([
    [0.763, 0.768, 0.771, 0.798],  # adult (sample)
    [0.599, 0.591, 0.590, 0.569],  # breast cancer
    [0.954, 0.971, 0.968, 0.967],  # breast cancer wisconsin
    [0.628, 0.661, 0.654, 0.657],  # cmc
    [0.882, 0.888, 0.886, 0.898],  # ionosphere
    [0.936, 0.931, 0.916, 0.931],  # iris
    [0.661, 0.668, 0.609, 0.685],  # liver disorders
    [0.583, 0.583, 0.563, 0.625],  # lung cancer
    [0.775, 0.838, 0.866, 0.875],  # lymphography
    [1.000, 1.000, 1.000, 1.000],  # mushroom
    [0.940, 0.962, 0.965, 0.962],  # primary tumor
    [0.619, 0.666, 0.614, 0.669],  # rheum
    [0.972, 0.981, 0.975, 0.975],  # voting
    [0.957, 0.978, 0.946, 0.970],  # wine
])


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---------------------------------------------------------------------------------------------------------------
# corrected resampled t-test


def test_corrected_t_hand_computed():
    # 2 x 5-fold CV: J = 10, n_train = 80, n_test = 20. By hand: sum = 0.20, mean = 0.02; deviations (x1e-2)
    # 0 -1 1 -2 0 -1 1 0 -1 3, squares sum to 18e-4, variance 18e-4 / 9 = 2e-4;
    # se = sqrt((1/10 + 20/80) * 2e-4) = sqrt(7e-5); t = 0.02 / sqrt(7e-5) = 2.3905.
    diffs = [0.02, 0.01, 0.03, 0.00, 0.02, 0.01, 0.03, 0.02, 0.01, 0.05]
    out = corrected_t_interval(diffs, n_train=80, n_test=20)
    se = math.sqrt(7e-5)
    t = 0.02 / se
    assert out["n_pairs"] == 10
    assert out["mean"] == pytest.approx(0.02, rel=1e-12)
    assert out["se"] == pytest.approx(se, rel=1e-12)
    assert out["t"] == pytest.approx(t, rel=1e-12)
    assert out["t"] == pytest.approx(2.3905, abs=1e-4)
    assert out["p"] == pytest.approx(2 * st.t.sf(t, 9), rel=1e-10)
    assert out["p"] == pytest.approx(0.0405, abs=5e-4)  # between the table's 0.05 (2.262) and 0.02 (2.821)
    half = st.t.ppf(0.975, 9) * se
    assert out["ci_low"] == pytest.approx(0.02 - half, rel=1e-10)
    assert out["ci_high"] == pytest.approx(0.02 + half, rel=1e-10)
    assert half == pytest.approx(2.262 * se, rel=1e-3)  # t_{0.975, 9} = 2.262 from a printed table
    # the uncorrected paired t-test would claim far more: se sqrt(2e-4 / 10) is 0.53 of the corrected one
    assert out["se"] > math.sqrt(2e-4 / 10) * 1.8
    narrow = corrected_t_interval(diffs, n_train=80, n_test=20, confidence=0.80)
    assert narrow["ci_high"] - narrow["ci_low"] == pytest.approx(2 * st.t.ppf(0.9, 9) * se, rel=1e-10)


def test_corrected_t_reduces_to_paired_t_without_overlap():
    # n_test / n_train -> 0 removes the correction: the one-sample t-test of scipy
    diffs = np.array([0.3, -0.1, 0.25, 0.4, 0.05, 0.2, -0.05, 0.15])
    out = corrected_t_interval(diffs, n_train=1e12, n_test=1e-3)
    ref = st.ttest_1samp(diffs, 0.0)
    assert out["t"] == pytest.approx(ref.statistic, rel=1e-9)
    assert out["p"] == pytest.approx(ref.pvalue, rel=1e-8)
    ci = ref.confidence_interval(0.95)
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-8)


def test_corrected_t_zero_variance(no_warnings):
    zero = corrected_t_interval(np.zeros(6), 50, 10)
    assert (zero["mean"], zero["se"], zero["t"], zero["p"], zero["ci_low"], zero["ci_high"]) == (0, 0, 0, 1, 0, 0)
    const = corrected_t_interval([0.1] * 6, 50, 10)
    assert const["mean"] == 0.1 and const["se"] == 0.0 and const["p"] == 0.0
    assert const["t"] == math.inf and const["ci_low"] == const["ci_high"] == 0.1
    assert corrected_t_interval([-0.1] * 6, 50, 10)["t"] == -math.inf


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"diffs": [0.1]}, ValueError, "diffs"),
        ({"diffs": []}, ValueError, "diffs"),
        ({"diffs": [[0.1, 0.2]]}, ValueError, "diffs"),
        ({"diffs": [0.1, np.nan]}, ValueError, "diffs"),
        ({"diffs": [True, False]}, TypeError, "diffs"),
        ({"n_train": 0}, ValueError, "n_train"),
        ({"n_train": True}, TypeError, "n_train"),
        ({"n_test": -5}, ValueError, "n_test"),
        ({"n_test": math.inf}, ValueError, "n_test"),
        ({"confidence": 1.0}, ValueError, "confidence"),
    ],
)
def test_corrected_t_rejects(kwargs, error, match):
    args = {"diffs": [0.1, 0.2, 0.0], "n_train": 90, "n_test": 10} | kwargs
    with pytest.raises(error, match=match):
        corrected_t_interval(**args)


# ---------------------------------------------------------------------------------------------------------------
# Wilcoxon across datasets


def test_wilcoxon_demsar_example():
    # Demšar (2006) section 3.1.3, C4.5+m vs C4.5 on Table 6 (zeros split): R+ = 93, R- = 12, so T = 12
    diffs = DEMSAR_AUC[:, 1] - DEMSAR_AUC[:, 0]
    out = wilcoxon_across(diffs)
    assert out["statistic"] == pytest.approx(12.0)
    assert (out["n"], out["n_nonzero"]) == (14, 12)
    assert out["p"] < 0.05  # the paper: T = 12 <= 21, the critical value for N = 14 at 0.05


@pytest.mark.parametrize("zero_method", ["zsplit", "wilcox", "pratt"])
def test_wilcoxon_matches_scipy(zero_method):
    diffs = np.array([0.02, -0.01, 0.0, 0.03, 0.01, 0.02, -0.03, 0.05, 0.04, 0.0, 0.06, 0.01, 0.07, -0.02, 0.08])
    out = wilcoxon_across(diffs, zero_method=zero_method)
    ref = st.wilcoxon(diffs, zero_method=zero_method)
    assert out["statistic"] == ref.statistic and out["p"] == pytest.approx(ref.pvalue, rel=1e-12)
    as_mapping = {f"ds{i}": [d - 0.01, d + 0.01] for i, d in enumerate(diffs)}  # per-fold values, averaged
    assert wilcoxon_across(as_mapping, zero_method=zero_method)["p"] == pytest.approx(out["p"], rel=1e-9)


def test_wilcoxon_edge_cases(no_warnings):
    assert wilcoxon_across(np.zeros(7)) == {"statistic": 7 * 8 / 4, "p": 1.0, "n": 7, "n_nonzero": 0}
    assert wilcoxon_across(np.zeros(7), zero_method="wilcox")["p"] == 1.0
    assert wilcoxon_across([0.3])["p"] == 1.0
    few = wilcoxon_across([0.1, 0.2, 0.3, 0.4, 0.5])  # the most extreme outcome for N = 5
    assert few["statistic"] == 0 and few["p"] == pytest.approx(2 / 32)
    with pytest.raises(ValueError, match="diffs_per_dataset"):
        wilcoxon_across([])
    with pytest.raises(ValueError, match="zero_method"):
        wilcoxon_across([0.1, 0.2], zero_method="drop")
    with pytest.raises(ValueError, match=r"diffs_per_dataset\['b'\]"):
        wilcoxon_across({"a": [0.1], "b": []})


# ---------------------------------------------------------------------------------------------------------------
# Bayesian signed-rank test


@pytest.mark.parametrize(
    ("diffs", "rope"),
    [
        ([0.012, 0.004, -0.003, 0.02, 0.009, 0.015, -0.001, 0.007, 0.011, 0.018], 0.005),
        ([0.003, -0.004, 0.001, 0.002, -0.006, 0.0, 0.004, -0.002], 0.01),
        ([-0.02, 0.01, -0.03, -0.015, 0.002, -0.01], 0.005),
        ([0.006, -0.002, 0.004, 0.009, 0.001, -0.003, 0.005], 0.0),
    ],
)
def test_bayesian_signed_rank_matches_baycomp(diffs, rope):
    import baycomp

    diffs = np.array(diffs)
    n = 20000
    ref = baycomp.SignedRankTest.probs(np.zeros_like(diffs), diffs, rope, nsamples=n, random_state=7)
    ref = (ref[0], 0.0, ref[1]) if rope == 0 else ref
    same = bayesian_signed_rank(diffs, rope, n_samples=n, seed=7)
    assert sum(same.values()) == pytest.approx(1.0, abs=1e-12)
    # same generator and seed: the same draws, so equal up to rounding-order ties
    assert [same["p_left"], same["p_rope"], same["p_right"]] == pytest.approx(list(ref), abs=2 / n)
    other = bayesian_signed_rank(diffs, rope, n_samples=n, seed=12345)
    assert [other["p_left"], other["p_rope"], other["p_right"]] == pytest.approx(list(ref), abs=0.015)


def test_bayesian_signed_rank_closed_cases(no_warnings):
    far_right = bayesian_signed_rank(np.linspace(0.05, 0.1, 10), rope=0.01, n_samples=5000)
    assert far_right["p_right"] > 0.999
    mixed = np.array([0.03, -0.01, 0.02, 0.05, -0.02, 0.04])
    right, left = bayesian_signed_rank(mixed, 0.01, n_samples=5000), bayesian_signed_rank(-mixed, 0.01, n_samples=5000)
    assert (right["p_left"], right["p_rope"], right["p_right"]) == (left["p_right"], left["p_rope"], left["p_left"])
    assert bayesian_signed_rank(np.zeros(8), rope=0.01, n_samples=2000) == {"p_left": 0, "p_rope": 1, "p_right": 0}
    # no rope and no evidence: every draw is an exact tie, split evenly
    assert bayesian_signed_rank(np.zeros(8), rope=0.0, n_samples=2000) == {"p_left": 0.5, "p_rope": 0, "p_right": 0.5}
    inside = bayesian_signed_rank(np.full(12, 0.001), rope=0.01, n_samples=5000)
    assert inside["p_rope"] > 0.999


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"diffs_per_dataset": []}, ValueError, "diffs_per_dataset"),
        ({"rope": -0.01}, ValueError, "rope"),
        ({"rope": math.nan}, ValueError, "rope"),
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_samples": 100.0}, TypeError, "n_samples"),
        ({"prior": 0.0}, ValueError, "prior"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_bayesian_signed_rank_rejects(kwargs, error, match):
    args = {"diffs_per_dataset": [0.01, 0.02], "rope": 0.01, "n_samples": 100} | kwargs
    with pytest.raises(error, match=match):
        bayesian_signed_rank(**args)


# ---------------------------------------------------------------------------------------------------------------
# Friedman, Nemenyi, CD diagram


def test_friedman_nemenyi_demsar_example():
    auc = DEMSAR_AUC.copy()
    # the paper ranks voting's printed tie 0.975/0.975 as C4.5+cf 2, C4.5+m+cf 3 (the unrounded values differ)
    auc[12, 2] = 0.9751
    out = friedman_nemenyi(auc)
    assert out["avg_ranks"] == pytest.approx([3.143, 2.000, 2.893, 1.964], abs=5e-4)  # the paper's average ranks
    assert out["avg_ranks"] * 14 == pytest.approx([44, 28, 40.5, 27.5])
    assert (out["n_datasets"], out["n_methods"], out["q_alpha"]) == (14, 4, 2.569)
    assert out["cd"] == pytest.approx(1.25, abs=5e-3)
    assert friedman_nemenyi(auc, alpha=0.10)["cd"] == pytest.approx(1.12, abs=5e-3)
    # the paper's chi2_F = 9.28 has no tie correction; scipy divides by C = 1 - sum(t^3 - t) / (N k (k^2 - 1)),
    # ties: iris, lung cancer, primary tumor (pairs, 6 each), mushroom (4 tied, 60): C = 1 - 78 / 840
    chi2_paper = 12 * 14 / (4 * 5) * (np.sum((np.array([44, 28, 40.5, 27.5]) / 14) ** 2) - 4 * 25 / 4)
    assert chi2_paper == pytest.approx(9.28, abs=5e-3)
    assert out["chi2"] == pytest.approx(chi2_paper / (1 - 78 / 840), rel=1e-12)
    assert out["p"] == pytest.approx(st.chi2.sf(out["chi2"], 3), rel=1e-10)
    f_id = 13 * out["chi2"] / (14 * 3 - out["chi2"])
    assert out["iman_davenport_f"] == pytest.approx(f_id, rel=1e-12)
    assert out["iman_davenport_p"] == pytest.approx(st.f.sf(f_id, 3, 39), rel=1e-10)
    # lower-is-better on the negated scores gives the same ranks
    assert friedman_nemenyi(-auc, higher_is_better=False)["avg_ranks"] == pytest.approx(out["avg_ranks"])


def test_friedman_hand_ranks_without_ties():
    scores = np.array([[0.9, 0.8, 0.7], [0.6, 0.9, 0.5], [0.7, 0.6, 0.65], [0.8, 0.7, 0.9]])
    # ranks by row: (1,2,3), (2,1,3), (1,3,2), (2,3,1) -> average 1.5, 2.25, 2.25
    out = friedman_nemenyi(scores)
    assert out["avg_ranks"] == pytest.approx([1.5, 2.25, 2.25])
    chi2 = 12 * 4 / (3 * 4) * (1.5**2 + 2 * 2.25**2 - 3 * 16 / 4)  # = 1.5, no ties so no correction
    assert out["chi2"] == pytest.approx(chi2) and chi2 == pytest.approx(1.5)
    assert out["cd"] == pytest.approx(2.343 * math.sqrt(3 * 4 / (6 * 4)))
    lower = friedman_nemenyi(scores, higher_is_better=False)
    assert lower["avg_ranks"] == pytest.approx(4 - out["avg_ranks"])


def test_friedman_degenerate_cases(no_warnings):
    two = friedman_nemenyi([[0.1, 0.2], [0.3, 0.1], [0.5, 0.6]])
    assert math.isnan(two["chi2"]) and math.isnan(two["p"])
    assert two["cd"] == pytest.approx(1.960 * math.sqrt(2 * 3 / (6 * 3)))
    tied = friedman_nemenyi(np.ones((5, 3)))
    assert (tied["chi2"], tied["p"], tied["iman_davenport_p"]) == (0.0, 1.0, 1.0)
    assert tied["avg_ranks"] == pytest.approx([2, 2, 2])
    same_order = friedman_nemenyi([[3, 2, 1], [30, 20, 10], [0.3, 0.2, 0.1]])
    assert same_order["chi2"] == pytest.approx(6.0) and same_order["iman_davenport_f"] == math.inf
    assert same_order["iman_davenport_p"] == 0.0
    for bad, error in (([[1, 2, 3]], ValueError), ([[1], [2]], ValueError), ([1, 2], ValueError),
                       ([[1, np.nan], [1, 2]], ValueError), ([["a", "b"], ["c", "d"]], TypeError)):
        with pytest.raises(error, match="scores"):
            friedman_nemenyi(bad)
    with pytest.raises(TypeError, match="higher_is_better"):
        friedman_nemenyi([[1, 2], [2, 1]], higher_is_better="yes")


def test_nemenyi_q_table_is_the_studentized_range():
    for alpha, row in NEMENYI_Q.items():
        for k, q in row.items():
            exact = st.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
            assert q == pytest.approx(exact, abs=1e-3), (alpha, k)
            assert nemenyi_q(k, alpha) == q
    assert nemenyi_q(12) == pytest.approx(st.studentized_range.ppf(0.95, 12, np.inf) / math.sqrt(2))
    with pytest.raises(ValueError, match="n_methods"):
        nemenyi_q(1)
    with pytest.raises(ValueError, match="alpha"):
        nemenyi_q(3, alpha=1.5)


def test_nemenyi_groups_demsar_figure():
    ranks = {"C4.5": 3.143, "C4.5+m": 2.000, "C4.5+cf": 2.893, "C4.5+m+cf": 1.964}
    # Demšar at alpha = 0.10 (CD 1.12): C4.5 differs from C4.5+m and C4.5+m+cf, C4.5+cf joins both groups
    assert nemenyi_groups(ranks, 1.12) == [("C4.5+m+cf", "C4.5+m", "C4.5+cf"), ("C4.5+cf", "C4.5")]
    assert nemenyi_groups(ranks, 1.25) == [("C4.5+m+cf", "C4.5+m", "C4.5+cf", "C4.5")]
    assert nemenyi_groups(ranks, 0.1) == [("C4.5+m+cf", "C4.5+m")]
    assert nemenyi_groups({"a": 1.0, "b": 2.0}, 1.0) == []  # a difference of exactly CD is significant
    with pytest.raises(ValueError, match="outside"):
        nemenyi_groups({"a": 0.5, "b": 2.0}, 1.0)
    with pytest.raises(ValueError, match="cd"):
        nemenyi_groups({"a": 1.0, "b": 2.0}, 0.0)


def test_plot_cd_diagram_writes_png(tmp_path):
    import matplotlib.image

    names = ("focal lgb", "logloss lgb", r"focal $\frac{$", "logloss xgb", "focal cb")  # invalid mathtext
    auc = np.array([[0.8, 0.78, 0.79, 0.77, 0.81], [0.6, 0.61, 0.58, 0.57, 0.62], [0.9, 0.88, 0.9, 0.87, 0.91],
                    [0.7, 0.69, 0.7, 0.66, 0.72], [0.5, 0.52, 0.49, 0.48, 0.53], [0.85, 0.84, 0.83, 0.8, 0.86]])
    res = friedman_nemenyi(auc)
    path = plot_cd_diagram(dict(zip(names, res["avg_ranks"], strict=True)), res["cd"], tmp_path / "cd.png",
                           title=r"PR-AUC $\frac{$, 6 datasets")
    assert path == tmp_path / "cd.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 300
    assert (image[..., :3] < 0.2).mean() > 0.002  # something dark was drawn on the white background
    with pytest.raises(ValueError, match="directory"):
        plot_cd_diagram({"a": 1.0, "b": 2.0}, 1.0, tmp_path / "missing" / "cd.png")
    with pytest.raises(TypeError, match="avg_ranks"):
        plot_cd_diagram([1.0, 2.0], 1.0, tmp_path / "cd.png")
