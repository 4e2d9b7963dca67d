"""Points of a case by class (rule §2.5) and the pre-review points used monthly (rule §2.6)."""

from __future__ import annotations

import numpy as np

from sim.rules.classes import HIGH, LOW, UNSTABLE, WHOLE_GROUP


def base_points(weight):
    """Base points = weight × 100, to 8 decimals (§2.2)."""
    return np.round(np.asarray(weight, dtype=float) * 100.0, 8)


def complication_base_points(base, family, severity_rank, multiplier):
    """Base points with the price of complications changed by policy (§1.4: the policy overrides
    weights): every group above the lowest severity rank of its ADRG family (its "with
    complications" siblings, §0) has its base points × ``multiplier``; the family's lowest rank
    and unsplit families keep theirs. 1.1 is the Norwegian reform of BEHAVIOUR §8, a 10% higher
    with/without-complication price ratio. Kept to 8 decimals (§2.2)."""
    base = np.asarray(base, dtype=float)
    if multiplier == 1:
        return base
    family = np.asarray(family)
    rank = np.asarray(severity_rank, dtype=float)
    lowest = np.full(int(family.max()) + 1 if len(family) else 0, np.inf)
    np.minimum.at(lowest, family, rank)
    return np.round(np.where(rank > lowest[family], base * multiplier, base), 8)


def normal_points(base, coefficient):
    """Points of a normal case: B × c (§2.5)."""
    return base * coefficient


def low_multiple_points(base, cost, region_mean_cost):
    """Points of a low-multiple case: proportional to cost, capped at base points (§2.5)."""
    return np.minimum(base * cost / region_mean_cost, base)


def high_multiple_extra_points(base, coefficient, cost, unreasonable_cost, level_mean_cost,
                               threshold_multiple, approved):
    """Extra points of a high-multiple case (§2.5): m × B × c with
    m = (cost − unreasonable cost) ÷ mean cost at the level − k, only where the special-case
    review approved it; never negative."""
    multiple = (cost - unreasonable_cost) / level_mean_cost - threshold_multiple
    return np.where(approved, np.maximum(multiple, 0.0) * base * coefficient, 0.0)


def whole_group_points(cost, unreasonable_cost, region_mean_cost_all_cases):
    """§2.5 whole-group review: reviewed cost ÷ mean cost of all DRG cases × 100."""
    return (cost - unreasonable_cost) / region_mean_cost_all_cases * 100.0


def case_points(case_class, base, coefficient, cost, unreasonable_cost, region_mean_cost,
                level_mean_cost, threshold_multiple, approved, mean_cost_all_cases):
    """Final (post-review) points of every case and the extra points within them (§2.5).

    Unstable groups are paid B × 1 (§2.4 coefficient 1, no outlier classes); excluded cases
    have no points. Returns ``(points, extra_points)``, float64 in the shape of ``case_class``
    (the other arguments broadcast to it). Each class's formula is applied to that class's
    cases only (issue 13: a few per cent of a year are outliers or reviews).
    """
    case_class = np.asarray(case_class)
    shape = case_class.shape
    flat = case_class.reshape(-1)
    base, coefficient, cost, unreasonable_cost, region_mean_cost, level_mean_cost, \
        threshold_multiple, approved = (
            np.broadcast_to(np.asarray(value), shape).reshape(-1)
            for value in (base, coefficient, cost, unreasonable_cost, region_mean_cost,
                          level_mean_cost, threshold_multiple, approved))
    extra = np.zeros(len(flat))
    with np.errstate(invalid="ignore", divide="ignore"):
        points = np.asarray(normal_points(base, coefficient), dtype=float)  # a new array
        high = np.flatnonzero(flat == HIGH)
        extra[high] = high_multiple_extra_points(
            base[high], coefficient[high], cost[high], unreasonable_cost[high],
            level_mean_cost[high], threshold_multiple[high], approved[high])
        high_points = points[high] + extra[high]
        points += 0.0  # normal + extra as before, with extra 0: −0.0 becomes 0.0
        points[high] = high_points
        low = np.flatnonzero(flat == LOW)
        points[low] = low_multiple_points(base[low], cost[low], region_mean_cost[low])
        unstable = np.flatnonzero(flat == UNSTABLE)
        points[unstable] = base[unstable]
        whole = np.flatnonzero(flat == WHOLE_GROUP)
        points[whole] = whole_group_points(cost[whole], unreasonable_cost[whole],
                                           mean_cost_all_cases)
    points[flat > WHOLE_GROUP] = 0.0  # excluded: no points (np.select's default before)
    return points.reshape(shape), extra.reshape(shape)


def pre_review_points(case_class, points, extra_points, whole_group_monthly_share):
    """Points counted in the month (§2.6): high-multiple cases as normal (no extra yet) and
    whole-group-review cases at a share (70% in the rule) of their points."""
    return np.where(case_class == WHOLE_GROUP, points * whole_group_monthly_share,
                    points - extra_points)
