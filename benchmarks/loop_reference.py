"""The per-case payment rules as a plain Python loop: a cross-check and a speed baseline.

This module is written from POLICY_RULES (``docs/POLICY_RULES.md``), not from ``sim.rules``: the
loop calls no ``sim.rules`` function and uses no numpy inside it, so that a mistake in the
vectorised code shows up as a disagreement (``tests/test_loop_reference.py``) instead of being
copied. What it shares with the vectorised settlement are the *group-level* references of the
settled year, computed once by :func:`sim.settlement.group_reference` (§1.6, §2.2, §2.4):

- base points ``B`` of each group (§2.2: weight × 100),
- the coefficient table group × level (§1.6 level coefficients, §2.4 basic and unstable groups),
- the region mean cost of each group and its mean cost at each level (§2.3 ``avg_same_level``),
- whether each group is stable (§2.2) and paid by whole-group review (§0, §2.5).

Per case, in order (the loop body of :func:`loop_points`):

1. §2.3 threshold multiple ``k`` from the group's base points (the band table of the policy; a
   group-level value, looked up once per group).
2. §2.3 / §2.2 case class: whole-group review first (the catalogue lists the group, or the case's
   whole-group review was approved), then unstable groups (no outlier classes), then high
   multiple (cost > k × avg_same_level), low multiple (cost < 0.3 × avg_same_level), else normal.
3. §2.4 coefficient: the group-level coefficient; 1 for unstable groups and whole-group review.
4. §2.5 points: normal ``B × c``; low ``min(B × cost ÷ avg_region, B)``; high ``B × c + extra``
   with ``extra = m × B × c``, ``m = (cost − unreasonable) ÷ avg_same_level − k`` (never below 0),
   granted only when the case's special-case review was approved; unstable ``B × 1``;
   whole-group review ``(cost − unreasonable) ÷ mean cost of all DRG cases × 100``.
5. §2.6 pre-review points (the monthly point value's denominator): high-multiple cases count as
   normal (without the extra), whole-group-review cases at 70 % (the policy's share).
6. §2.5 / §2.7 per-hospital sums: annual points per hospital, pre-review points per hospital and
   month.

Cases a model run marks as paid by item (``CaseTable.paid_by_item``: hospitals or groups not
yet under DRG, §7 rollout) get no class of §2.3 and no points; they are left out of the mean cost
of all DRG cases and of the group references (pass ``drg_case_mask(cases)`` to
``group_reference``).

Reading of §2.5 made here (and reported where it differs from the vectorised code): the extra
points of a high-multiple case are "granted by special-case review", so they are paid when the
case's ``review`` is ``special`` *and* ``review_approved`` is true. The loop handles the point
family and the rate method; the exclusions of the all-inclusive price (§5) are out of scope.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sim.inputs.cases import REVIEW_SPECIAL, REVIEW_WHOLE_GROUP, CaseTable
from sim.inputs.policy import Policy
from sim.settlement import GroupReference

MONTHS = 12
# Case classes of §2.3 (plus unstable and whole-group review), named as in the case table output.
NORMAL, HIGH, LOW, UNSTABLE, WHOLE_GROUP = "normal", "high", "low", "unstable", "whole_group"
EXCLUDED = "excluded"  # paid by item, outside DRG payment (§7)


@dataclass
class LoopInputs:
    """Year- and group-level values the per-case loop reads (plain Python lists and floats)."""

    base: list[float]                 # §2.2 base points per group
    coefficient: list[list[float]]    # §1.6 / §2.4 per group, per level
    region_mean: list[float]          # §2.5 avg_region(g)
    level_mean: list[list[float]]     # §2.3 avg_same_level(g, L)
    stable: list[bool]                # §2.2
    whole_group: list[bool]           # catalogue: group paid by whole-group review
    threshold: list[float]            # §2.3 k per group
    low_multiple: float               # §2.3 (0.3)
    whole_group_monthly_share: float  # §2.6 (70 %)
    mean_cost_all: float              # §2.5 mean cost of all DRG cases of the year
    n_hospitals: int


@dataclass
class LoopResult:
    """Per-case classes and points of the cases looped over, and per-hospital sums."""

    case_class: list[str]
    coefficient: list[float]
    points: list[float]
    extra: list[float]
    pre_review: list[float]
    hospital_points: list[float]               # per hospital
    hospital_month_pre_review: list[list[float]]  # per hospital, 12 months


def threshold_multiple(base_points: float, bands: list[dict]) -> float:
    """§2.3: k of the first band whose upper limit is ≥ the base points (the last is open)."""
    for band in bands:
        limit = band["up_to_base_points"]
        if limit is None or base_points <= limit:
            return float(band["multiple"])
    return float(bands[-1]["multiple"])


def paid_by_item(cases: CaseTable) -> list[bool]:
    """Per case: paid by item outside DRG (§7 rollout), as a list of bools (all False if unset)."""
    flags = getattr(cases, "paid_by_item", None)
    return [False] * len(cases) if flags is None else [bool(f) for f in flags.tolist()]


def drg_case_mask(cases: CaseTable):
    """The cases settled by DRG (for ``sim.settlement.group_reference``)."""
    import numpy as np

    return ~np.asarray(paid_by_item(cases), dtype=bool)


def loop_inputs(cases: CaseTable, reference: GroupReference, policy: Policy,
                on: dt.date | None = None) -> LoopInputs:
    """Group- and year-level inputs of the loop, from ``sim.settlement.group_reference``."""
    if policy.method == "all_inclusive":
        raise NotImplementedError("the loop reference does not cover the all-inclusive price §5")
    on = on or dt.date(cases.year, 1, 1)
    bands = policy.value("outliers.high_multiple_bands", on)
    base = [float(b) for b in reference.base_points.tolist()]
    drg_costs = [cost for cost, by_item in zip(cases.cost.tolist(), paid_by_item(cases),
                                               strict=True) if not by_item]
    return LoopInputs(
        base=base,
        coefficient=reference.coefficient.tolist(),
        region_mean=reference.region_mean_cost.tolist(),
        level_mean=reference.level_mean_cost.tolist(),
        stable=[bool(s) for s in reference.stable.tolist()],
        whole_group=[bool(w) for w in reference.whole_group.tolist()],
        threshold=[threshold_multiple(b, bands) for b in base],
        low_multiple=float(policy.value("outliers.low_multiple", on)),
        whole_group_monthly_share=float(policy.value("settlement.whole_group_monthly_share",
                                                     on)),
        mean_cost_all=math.fsum(drg_costs) / len(drg_costs) if drg_costs else math.nan,
        n_hospitals=cases.n_hospitals,
    )


def _divide(numerator: float, denominator: float) -> float:
    """IEEE division (x/0 = ±inf, 0/0 = nan) instead of ZeroDivisionError."""
    if denominator:
        return numerator / denominator
    return math.nan if numerator == 0 else math.copysign(math.inf, numerator)


def loop_points(cases: CaseTable, inputs: LoopInputs, start: int = 0,
                stop: int | None = None) -> LoopResult:
    """Classes and points of cases ``start:stop`` and their per-hospital sums, case by case."""
    stop = len(cases) if stop is None else stop
    # The case columns as Python lists (what a per-case program would hold).
    group = cases.group[start:stop].tolist()
    level = cases.level[start:stop].tolist()
    hospital = cases.hospital[start:stop].tolist()
    month = cases.month[start:stop].tolist()
    cost = cases.cost[start:stop].tolist()
    unreasonable = cases.unreasonable_cost[start:stop].tolist()
    review = cases.review[start:stop].tolist()
    approved = cases.review_approved[start:stop].tolist()
    by_item = paid_by_item(cases)[start:stop]

    base_of, coefficient_of = inputs.base, inputs.coefficient
    region_mean_of, level_mean_of = inputs.region_mean, inputs.level_mean
    stable_of, whole_group_of, k_of = inputs.stable, inputs.whole_group, inputs.threshold
    low_multiple, share = inputs.low_multiple, inputs.whole_group_monthly_share
    mean_all = inputs.mean_cost_all

    classes, coefficients, points, extras, pre_reviews = [], [], [], [], []
    hospital_points = [0.0] * inputs.n_hospitals
    hospital_month = [[0.0] * MONTHS for _ in range(inputs.n_hospitals)]
    for g, lv, h, mo, c_cost, c_unreasonable, c_review, c_approved, c_by_item in zip(
            group, level, hospital, month, cost, unreasonable, review, approved, by_item,
            strict=True):
        b = base_of[g]
        same_level_mean = level_mean_of[g][lv]
        k = k_of[g]
        extra = 0.0
        # §2.3 case class (whole-group review and unstable groups have no outlier classes)
        if c_by_item:                                                           # §7: by item
            case_class, c, p = EXCLUDED, coefficient_of[g][lv], 0.0
        elif whole_group_of[g] or (c_review == REVIEW_WHOLE_GROUP and c_approved):
            case_class, c = WHOLE_GROUP, 1.0                                    # §2.4
            p = _divide(c_cost - c_unreasonable, mean_all) * 100.0              # §2.5
        elif not stable_of[g]:
            case_class, c = UNSTABLE, 1.0                                       # §2.4
            p = b                                                               # §2.5: B × 1
        else:
            c = coefficient_of[g][lv]                                           # §1.6, §2.4
            if c_cost > k * same_level_mean:
                case_class = HIGH
                if c_review == REVIEW_SPECIAL and c_approved:                   # §2.5 review
                    m = _divide(c_cost - c_unreasonable, same_level_mean) - k
                    if m > 0:
                        extra = m * b * c
                p = b * c + extra
            elif c_cost < low_multiple * same_level_mean:
                case_class = LOW
                p = min(b * _divide(c_cost, region_mean_of[g]), b)              # §2.5 cap B
            else:
                case_class = NORMAL
                p = b * c
        # §2.6 pre-review points: high cases without extra, whole-group review at 70 %
        pre = p * share if case_class == WHOLE_GROUP else p - extra             # 0 if by item
        classes.append(case_class)
        coefficients.append(c)
        points.append(p)
        extras.append(extra)
        pre_reviews.append(pre)
        hospital_points[h] += p
        hospital_month[h][mo] += pre
    return LoopResult(classes, coefficients, points, extras, pre_reviews, hospital_points,
                      hospital_month)
