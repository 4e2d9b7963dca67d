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


# ------------------------------------------------------------------------------ capacity spill
def _over_one_scan_per_hospital(choice, episodes, capacity_left, rng, region):
    """The capacity check as it was before issue 13's grouping: a scan of the month per crowded
    hospital (the reference)."""
    stay = region.config["behaviour"]["stay_days_per_sqrt_weight"] * np.sqrt(episodes.need)
    order_draw = rng.random(len(choice))
    load = np.bincount(choice, weights=stay, minlength=len(capacity_left))
    over = np.zeros(len(choice), dtype=bool)
    for hospital in np.flatnonzero(load > capacity_left):
        rows = np.flatnonzero(choice == hospital)
        rows = rows[np.argsort(order_draw[rows])]
        over[rows[np.cumsum(stay[rows]) > capacity_left[hospital]]] = True
    return over, stay


def _reassign_one_scan_per_county(region, episodes, choice, over, stay, capacity_left,
                                  referred_from, referred_down):
    """The spill as it was before issue 13: a scan of the month per county for its rows (the
    reference of the grouping; each county's spill itself is the shared ``_spill_in_county``)."""
    from agents.patients import _spill_in_county

    choice = choice.copy()
    used = np.bincount(choice[~over], weights=stay[~over], minlength=len(capacity_left))
    room = capacity_left > used
    for county, candidates in enumerate(region.candidates):
        rows = np.flatnonzero(over & (episodes.county == county))
        if len(rows):
            _spill_in_county(region, episodes, county, candidates, rows, choice, room,
                             referred_from, referred_down)
    return choice


def _month(seed):
    from types import SimpleNamespace

    from agents.patients import Episodes

    rng = np.random.default_rng(seed)
    n, n_h, counties = int(rng.integers(0, 400)), 12, 4
    hospital_county = rng.integers(0, counties, n_h)
    region = SimpleNamespace(
        config={"behaviour": {"stay_days_per_sqrt_weight": 4.0}},
        hospital_level=rng.integers(0, 3, n_h), hospital_county=hospital_county,
        candidates=[np.flatnonzero((hospital_county == c) | (rng.random(n_h) < 0.4))
                    for c in range(counties)],
        distance_km=rng.uniform(0, 80, (counties, counties)),
        min_level=rng.integers(0, 3, 30))
    episodes = Episodes(scheme=rng.integers(0, 2, n), age=np.zeros(n, int),
                        county=rng.integers(0, counties, n), group=rng.integers(0, 30, n),
                        need=rng.lognormal(0, 0.5, n))
    choice = rng.integers(0, n_h, n)
    capacity = rng.uniform(0, 2 * 4.0 * n / n_h, n_h)
    referred_from = np.where(rng.random(n) < 0.2, rng.integers(0, n_h, n), -1)
    referred_down = (referred_from >= 0) & (rng.random(n) < 0.5)
    return region, episodes, choice, capacity, referred_from, referred_down


@pytest.mark.parametrize("seed", range(40))
def test_the_capacity_spill_grouped_by_hospital_and_county_is_the_scan(seed):
    """Over-capacity cases and where they are sent: the same as one scan per crowded hospital
    and per county (the code before issue 13), on random months with tight beds."""
    from agents.patients import _over_capacity, _reassign

    region, episodes, choice, capacity, referred_from, referred_down = _month(seed)
    over, stay = _over_capacity(choice, episodes, capacity, np.random.default_rng(seed), region)
    reference, _ = _over_one_scan_per_hospital(choice, episodes, capacity,
                                               np.random.default_rng(seed), region)
    assert np.array_equal(over, reference)
    moved = _reassign(region, episodes, choice, over, stay, capacity, referred_from,
                      referred_down)
    expected = _reassign_one_scan_per_county(region, episodes, choice, over, stay, capacity,
                                             referred_from, referred_down)
    assert np.array_equal(moved, expected)
    # every one of these months has cases over capacity and cases moved (checked: 40 of 40,
    # 38 with a case referred down among them), so both paths are compared, not skipped
    assert over.any() and (moved != choice).any()


def test_a_hospital_over_its_beds_without_a_case_moves_nobody():
    """Capacity below zero at a hospital nobody chose (and an empty month): no case is over."""
    from agents.patients import Episodes, _over_capacity

    region = _month(0)[0]
    for n in (2, 0):
        episodes = Episodes(scheme=np.zeros(n, int), age=np.zeros(n, int),
                            county=np.zeros(n, int), group=np.zeros(n, int), need=np.ones(n))
        capacity = np.full(12, 100.0)
        capacity[1] = -1.0
        over, _ = _over_capacity(np.zeros(n, dtype=np.int64), episodes, capacity,
                                 np.random.default_rng(1), region)
        assert len(over) == n and not over.any()
