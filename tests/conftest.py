"""Shared, engine-free fixtures for the tests: small generated data sets and a plain-Python subprocess runner.

The features are rounded to one decimal so every column has well under 255 distinct values: each engine's
histogram binning then gives every distinct value its own bin, whatever the row counts or weights, which keeps
"weights versus repeated rows" and "focal versus builtin" comparisons free of binning differences.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from focal_boost import _kernels


def make_binary(n_samples: int = 600, n_features: int = 5, positive_rate: float = 0.15, noise: float = 1.0,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (n_samples, n_features) rounded to 0.1 and integer labels ``y`` in {0, 1} with about
    ``positive_rate`` positives, driven by the first two features plus Gaussian noise of scale ``noise``."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n_samples, n_features)), 1)
    score = X[:, 0] + 0.5 * X[:, 1] + noise * rng.normal(size=n_samples)
    y = (score > np.quantile(score, 1.0 - positive_rate)).astype(np.int64)
    return X, y


def make_multiclass(n_samples: int = 600, n_features: int = 5, proportions: tuple[float, ...] = (0.6, 0.28, 0.12),
                    noise: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``X`` rounded to 0.1 and integer labels ``y`` in 0..K-1 with about the given class proportions (classes
    ordered along a noisy score of the first two features)."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n_samples, n_features)), 1)
    score = X[:, 0] + 0.5 * X[:, 1] + noise * rng.normal(size=n_samples)
    cuts = np.quantile(score, np.cumsum(proportions)[:-1])
    y = np.digitize(score, cuts).astype(np.int64)
    return X, y


def integer_weights(n_samples: int, values: tuple[int, ...] = (1, 2, 3), seed: int = 1) -> np.ndarray:
    """Random integer sample weights (as float64) drawn from ``values``."""
    return np.random.default_rng(seed).choice(np.asarray(values, dtype=np.float64), size=n_samples)


@pytest.fixture
def binary_data() -> tuple[np.ndarray, np.ndarray]:
    return make_binary()


@pytest.fixture
def multiclass_data() -> tuple[np.ndarray, np.ndarray]:
    return make_multiclass()


@pytest.fixture
def data_factory() -> dict[str, Callable[..., tuple[np.ndarray, np.ndarray] | np.ndarray]]:
    """The generators above, for tests that need other sizes, seeds or noise levels."""
    return {"binary": make_binary, "multiclass": make_multiclass, "weights": integer_weights}


@pytest.fixture
def run_plain_python(tmp_path) -> Callable[..., str]:
    """Run ``code`` in a fresh interpreter (cwd = a temporary directory) and return its stdout.

    The snippet runs as written, then the runner asserts that ``focal_boost`` was never imported in that process,
    so it checks that saved models work with the plain engine alone. Raises ``AssertionError`` with the child's
    stderr when it fails.
    """

    def run(code: str, timeout: float = 120.0) -> str:
        script = textwrap.dedent(code) + "\nimport sys\nassert 'focal_boost' not in sys.modules, 'focal_boost leaked'\n"
        proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                              timeout=timeout)
        assert proc.returncode == 0, f"plain-python run failed:\n{proc.stderr}"
        return proc.stdout

    return run


def make_multilabel(n_samples: int = 600, n_features: int = 5, rates: tuple[float, ...] = (0.3, 0.15, 0.05),
                    noise: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``X`` rounded to 0.1 and a 0/1 label matrix ``Y`` (n_samples, L) with about the given positive rate per
    label; label j is driven by features j and j + 1 (mod n_features) plus Gaussian noise of scale ``noise``."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n_samples, n_features)), 1)
    Y = np.empty((n_samples, len(rates)), dtype=np.int64)
    for j, rate in enumerate(rates):
        score = X[:, j % n_features] + 0.5 * X[:, (j + 1) % n_features] + noise * rng.normal(size=n_samples)
        Y[:, j] = score > np.quantile(score, 1.0 - rate)
    return X, Y


# the two row paths of the CatBoost per-object kernels: numba-compiled, and the numpy fallback
ROW_PATHS = [pytest.param(True, id="numba", marks=pytest.mark.skipif(not _kernels.AVAILABLE,
                                                                   reason="numba missing")),
             pytest.param(False, id="numpy")]


@contextlib.contextmanager
def row_path(compiled: bool) -> Iterator[None]:
    """Run the block with the compiled kernels switched on or off, restoring the previous setting."""
    previous = _kernels.set_enabled(compiled)
    try:
        yield
    finally:
        _kernels.set_enabled(previous)

