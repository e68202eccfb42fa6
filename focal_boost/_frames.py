"""DataFrames as users hold them: pandas (NumPy-backed, nullable and Arrow-backed dtypes) and polars.

Validation reads the frame without converting it: its column names, the kind of each column (numeric, boolean,
categorical, string, other) and whether a float column holds infinity. The engine then gets one form it takes on
all three engines, the form their own classifiers read with column names and categories: a pandas DataFrame whose
numeric and boolean columns are NumPy columns and whose categorical columns have the ``category`` dtype; a frame
already in that form passes as it is. Converted, because (checked with lightgbm 4.7.0, xgboost 3.2.0, catboost
1.2.10, pandas 3.1, polars 2.1):

- polars frames: ``lightgbm.LGBMClassifier`` aborts the process on a ``pl.String``, ``pl.Categorical`` or
  ``pl.Enum`` column (``[LightGBM] [Fatal] Unsupported Arrow type``); ``CatBoostClassifier`` segfaults on
  ``pl.Categorical``; ``XGBClassifier`` raises ``KeyError: DataType(large_string)`` on ``pl.String``. ``pl.Enum``
  keeps its declared categories; ``pl.Categorical`` (whose encoding is process-wide in polars) gets the values it
  holds, sorted, as pandas' ``astype("category")`` does, so the same data trains the same model in any process.
- Arrow-backed pandas columns (``int64[pyarrow]``, ``double[pyarrow]``, ``bool[pyarrow]``, dictionary): LightGBM
  refuses every one of them ("pandas dtypes must be int, float or bool"); XGBoost refuses Arrow dictionary columns
  ("Use pandas category instead"). Arrow dictionary columns become ``category`` columns of their sorted values.
- pandas' nullable ``Int64``/``Float64``/``boolean`` columns: CatBoost cannot read ``pd.NA`` ("Cannot convert obj
  <NA> to float").

Numeric and boolean columns become NumPy columns of their own type, or float64 with NaN where a value is missing
(booleans as 0/1). String columns (object, ``str``, ``string[pyarrow]``, ``pl.String``) pass as they are: only
CatBoost reads them, as ``cat_features`` or ``text_features``; each engine's classifier states what it takes
(``_check_frame_columns``). Neither pandas nor polars is imported unless the input is one of their frames.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

NUMERIC, BOOLEAN, CATEGORICAL, STRING, OTHER = "numeric", "boolean", "categorical", "string", "other"


def frame_library(X: Any) -> str | None:
    """``"pandas"`` or ``"polars"`` for a DataFrame of that library, None for anything else (never imports it)."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(X, pd.DataFrame):
        return "pandas"
    pl = sys.modules.get("polars")
    if pl is not None and isinstance(X, pl.DataFrame):
        return "polars"
    return None


@dataclass(frozen=True)
class FrameColumns:
    """What validation reads from a DataFrame: its library, column names (as the frame has them) and kinds."""

    library: str
    names: list[Any]
    kinds: list[str]

    def named(self, *kinds: str) -> list[Any]:
        return [name for name, kind in zip(self.names, self.kinds, strict=True) if kind in kinds]

    def dtype(self, X: Any, position: int) -> str:
        return str(X.dtypes[position])


def read_columns(X: Any, library: str) -> FrameColumns:
    """The column names and kinds of a pandas or polars DataFrame, from its schema (nothing converted)."""
    if library == "polars":
        return FrameColumns(library, list(X.columns), [_polars_kind(dtype) for dtype in X.dtypes])
    return FrameColumns(library, list(X.columns), [_pandas_kind(dtype) for dtype in X.dtypes])


def _pandas_kind(dtype: Any) -> str:
    import pandas as pd
    from pandas.api import types

    if isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        if pa.types.is_dictionary(dtype.pyarrow_dtype):
            return CATEGORICAL
    if types.is_bool_dtype(dtype):
        return BOOLEAN
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        return NUMERIC
    if types.is_string_dtype(dtype):  # object, str, string[pyarrow]
        return STRING
    return OTHER


def _polars_kind(dtype: Any) -> str:
    import polars as pl

    base = dtype.base_type()
    if base is pl.Boolean:
        return BOOLEAN
    if dtype.is_numeric():
        return NUMERIC
    if base in (pl.Categorical, pl.Enum):
        return CATEGORICAL
    if base is pl.String:
        return STRING
    return OTHER


# -- checks ----------------------------------------------------------------------------------------------------------
def _infinity_error(column: Any, count: int, row: int) -> ValueError:
    return ValueError(f"X contains infinity in column {column!r} ({count} value(s), the first in row {row}): NaN is "
                      "a missing value, infinity is an error; replace it with NaN or a finite value")


def check_frame_finite(X: Any, columns: FrameColumns) -> None:
    """Raise the infinity ``ValueError`` naming the first numeric column that holds +-inf (NaN/null allowed)."""
    for position, (name, kind) in enumerate(zip(columns.names, columns.kinds, strict=True)):
        if kind != NUMERIC:
            continue
        if columns.library == "polars":
            series = X.to_series(position)
            if not series.dtype.is_float():
                continue
            infinite = series.is_infinite()
            count = int(infinite.sum())
            if count:
                raise _infinity_error(name, count, int(infinite.arg_true()[0]))
            continue
        values = _pandas_float_values(X.iloc[:, position])
        if values is None:
            continue
        infinite = np.isinf(values)
        if infinite.any():
            raise _infinity_error(name, int(infinite.sum()), int(np.argmax(infinite)))


