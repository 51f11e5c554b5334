"""Models that ship with Tessera, and the data to evaluate them.

- ``digits_cnn.onnx``: a small CNN for scikit-learn's 8x8 handwritten digits (conv, ReLU,
  max-pool, conv, ReLU, max-pool, dense), trained by ``scripts/train_digits.py``; the model
  ``tessera demo`` compiles for the accelerator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def digits_model_path() -> Path:
    """Path of the shipped digits CNN (input ``x`` [1,1,8,8] float32, output ``logits`` [1,10])."""
    return HERE / "digits_cnn.onnx"


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, x_test, y_train, y_test): the split the model was trained on.

    Images are float32 [N,1,8,8] scaled to [0, 1]; labels int64. scikit-learn bundles the data,
    so nothing is downloaded.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    return xtr, xte, ytr, yte
