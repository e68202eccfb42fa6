"""Deploy a focal model as ONNX: calibrated probabilities scored by onnxruntime alone.

Trains a small FocalLGBMClassifier on imbalanced data, exports it with ``focal_boost.onnx.to_onnx`` (trees from
onnxmltools plus the focal calibration map in ONNX operators), writes it to a temporary file and scores it in a
fresh Python process that never imports focal_boost (``python -I``, run from the temporary directory). Prints the
largest absolute difference to ``predict_proba`` and the test-set PR-AUC and log loss of both.

Run: python examples/deploy_onnx.py   (needs the extra: pip install "focal_boost[onnx]" onnxruntime)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, log_loss

from focal_boost.lightgbm import FocalLGBMClassifier
from focal_boost.onnx import to_onnx

SCORER = textwrap.dedent("""
    import sys
    import numpy as np
    import onnxruntime

    session = onnxruntime.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": np.load("X_test.npy")})
    np.save("proba.npy", proba)
    assert "focal_boost" not in sys.modules, "focal_boost was imported"
""")


def main() -> None:
    X, y = make_classification(n_samples=6_000, n_features=10, n_informative=5, weights=[0.97], flip_y=0.01,
                               random_state=0)
    X_train, y_train, X_test, y_test = X[:4_000], y[:4_000], X[4_000:], y[4_000:]
    clf = FocalLGBMClassifier(gamma=2.0, alpha=0.25, n_estimators=100, learning_rate=0.05, num_leaves=15,
                              n_jobs=1, random_state=0).fit(X_train, y_train)
    model = to_onnx(clf, X_train)

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "model.onnx").write_bytes(model.SerializeToString())
        np.save(Path(tmp) / "X_test.npy", X_test.astype(np.float32))
        proc = subprocess.run([sys.executable, "-I", "-c", SCORER], cwd=tmp, capture_output=True, text=True,
                              timeout=120)
        if proc.returncode != 0:
            raise SystemExit(f"the onnxruntime process failed:\n{proc.stderr}")
        onnx_proba = np.load(Path(tmp) / "proba.npy")

    proba = clf.predict_proba(X_test)
    print(f"ONNX model: {len(model.SerializeToString()) / 1024:.1f} KiB, outputs "
          f"{[o.name for o in model.graph.output]}, scored by onnxruntime without focal_boost")
    print(f"max |onnxruntime - predict_proba| = {np.abs(onnx_proba - proba).max():.3e}")
    print(f"{'scorer':28s} {'PR-AUC':>7s} {'log loss':>9s}")
    for name, p in (("focal_boost predict_proba", proba), ("onnxruntime (no focal_boost)", onnx_proba)):
        p1 = np.clip(p[:, 1].astype(np.float64), 1e-15, 1 - 1e-15)
        print(f"{name:28s} {average_precision_score(y_test, p1):7.4f} {log_loss(y_test, p1):9.4f}")


if __name__ == "__main__":
    main()