def _pandas_float_values(column: Any) -> np.ndarray | None:
    from pandas.api import types

    if types.is_integer_dtype(column.dtype):
        return None
    if isinstance(column.dtype, np.dtype):
        return column.to_numpy()
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def check_array_finite(X: Any, feature_names: Sequence[Any] | None) -> None:
    """The same infinity error for a validated NumPy array or scipy sparse matrix; the column is its feature name
    (when fitted on a DataFrame) or its position."""
    import scipy.sparse as sp

    if sp.issparse(X):
        if X.dtype.kind != "f" or not np.isinf(X.data).any():
            return
        coo = X.tocoo()
        infinite = np.isinf(coo.data)
        first = int(np.lexsort((coo.col[infinite], coo.row[infinite]))[0])
        row, col = int(coo.row[infinite][first]), int(coo.col[infinite][first])
        raise _infinity_error(_column_label(col, feature_names), int(infinite.sum()), row)
    X = np.asarray(X)
    if X.dtype.kind != "f":
        return
    infinite_columns = np.isinf(X).any(axis=0)
    if infinite_columns.any():
        col = int(np.argmax(infinite_columns))
        infinite = np.isinf(X[:, col])
        raise _infinity_error(_column_label(col, feature_names), int(infinite.sum()), int(np.argmax(infinite)))


def _column_label(position: int, feature_names: Sequence[Any] | None) -> Any:
    return feature_names[position] if feature_names is not None and position < len(feature_names) else position


def columns_with_missing(X: Any, columns: FrameColumns, names: Sequence[Any]) -> list[Any]:
    """Which of these columns hold a missing value (NaN, None, null, ``pd.NA``)."""
    wanted = set(names)
    out = []
    for position, name in enumerate(columns.names):
        if name not in wanted:
            continue
        column = X.to_series(position) if columns.library == "polars" else X.iloc[:, position]
        missing = column.null_count() if columns.library == "polars" else int(column.isna().sum())
        if missing:
            out.append(name)
    return out


def column_kind_error(names: Sequence[Any], what: str, engine_takes: str, fix: str) -> ValueError:
    """The error for columns an engine does not read as they are: which columns, what the engine takes, the fix."""
    return ValueError(f"X has {what} column(s) {list(names)!r}: {engine_takes}. {fix}")


def category_dtype_fix(names: Sequence[Any]) -> str:
    """The one-line fix that gives string columns the ``category`` dtype, in pandas and in polars."""
    return (f"Give them that dtype: X[{list(names)!r}] = X[{list(names)!r}].astype('category') (polars: "
            f"X.with_columns(pl.col({list(names)!r}).cast(pl.Categorical)))")


def other_columns_error(X: Any, columns: FrameColumns) -> ValueError | None:
    """The error for columns of no feature kind (dates, lists, ...), or None when there is none."""
    others = [f"{name!r} ({columns.dtype(X, i)})" for i, (name, kind) in enumerate(zip(columns.names, columns.kinds,
                                                                                         strict=True))
              if kind == OTHER]
    if not others:
        return None
    return ValueError(f"X has column(s) of a dtype the classifiers do not read: {', '.join(others)}; features must "
                      "be numeric, boolean, categorical or (CatBoost cat_features/text_features) strings")


# -- the engine form -------------------------------------------------------------------------------------------------
def engine_frame(X: Any, columns: FrameColumns) -> Any:
    """``X`` as a pandas DataFrame with NumPy numeric/boolean columns and ``category`` categorical columns (see the
    module docstring), the same column names; ``X`` itself when it already is one."""
    if columns.library == "polars":
        return _from_polars(X, columns)
    import pandas as pd

    converted = {}
    for position, kind in enumerate(columns.kinds):
        column = X.iloc[:, position]
        if isinstance(column.dtype, np.dtype) or isinstance(column.dtype, pd.CategoricalDtype):
            continue
        if kind in (NUMERIC, BOOLEAN):
            has_missing = bool(column.isna().any())
            converted[position] = (column.to_numpy(dtype=np.float64, na_value=np.nan) if has_missing
                                   else column.to_numpy(dtype=column.dtype.numpy_dtype))
        elif kind == CATEGORICAL:
            converted[position] = pd.Categorical(column.to_numpy(dtype=object, na_value=None))
    if not converted:
        return X
    out = X.copy(deep=False)
    for position, values in converted.items():
        out.isetitem(position, values)
    return out


def _from_polars(X: Any, columns: FrameColumns) -> Any:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is installed wherever the tests run
        raise ImportError("polars DataFrames reach the engines as pandas DataFrames: install pandas") from exc
    import polars as pl

    data = {}
    for position, kind in enumerate(columns.kinds):
        series = X.to_series(position)
        has_missing = series.null_count() > 0
        if kind == BOOLEAN and has_missing:
            values: Any = series.cast(pl.Float64).to_numpy()
        elif kind == NUMERIC and has_missing:
            values = series.cast(pl.Float64).fill_null(np.nan).to_numpy()
        elif kind == CATEGORICAL:
            strings = series.cast(pl.String).to_numpy()
            if series.dtype.base_type() is pl.Enum:
                values = pd.Categorical(strings, categories=list(series.dtype.categories))
            else:
                values = pd.Categorical(strings)
        else:
            values = series.to_numpy()
        data[position] = values
    out = pd.DataFrame(data)
    out.columns = list(columns.names)
    return out
