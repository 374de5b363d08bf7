"""The ordinal logistic regression: recovers known coefficients, orders its cut points, explains by parts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from cspa.assessment.ordinal import _probs, _unpack, fit


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3000, 3)) * [1.0, 2.0, 1.0] + [0.0, 5.0, 0.0]
    latent = x @ np.array([1.0, -0.5, 0.0]) + rng.logistic(size=len(x))
    y = np.digitize(latent, [-4.0, -2.5, -1.0]) + 1  # grades 1..4
    return x, y


def test_recovers_the_generating_coefficients(data):
    x, y = data
    m = fit(x, y, ["a", "b", "c"], [1, 2, 3, 4], penalty=0.0)
    # coefficients per unit of the raw feature (the fit works on standardised features)
    per_unit = m.coef / m.scale
    assert per_unit == pytest.approx([1.0, -0.5, 0.0], abs=0.08)
    assert m.converged and list(np.diff(m.cuts) > 0) == [True, True]


def test_analytic_gradient_gives_the_same_fit_as_a_derivative_free_one(data):
    x, y = data[0][:400], data[1][:400]
    m = fit(x, y, ["a", "b", "c"], [1, 2, 3, 4], penalty=0.5)
    z = (x - m.mean) / m.scale

    def objective(theta):
        b, cuts = _unpack(theta, 3)
        return -np.log(_probs(z @ b, cuts)[np.arange(len(y)), y - 1]).sum() + 0.5 * b @ b

    ref = minimize(
        objective,
        np.array([0, 0, 0, -1.0, 0, 0]),
        method="Nelder-Mead",
        options={"maxiter": 20000, "xatol": 1e-8, "fatol": 1e-10},
    )
    b, cuts = _unpack(ref.x, 3)
    assert m.coef == pytest.approx(b, abs=2e-3)
    assert m.cuts == pytest.approx(cuts, abs=2e-3)


def test_penalty_shrinks_and_probabilities_sum_to_one(data):
    x, y = data
    loose = fit(x, y, ["a", "b", "c"], [1, 2, 3, 4], penalty=0.0)
    tight = fit(x, y, ["a", "b", "c"], [1, 2, 3, 4], penalty=5000.0)
    assert np.abs(tight.coef).sum() < 0.5 * np.abs(loose.coef).sum()
    p = loose.probabilities(x[:10])
    assert p.shape == (10, 4) and p.sum(axis=1) == pytest.approx(np.ones(10))
    assert list(loose.predict(x[:10])) == list(p.argmax(axis=1) + 1)


def test_contributions_add_up_to_the_latent_score(data):
    x, y = data
    m = fit(x, y, ["a", "b", "c"], [1, 2, 3, 4], penalty=1.0)
    c = m.contributions(x[:5])
    assert c.sum(axis=1) == pytest.approx(m.standardise(x[:5]) @ m.coef)
    # a positive contribution pushes towards the worse end: with a > 0 worse, a high 'a' pushes up
    high_a = np.array([[3.0, 5.0, 0.0]])
    assert m.contributions(high_a)[0, 0] > 0


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="features"):
        fit(np.zeros((3, 2)), np.array([1, 2, 3]), ["a"], [1, 2, 3, 4])


def test_a_repeated_fit_is_the_same_model_and_a_copy():
    """The second fit of the same inputs comes from memory: equal coefficients, not the same object."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(60, 2))
    y = np.clip(np.round(2.5 + x[:, 0]), 1, 4).astype(int)
    a = fit(x, y, ["a", "b"], [1, 2, 3, 4], penalty=0.5)
    b = fit(x.copy(), y.copy(), ["a", "b"], [1, 2, 3, 4], penalty=0.5)
    assert a is not b and np.array_equal(a.coef, b.coef) and np.array_equal(a.cuts, b.cuts)
    b.coef[:] = 0  # a caller changing its model changes no later fit's
    c = fit(x, y, ["a", "b"], [1, 2, 3, 4], penalty=0.5)
    assert np.array_equal(c.coef, a.coef)
    # another penalty is another model
    assert not np.array_equal(fit(x, y, ["a", "b"], [1, 2, 3, 4], penalty=5.0).coef, a.coef)
