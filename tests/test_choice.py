"""The hospital choice model's fast path against its reference (issue 13).

Specification: ``candidate_utility`` (candidates × episodes, float32, out-of-pocket opened up) is
``systematic_utility`` with the out-of-pocket cost of ``out_of_pocket`` (the reference, float64,
the form region build solves against) to float32 precision; ``logit_draw`` draws each candidate
with its logit probability among the allowed ones and never one that is not allowed; the
choices of a month follow the logit shares of the choice set.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents.patients import (
    candidate_utility,
    logit_draw,
    logit_weights,
    out_of_pocket,
    systematic_utility,
)

CHOICE = {"level": [0.0, 0.6, 1.2], "severity_level": 0.5, "distance_per_km": 0.03,
          "out_of_pocket_per_1000": 0.25}


def test_candidate_utility_is_the_reference_utility():
    rng = np.random.default_rng(3)
    level = np.array([0, 0, 1, 2, 1, 2, 0])
    distance = rng.uniform(0, 120, len(level))
    factor = rng.uniform(3_000, 12_000, len(level))
    need = rng.lognormal(0, 1.2, 500)  # from far below to far above the deductible
    severity = rng.integers(0, 3, 500).astype(float)
    deductible = np.array([[300.0, 600.0, 900.0], [500.0, 800.0, 1_300.0]])
    ratio = np.array([[0.9, 0.85, 0.8], [0.75, 0.65, 0.55]])
    attraction = rng.normal(0, 0.5, len(level))
    for scheme in (0, 1):
        pay = out_of_pocket(need[:, None] * factor[None, :], np.full((500, 1), scheme),
                            level[None, :], deductible, ratio, 0.05)
        reference = (systematic_utility(CHOICE, level, severity, distance, pay)
                     + attraction[None, :])
        fast = candidate_utility(CHOICE, level, distance, attraction, factor,
                                 deductible[scheme, level], ratio[scheme, level], 0.05,
                                 need.astype(np.float32), severity.astype(np.float32))
        assert fast.dtype == np.float32 and fast.shape == (len(level), 500)
        np.testing.assert_allclose(fast.T, reference, rtol=1e-5, atol=2e-4)


def test_logit_draw_follows_logit_probabilities_among_the_allowed():
    utility = np.array([0.0, 1.0, -0.5, 2.0], dtype=np.float32)
    n = 200_000
    weight = logit_weights(np.repeat(utility[:, None], n, axis=1))
    draw = np.random.default_rng(5).random(n, dtype=np.float32)
    picked = logit_draw(weight, None, draw)
    expected = np.exp(utility) / np.exp(utility).sum()
    np.testing.assert_allclose(np.bincount(picked, minlength=4) / n, expected, atol=0.004)
    allowed = np.zeros((4, n), dtype=bool)
    allowed[[0, 2]] = True
    picked = logit_draw(weight, allowed, draw)
    assert set(np.unique(picked)) == {0, 2}
    share = np.exp(utility[0]) / (np.exp(utility[0]) + np.exp(utility[2]))
    assert np.mean(picked == 0) == pytest.approx(share, abs=0.004)


def test_logit_draw_edges():
    # the extreme uniforms, a candidate far below the best, nothing allowed
    utility = np.array([[0.0, 0.0], [-500.0, 5.0], [3.0, -500.0]], dtype=np.float32)
    weight = logit_weights(utility.copy())
    assert (weight > 0).all()
    draw = np.array([0.0, np.nextafter(np.float32(1), np.float32(0))], dtype=np.float32)
    allowed = np.array([[False, False], [True, False], [False, False]])
    assert logit_draw(weight, allowed, draw).tolist() == [1, 0]  # only 1; none: 0
    assert logit_draw(weight, None, draw).tolist() == [2, 0]
