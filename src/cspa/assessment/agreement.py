"""Agreement of proposed grades with Ofsted's on the four-point ILACS scale: exact, within one grade,
linearly weighted kappa (Cohen 1968) and the multi-category Brier score (Brier 1950).

Used by the evaluation (:mod:`cspa.assessment.evaluate`) and by the method's choice of its own settings
from its training inspections (:func:`cspa.assessment.forecast.select_settings`).
"""

from __future__ import annotations

import numpy as np

GRADES = [1, 2, 3, 4]


def agreement(pred: np.ndarray, actual: np.ndarray) -> dict:
    """Exact, within one, and linearly weighted kappa of two grade vectors on the 1-4 scale."""
    pred = np.asarray(pred, dtype=int)
    actual = np.asarray(actual, dtype=int)
    n = len(actual)
    if n == 0:
        return {"n": 0, "exact": None, "within_one": None, "weighted_kappa": None}
    m = np.zeros((4, 4))
    np.add.at(m, (pred - 1, actual - 1), 1)
    w = 1 - np.abs(np.subtract.outer(np.arange(4), np.arange(4))) / 3
    po = float((w * m).sum() / n)
    pe = float((w * np.outer(m.sum(axis=1), m.sum(axis=0))).sum() / n / n)
    return {
        "n": n,
        "exact": float(np.mean(pred == actual)),
        "within_one": float(np.mean(np.abs(pred - actual) <= 1)),
        "weighted_kappa": (po - pe) / (1 - pe) if pe < 1 else None,
    }


def brier(probs: np.ndarray, actual: np.ndarray) -> float:
    """Multi-category Brier score: mean over rows of the summed squared error of the four probabilities."""
    onehot = np.eye(len(GRADES))[np.asarray(actual, dtype=int) - 1]
    return float(((np.asarray(probs) - onehot) ** 2).sum(axis=1).mean())


def confusion_matrix(pred: np.ndarray, actual: np.ndarray) -> list[list[int]]:
    m = np.zeros((4, 4), dtype=int)
    np.add.at(m, (np.asarray(pred, dtype=int) - 1, np.asarray(actual, dtype=int) - 1), 1)
    return m.tolist()


__all__ = ["agreement", "brier", "confusion_matrix"]
