"""Proportional-odds (ordinal logistic) regression with a ridge penalty, in numpy and scipy.

For grades ``y`` in ``1..K`` (Ofsted's numbering: 1 outstanding ... 4 inadequate) and features
``x`` (standardised with the training set's mean and standard deviation)::

    P(y <= k | x) = logistic(c_k - x . b),    c_1 < c_2 < ... < c_{K-1}

so a positive coefficient moves the grade towards the worse end of the scale (McCullagh 1980,
"Regression models for ordinal data"; the cumulative logit model). The fit maximises the
log-likelihood less ``penalty * |b|^2`` (a Gaussian prior on the standardised coefficients; the
cut points are not penalised), with the cut points kept ordered by writing them as
``c_1, c_1 + exp(d_2), ...``. The optimiser is scipy's L-BFGS-B with the analytic gradient.

Every prediction is explained by its parts: ``contributions`` gives ``b_j * z_j`` per feature,
the amount by which each feature moved the latent score (and so the grade) away from that of an
authority at the training mean.
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit


@dataclass
class OrdinalModel:
    """A fitted model: feature names, standardisation, coefficients and cut points."""

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    cuts: np.ndarray
    grades: list[int]
    penalty: float
    n: int
    converged: bool = True
    counts: dict[int, int] = field(default_factory=dict)

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) - self.mean) / self.scale

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Rows: observations; columns: P(grade) for ``grades`` in order."""
        z = self.standardise(np.atleast_2d(x))
        return _probs(z @ self.coef, self.cuts)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The most probable grade of each row (maximises the expected exact agreement)."""
        return np.asarray(self.grades)[self.probabilities(x).argmax(axis=1)]

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """``coef_j * z_j`` per row and feature: > 0 moves towards a worse grade, < 0 towards a better one."""
        return self.standardise(np.atleast_2d(x)) * self.coef


def _probs(eta: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    cdf = expit(cuts[None, :] - eta[:, None])
    n = len(eta)
    cdf = np.hstack([np.zeros((n, 1)), cdf, np.ones((n, 1))])
    return np.clip(np.diff(cdf, axis=1), 1e-12, 1.0)


def _unpack(theta: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    b = theta[:p]
    cuts = np.concatenate([[theta[p]], theta[p] + np.cumsum(np.exp(theta[p + 1 :]))])
    return b, cuts


#: Fitted models by a digest of their inputs. A letter's proposals, the choice of settings and the
#: method's evaluation fit the same models on the same national rows (one fit per judgement and
#: candidate, whichever authority the letter is for), so a process fits each once.
_FITTED: OrderedDict[str, OrdinalModel] = OrderedDict()
_FITTED_MAX = 512


def _digest(
    x: np.ndarray, y: np.ndarray, features: list[str], grades: list[int], penalty: float
) -> str:
    h = hashlib.blake2b(digest_size=20)
    for part in (x.shape, x.tobytes(), y.dtype.str, y.tobytes(), features, grades, penalty):
        h.update(repr(part).encode() if not isinstance(part, bytes) else part)
        h.update(b"\x00")
    return h.hexdigest()


def fit(
    x: np.ndarray, y: np.ndarray, features: list[str], grades: list[int], penalty: float = 1.0
) -> OrdinalModel:
    """Fit the model to rows ``x`` (unstandardised) and grades ``y`` (values of ``grades``, best first).

    The fit is deterministic (L-BFGS-B from a start computed from the data), so a fit of inputs
    already fitted in this process is answered from memory, as a copy the caller may change."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y)
    if x.ndim != 2 or len(x) != len(y) or x.shape[1] != len(features):
        raise ValueError(f"x must be rows x {len(features)} features and y one grade per row")
    if len(y) == 0:
        raise ValueError("no training rows")
    key = _digest(x, y, list(features), list(grades), float(penalty))
    if key in _FITTED:
        _FITTED.move_to_end(key)
        return copy.deepcopy(_FITTED[key])
    model = _fit(x, y, features, grades, penalty)
    _FITTED[key] = copy.deepcopy(model)
    if len(_FITTED) > _FITTED_MAX:
        _FITTED.popitem(last=False)
    return model


def _fit(
    x: np.ndarray, y: np.ndarray, features: list[str], grades: list[int], penalty: float
) -> OrdinalModel:
    mean = x.mean(axis=0)
    scale = x.std(axis=0, ddof=1) if len(x) > 1 else np.ones(x.shape[1])
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    z = (x - mean) / scale
    k = len(grades)
    idx = np.searchsorted(np.asarray(grades), y)  # 0-based category of each row
    n, p = z.shape
    rows = np.arange(n)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b, cuts = _unpack(theta, p)
        eta = z @ b
        # F at the upper and lower cut of each row's category (0 below the first, 1 above the last)
        full = np.concatenate([[-np.inf], cuts, [np.inf]])
        fu = expit(full[idx + 1] - eta)
        fl = expit(full[idx] - eta)
        pr = np.clip(fu - fl, 1e-12, None)
        nll = -np.log(pr).sum() + penalty * float(b @ b)
        # derivatives of log pr with respect to eta and each cut point
        du = fu * (1 - fu)
        dl = fl * (1 - fl)
        d_eta = (du - dl) / pr  # d(-log pr)/d eta
        g_b = z.T @ d_eta + 2 * penalty * b
        g_cut = np.zeros(k - 1)
        upper = idx < k - 1
        lower = idx > 0
        np.add.at(g_cut, idx[upper], -du[upper] / pr[upper])
        np.add.at(g_cut, idx[lower] - 1, dl[lower] / pr[lower])
        # chain rule through c_1 = t_p, c_j = c_{j-1} + exp(t_{p+j-1})
        g_t = np.zeros(k - 1)
        g_t[0] = g_cut.sum()
        for j in range(1, k - 1):
            g_t[j] = g_cut[j:].sum() * np.exp(theta[p + j])
        return nll, np.concatenate([g_b, g_t])

    # start from the cumulative shares of the training grades
    shares = np.clip(np.cumsum(np.bincount(idx, minlength=k))[:-1] / n, 0.02, 0.98)
    c0 = np.log(shares / (1 - shares))
    gaps = np.diff(c0)
    theta0 = np.concatenate([np.zeros(p), [c0[0]], np.log(np.clip(gaps, 0.05, None))])
    res = minimize(objective, theta0, jac=True, method="L-BFGS-B")
    b, cuts = _unpack(res.x, p)
    del rows
    return OrdinalModel(
        features=list(features),
        mean=mean,
        scale=scale,
        coef=b,
        cuts=cuts,
        grades=list(grades),
        penalty=penalty,
        n=n,
        converged=bool(res.success),
        counts={g: int((y == g).sum()) for g in grades},
    )


__all__ = ["OrdinalModel", "fit"]
