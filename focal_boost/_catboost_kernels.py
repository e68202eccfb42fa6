"""Per-object softmax and multi-label focal derivatives for CatBoost's ``calc_ders_multi`` protocol (numba).

catboost 1.2.10 calls a Python multiclass objective once per object, twice per iteration
(``_ObjectiveCalcDersMultiClass`` in ``_catboost.pyx``), holding the GIL, with a fresh numpy view of the object's K
raw scores (``_CreateNumpyDoubleArrayView``), and copies the result out element by element: ``for index, der in
enumerate(ders_vector)`` and ``for indY, line in enumerate(second_ders_matrix): for num in line[indY:]``. Python
floats convert at C speed there, numpy scalars through a Python-level call each (a no-op returning numpy arrays
cost ~3x one returning lists, issue 13), so the function returns Python lists, and everything per object is kept
to one numba call and a few list operations (~1 us per object here, see ``_compiled_row_ders``). Without numba
(or with the kernels switched off) the objective takes the core's validated numpy path per object instead.

CatBoost's own numba route (``_try_jit_methods`` njit-compiles ``calc_ders_multi`` when its body never uses
``self``) does not fit: the loss parameters would have to be globals, and an njit method returns numpy arrays,
the slow conversion above. The objective sets ``no_jit`` to skip it.

The derivatives are ``_fast_kernels._softmax_row``'s, the row function of the batch kernels (checked against
``_math.softmax_grad_hess`` to 1e-12): with ``m`` the largest other-class score (class ``top``) and
``e_j = exp(z_j - m)``, ``acc = 1 + sum_{j != y, top} e_j``, the margin ``s = z_y - m - log(acc)``,
``r_j = e_j / acc`` (``r_top = 1 / acc`` and ``1 - r_top = rest / acc``, without cancellation), then

    dFL/dz_y = w g,      dFL/dz_j = -w r_j g,      d2FL/dz_y2 = w h,      d2FL/dz_j2 = w r_j (r_j h - (1 - r_j) g)

with ``g, h = f'(s), f''(s)`` under the hessian safeguard. CatBoost maximises, so the row function returns minus
those: ``-grad`` as a list and ``-diag(hess)`` as a K x K list of lists (CatBoost reads only its upper triangle).

The multi-label objective (a ``MultiTargetCustomObjective``: catboost 1.2.10 calls ``calc_ders_multi(approx (L,),
target (L,), weight)`` once per object, the same way) takes the same route with ``multilabel_row_ders``: label j's
binary focal derivatives of ``approx[j] + offset[j]``, its diagonal hessian in the same kept L x L lists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._math import HESSIANS, Hessian

_BOUND, _ABS, _EXACT = int(Hessian.BOUND), int(Hessian.ABS), int(Hessian.EXACT)

__all__ = ["RangeDers", "RowDers", "binary_range_ders", "multilabel_row_ders", "softmax_row_ders"]

# (approx, target (a class index, or L labels), weight) -> (minus grad, minus diagonal hessian as K x K rows)
RowDers = Callable[[Sequence[float], Any, float], tuple[list[float], list[list[float]]]]


def softmax_row_ders(n_classes: int, gamma: float, hessian: str, class_alpha: Sequence[float] | None,
                     on_other_length: RowDers | None = None) -> RowDers:
    """A function ``ders(approx, target, weight)`` for one object of a K-class softmax focal loss.

    ``approx``: the object's K raw scores as a float64 numpy array (what CatBoost passes); ``target``: its class
    index as a float; ``weight``: its sample weight. ``class_alpha``: the K class weights, or None for all 1.
    Returns ``(-grad, -diag(hess))`` as a list and a K x K list of lists; the K x K lists are this thread's kept
    rows, rewritten by its next call (CatBoost copies them at once; copy them to keep them). Labels, weights and K
    are checked on every call; a bad one raises ValueError naming it. It calls the numba kernel
    (``_catboost_numba``; numba must be installed), which gives the core's numbers (``FocalLoss.grad_hess``) to a
    few ulps.
    ``on_other_length``: called instead (same arguments) when ``approx`` does not hold K values; None raises.
    """
    k = int(n_classes)
    if k < 2:
        raise ValueError(f"n_classes must be >= 2, got n_classes={n_classes!r}")
    if hessian not in HESSIANS:
        raise ValueError(f"hessian must be one of {HESSIANS}, got hessian={hessian!r}")
    mode = int(Hessian[hessian.upper()])
    alpha = [1.0] * k if class_alpha is None else [float(a) for a in class_alpha]
    if len(alpha) != k:
        raise ValueError(f"class_alpha must have one weight per class (K={k}), got class_alpha={class_alpha!r}")
    alpha_arr = np.array(alpha)

    def new_state() -> np.ndarray:
        from . import _catboost_numba as kernels

        return kernels.new_state(k, float(gamma), mode, alpha_arr)

    return _compiled_row_ders(k, new_state, "softmax_row", on_other_length)


def multilabel_row_ders(n_labels: int, gamma: float, hessian: str, alpha_pos: Sequence[float],
                        alpha_neg: Sequence[float], offset: Sequence[float] | None, on_other_length: RowDers,
                        on_bad_input: RowDers) -> RowDers:
    """A function ``ders(approx, target, weight)`` for one object of an L-label multi-label focal loss (CatBoost's
    ``MultiTargetCustomObjective.calc_ders_multi``).

    ``approx``: the object's L raw scores, float64 numpy (what CatBoost passes); ``target``: its L labels, float64
    numpy; ``weight``: its sample weight. ``alpha_pos``/``alpha_neg``: the L positive/negative weights (the task's
    ``alpha_pos``/``alpha_neg``); ``offset``: L raw scores added to ``approx`` first (the init score CatBoost does
    not hold), or None. Returns ``(-grad, -diag(hess))`` as a list and an L x L list of lists kept per thread (as
    :func:`softmax_row_ders`), the core's numbers (``FocalLoss.grad_hess`` on the ``(1, L)`` label matrix) to a
    few ulps. One numba call per object (``_catboost_numba.multilabel_row``), no loop over labels in Python.
    ``on_other_length`` answers (same arguments) when ``approx`` or ``target`` does not hold L values;
    ``on_bad_input`` when a label is not 0 or 1 (soft labels included) or the weight is negative or not finite:
    the objective's validated path, which computes soft labels and names a bad value.
    """
    k = int(n_labels)
    if k < 2:
        raise ValueError(f"n_labels must be >= 2, got n_labels={n_labels!r}")
    if hessian not in HESSIANS:
        raise ValueError(f"hessian must be one of {HESSIANS}, got hessian={hessian!r}")
    mode = int(Hessian[hessian.upper()])
    pos, neg = np.array(alpha_pos, dtype=np.float64), np.array(alpha_neg, dtype=np.float64)
    shift = np.zeros(k) if offset is None else np.array(offset, dtype=np.float64)
    if pos.shape != (k,) or neg.shape != (k,) or shift.shape != (k,):
        raise ValueError(f"alpha_pos, alpha_neg and offset must hold L={k} values each, got {pos.shape}, "
                         f"{neg.shape}, {shift.shape}")

    def new_state() -> np.ndarray:
        from . import _catboost_numba as kernels

        return kernels.new_multilabel_state(float(gamma), mode, pos, neg, shift)

    return _compiled_row_ders(k, new_state, "multilabel_row", on_other_length, on_bad_input)


def _length_error(k: int, approx: Sequence[float]) -> str:
    return f"approx must hold the K={k} raw scores of one object, got {len(approx)} values"


def _compiled_row_ders(k: int, new_state: Callable[[], np.ndarray], kernel_name: str,
                       on_other_length: RowDers | None, on_bad_input: RowDers | None = None) -> RowDers:
    """The per-object function around a numba row kernel (``_catboost_numba.<kernel_name>``, which writes
    ``-grad`` and ``-diag(hess)`` into the last ``2 K`` values of its ``new_state()`` buffer): one kernel call into a
    per-thread buffer, one ``tolist()`` of its 2 K outputs, and the K diagonal entries written into K x K lists kept
    per thread.

    Per object, measured on the 2-core development machine (K=5, ``python -m timeit``-style loops): the kernel call
    is ~0.34 us; building fresh K x K lists (``tolist()`` of a (K + 1, K) buffer) was ~0.5 us more, writing the
    diagonal into kept lists in a Python loop ~0.30 us, and the same K assignments spelled out ~0.12 us. So the
    function's source is generated for this K (as ``collections.namedtuple`` generates its class): the kept rows
    are unpacked into K names and each gets its one diagonal entry. The off-diagonal entries of the kept rows stay
    0.0 (only the diagonal is ever written). The rows are returned again by the next call from the same thread:
    catboost 1.2.10 copies them out before it returns to C++ (a caller keeping them must copy them). Buffers are
    per thread because CatBoost calls the objective from each of its ``thread_count`` worker threads.
    ``on_bad_input``: called instead (same arguments) on a bad label or weight; None raises ValueError.
    """
    from . import _catboost_numba as kernels

    local = threading.local()

    def new_buffers() -> tuple[object, ...]:
        state = new_state()
        rows = [[0.0] * k for _ in range(k)]
        return (state, state[state.shape[0] - 2 * k:], rows, *rows)

    def bad(status: int, approx: Sequence[float], target: float, weight: float
            ) -> tuple[list[float], list[list[float]]]:
        if status == kernels.BAD_LENGTH and on_other_length is not None:
            return on_other_length(approx, target, weight)
        if status != kernels.BAD_LENGTH and on_bad_input is not None:
            return on_bad_input(approx, target, weight)
        raise ValueError(_status_error(status, k, approx, target, weight))

    namespace = {"local": local, "new_buffers": new_buffers, "kernel": getattr(kernels, kernel_name), "bad": bad}
    exec(_row_ders_source(k), namespace)  # the source is built from the integer K only
    return namespace["ders"]


def _row_ders_source(k: int) -> str:
    """Source of the per-object function for K classes (see ``_compiled_row_ders``)."""
    rows = ", ".join(f"r{j}" for j in range(k))
    diag = ", ".join(f"h{j}" for j in range(k))
    return "\n".join([
        "def ders(approx, target, weight):",
        "    try:",
        f"        state, out, rows, {rows}, = local.buffers",
        "    except AttributeError:",
        f"        state, out, rows, {rows}, = local.buffers = new_buffers()",
        "    status = kernel(approx, target, weight, state)",
        "    if status:",
        "        return bad(status, approx, target, weight)",
        "    values = out.tolist()",
        f"    {diag}, = values[{k}:]",
        *(f"    r{j}[{j}] = h{j}" for j in range(k)),
        f"    return values[:{k}], rows",
    ])


def _status_error(status: int, k: int, approx: Sequence[float], target: float, weight: float) -> str:
    from . import _catboost_numba as kernels

    if status == kernels.BAD_LENGTH:
        return _length_error(k, approx)
    if status == kernels.BAD_LABEL:
        return _label_error(k, target)
    return _weight_error(weight)


def _label_error(k: int, target: float) -> str:
    return f"y must hold integer class labels in 0..{k - 1}, got y={target!r}"


def _weight_error(weight: float) -> str:
    return f"sample_weight must be finite and >= 0, got sample_weight={weight!r}"



RangeDers = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]


def binary_range_ders(alpha: float | None, gamma: float, hessian: str, fallback: RangeDers) -> RangeDers:
    """A function ``ders(approxes, targets, weights)`` for CatBoost's binary ``calc_ders_range`` protocol: the
    ``(n, 2)`` float64 array of ``(-grad, -hess)`` of a chunk (the layout catboost 1.2.10 copies at C speed) by one
    numba call (numba must be installed; ``_catboost_numba.binary_range``: no target cache, no temporaries, GIL
    released), the core's numbers (``FocalLoss.grad_hess``). ``fallback(approxes, targets, weights)`` answers
    instead when a label is soft (not 0/1) or a weight is bad (the validated path, which names a bad value).

    The function holds the GIL for as little as it can (one allocation and the kernel's dispatch): catboost 1.2.10
    calls it from each of its worker threads, which queue for the GIL between calls.
    """
    from . import _catboost_numba as kernels

    kernel = kernels.binary_range
    has_alpha = alpha is not None
    a1, a0 = (1.0, 1.0) if alpha is None else (float(alpha), 1.0 - float(alpha))
    gamma = float(gamma)
    mode = int(Hessian[hessian.upper()])
    empty = np.empty(0)

    def ders(approxes: np.ndarray, targets: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        out = np.empty((approxes.shape[0], 2))
        if kernel(approxes, targets, empty if weights is None else weights, has_alpha, a1, a0, gamma, mode, out):
            return out
        return fallback(approxes, targets, weights)

    return ders
