"""Weights, rates and coefficients from historical cost data (rule §1), as pure functions.

The order of §1, each step a named function below:
1. records that did not group (no group, an ambiguous "QY" group, a code outside the catalogue)
   are left out, and the grouping rate is reported (§1: ≥ 95% before weights are trusted);
2. each group's cost outliers are trimmed (§1.3: mean ± k SD, or a percentile band) —
   :class:`Trim`, :func:`sd_trim_keep`, :func:`percentile_trim_keep`. Callers trim by group ×
   level, as §2.3 judges outliers against the group's mean at the case's level: trimming a
   group's pooled costs would cut the dear levels' high costs and the cheap levels' low ones
   and pull the level coefficients toward 1 (by 4% in the recovery test, percentile trimming);
3. cases and cost are summed by group × level (:func:`group_costs`), the sufficient statistics
   that case-level and aggregated data share;
4. :func:`calibrate` turns them into weights (§1.1: trimmed group mean ÷ trimmed overall mean;
   §1.2: groups with fewer than the minimum of cases keep their previous weight unless designated;
   §1.4: expert overrides last), level coefficients (§1.6, 8 decimals, lower levels clamped to the
   level above) and a rate per level (§1.5: cost ÷ case mix); :func:`reference_means` gives the
   mean costs published with them (the previous ones for groups below the minimum).

``drgsim calibrate weights`` (:mod:`calibration.weights`) and the bureau's yearly revision in a
model run (:func:`agents.bureau.year_catalogue`, §1.7) both call these functions: one
implementation of §1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.rules import coefficients as coefficient_rules

# status of a group's weight after calibration (§1.2, §1.4)
FROM_DATA, DESIGNATED, KEPT_PREVIOUS, OVERRIDE, UNPRICED = range(5)
STATUS_NAMES = ("from_data", "designated_below_minimum", "kept_previous_below_minimum",
                "expert_override", "unpriced_below_minimum")
GROUPING_RATE_FLOOR = 0.95  # §1: at least 95% of records grouped before weights are trusted
AMBIGUOUS_GROUP = re.compile(r"QY", re.IGNORECASE)  # 歧义组: CHS-DRG ambiguous groups (§1.2)


@dataclass(frozen=True)
class Trim:
    """The trimming rule of §1.3: ``none``, ``sd:K`` (keep cases within the group's mean ± K
    sample standard deviations, K ≥ 1: :func:`sd_trim_keep`) or ``pct:LO,HI`` (drop the lowest
    LO% and the highest (100 − HI)% of the group's cases, rounded down to whole cases:
    :func:`percentile_trim_keep`)."""

    method: str = "none"
    values: tuple[float, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Trim:
        """``none``, ``sd:3`` or ``pct:2.5,97.5``; a ValueError says what was expected."""
        expected = "none, sd:K (K ≥ 1) or pct:LO,HI (0 ≤ LO < HI ≤ 100)"
        spelled = str(text).strip().lower().replace(" ", "")
        if spelled == "none":
            return cls()
        method, _, rest = spelled.partition(":")
        try:
            numbers = tuple(float(part) for part in rest.split(",")) if rest else ()
        except ValueError:
            raise ValueError(expected) from None
        if not all(np.isfinite(numbers)):
            raise ValueError(expected)
        if method == "sd" and len(numbers) == 1 and numbers[0] >= 1:  # see sd_trim_keep
            return cls("sd", numbers)
        if method == "pct" and len(numbers) == 2 and 0 <= numbers[0] < numbers[1] <= 100:
            return cls("pct", numbers)
        raise ValueError(expected)

    def __str__(self) -> str:
        if self.method == "none":
            return "none"
        return f"{self.method}:" + ",".join(f"{value:g}" for value in self.values)

    def keep(self, group, cost, n_groups) -> np.ndarray:
        """Which cases survive the rule (all of them under ``none``)."""
        if self.method == "sd":
            return sd_trim_keep(group, cost, n_groups, self.values[0])
        if self.method == "pct":
            return percentile_trim_keep(group, cost, n_groups, *self.values)
        return np.ones(len(cost), dtype=bool)


def ungroupable(codes, known):
    """§1.2: a record is ungroupable when it has no group, an ambiguous (QY) group, or a code
    outside the catalogue (``known`` False). Returns a reason code per record: 0 grouped,
    1 no group, 2 ambiguous group, 3 not in the catalogue."""
    codes = np.asarray(codes, dtype=object)
    empty = np.array([str(code).strip() == "" for code in codes], dtype=bool)
    ambiguous = np.array([bool(AMBIGUOUS_GROUP.search(str(code))) for code in codes], dtype=bool)
    outside = ~np.asarray(known, dtype=bool)
    return np.select([empty, ambiguous, outside], [1, 2, 3], 0).astype(np.int64)


def grouping_rate(grouped_records, all_records):
    """§1: the share of records that grouped (Yunnan 98.8%; at least 95% required)."""
    return np.where(all_records > 0, grouped_records / np.maximum(all_records, 1), np.nan)


def sd_trim_keep(group, cost, n_groups, multiple):
    """§1.3: keep a case when |cost − group mean| ≤ ``multiple`` × the group's sample standard
    deviation. A group of one case, or of equal costs, keeps every case.

    ``multiple`` is at least 1 (:meth:`Trim.parse` refuses less), which keeps small groups
    whole where they must be: a group of two never loses a case (each lies 1/√2 SD from the
    mean), and no group loses every case (if all n lay beyond one SD, their squared deviations
    would sum to more than n SD², but they sum to (n − 1) SD²). A group of n cases can lose a
    case only when (n − 1)/√n > ``multiple``: at 3 SD, groups of up to 10 cases are never
    trimmed."""
    group = np.asarray(group, dtype=np.int64)
    cost = np.asarray(cost, dtype=float)
    count = np.bincount(group, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(group, weights=cost, minlength=n_groups) / count
        deviation = cost - mean[group]
        variance = np.bincount(group, weights=deviation**2, minlength=n_groups) / (count - 1)
    spread = multiple * np.sqrt(variance)[group]
    return ~(np.abs(deviation) > spread)  # NaN spread (one case) keeps the case


def percentile_trim_keep(group, cost, n_groups, low, high):
    """§1.3 "outside the 2.5–97.5 percentile": in a group of n cases, drop the
    floor(n × ``low`` / 100) lowest costs and the floor(n × (100 − ``high``) / 100) highest,
    keep the rest. Of equal costs, the earlier rows count as the lower ones (a stable order), so
    exactly that many cases go whatever the ties.

    Whole cases, rounded down, so that trimming p% of a group drops p% of it and a small group
    loses nothing: at 2.5–97.5, a group needs 40 cases before it loses one at each end. (Cutting
    at interpolated percentile values instead drops the minimum and the maximum of every group of
    two or more distinct costs — both cases of a group of two — whatever the band.) The
    products are rounded to 6 decimals before rounding down, so that 29 % of 100 cases is 29
    cases although 0.29 × 100 is 28.999… in binary."""
    group = np.asarray(group, dtype=np.int64)
    cost = np.asarray(cost, dtype=float)
    if len(cost) == 0:
        return np.ones(0, dtype=bool)
    count = np.bincount(group, minlength=n_groups)
    order = np.lexsort((np.arange(len(cost)), cost, group))  # by group, cost, then row
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    rank = np.empty(len(cost), dtype=np.int64)
    rank[order] = np.arange(len(cost)) - start[group[order]]
    drop_low = np.floor(np.round(count * (low / 100.0), 6)).astype(np.int64)
    drop_high = np.floor(np.round(count * ((100.0 - high) / 100.0), 6)).astype(np.int64)
    return (rank >= drop_low[group]) & (rank < (count - drop_high)[group])


class GroupCosts(NamedTuple):
    """Cases and total cost by group × level: all grouped cases, and those kept by trimming."""

    count: np.ndarray
    cost: np.ndarray
    kept_count: np.ndarray
    kept_cost: np.ndarray


def group_costs(group, level, cost, keep, n_groups, n_levels):
    """Sums by group × level (rows groups, columns levels) of all grouped cases and of the cases
    ``keep`` retains after trimming (§1.3). Aggregated data (one row per group and level with a
    case count and a mean cost) gives the same sums directly."""
    group = np.asarray(group, dtype=np.int64)
    cell = group * n_levels + np.asarray(level, dtype=np.int64)
    cost = np.asarray(cost, dtype=float)
    keep = np.asarray(keep, dtype=bool)
    size = n_groups * n_levels

    def sums(weights):
        return np.bincount(cell, weights=weights, minlength=size).reshape(n_groups, n_levels)

    return GroupCosts(sums(np.ones(len(cost))), sums(cost), sums(keep.astype(float)),
                      sums(np.where(keep, cost, 0.0)))


def weights_from_means(group_mean_cost, overall_mean_cost, decimals):
    """§1.1: weight of group g = mean cost of g ÷ mean cost of all cases, rounded to
    ``decimals`` (8: base points = weight × 100 keep 6 decimals, §2.2)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.round(np.asarray(group_mean_cost, dtype=float) / overall_mean_cost, decimals)


def priced_from_data(case_count, min_cases, designated):
    """§1.2: a group is priced from the data with at least ``min_cases`` cases (30 in the rule),
    or when designated (transplants and other special groups) and it has any case."""
    case_count = np.asarray(case_count)
    return (case_count >= min_cases) | (np.asarray(designated, dtype=bool) & (case_count > 0))


def final_weights(data_weight, from_data, designated, previous_weight, override_weight):
    """§1.2, §1.4: the weight as published and its status. Groups priced from the data take the
    data weight (status 0, or 1 when only the designation let them in); the others keep the
    previous weight (2) or stay unpriced without one (4); an expert override (not NaN) wins (3)."""
    from_data = np.asarray(from_data, dtype=bool)
    designated = np.asarray(designated, dtype=bool)
    previous_weight = np.asarray(previous_weight, dtype=float)
    override_weight = np.asarray(override_weight, dtype=float)
    weight = np.where(from_data, data_weight, previous_weight)
    status = np.select(
        [~np.isnan(override_weight), from_data & designated, from_data, ~np.isnan(previous_weight)],
        [OVERRIDE, DESIGNATED, FROM_DATA, KEPT_PREVIOUS], UNPRICED)
    weight = np.where(np.isnan(override_weight), weight, override_weight)
    return weight, status.astype(np.int64)


def reference_means(data_mean, previous_mean, from_data):
    """Reference mean costs to publish with the weights (``mean_cost``, ``mean_cost_<level>``,
    the ``avg_region`` and ``avg_same_level`` of §2.3, §2.5): the data's means for groups priced
    from the data, the previous catalogue's (NaN where it had none) for the others.

    §1.2 leaves "groups with fewer than **30** cases" out of the calibration "except transplant
    and other designated special groups", and §2.3 needs references only for "Case classes in
    stable groups": "``avg_same_level(g, L)`` = mean cost of group g at hospitals of the case's
    level". A group below the minimum keeps its previous weight, and is unstable; the mean of its
    few cases is not published as a reference either: a settlement reads a catalogue mean in
    place of the settled cases' own (DIP scores come from ``mean_cost``, §8; §2.3 classes, should
    the group be marked stable), and the rule did not trust these cases for the weight. A NaN
    reference lets the settlement take the mean of the cases it settles, as for any catalogue
    without reference costs. ``data_mean`` and ``previous_mean`` are per group, or groups ×
    levels."""
    data_mean = np.asarray(data_mean, dtype=float)
    from_data = np.asarray(from_data, dtype=bool).reshape((-1,) + (1,) * (data_mean.ndim - 1))
    return np.where(from_data, data_mean, np.asarray(previous_mean, dtype=float))


def rates_by_level(level, cost, case_mix, n_levels):
    """§1.5: rate of level L = total cost of level-L cases ÷ their case mix (CM = Σ weights).

    Rows may be cases (``case_mix`` = the case's weight) or group × level cells (``cost`` the
    cell's total, ``case_mix`` its count × weight); rows without a weight (NaN) are left out
    of both sums. NaN for a level without case mix."""
    cost = np.asarray(cost, dtype=float)
    case_mix = np.asarray(case_mix, dtype=float)
    level = np.asarray(level, dtype=np.int64)
    priced = np.isfinite(case_mix)
    total = np.bincount(level[priced], weights=cost[priced], minlength=n_levels)
    mix = np.bincount(level[priced], weights=case_mix[priced], minlength=n_levels)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mix > 0, total / mix, np.nan)


class Calibration(NamedTuple):
    """What §1 makes of a year of cost data (arrays over catalogue groups; levels as columns)."""

    weight: np.ndarray       # as published (§1.1, §1.2, §1.4)
    status: np.ndarray       # FROM_DATA … UNPRICED (see STATUS_NAMES)
    coefficient: np.ndarray  # groups × levels (§1.6), NaN where unknown
    clamped: np.ndarray      # groups whose data coefficients were clamped (§1.6)
    rate: np.ndarray         # per level (§1.5)
    overall_mean_cost: float  # trimmed mean cost of all grouped cases (§1.1, §1.3)


def calibrate(count, cost, kept_count, kept_cost, previous_weight, previous_coefficient,
              override_weight, designated, min_cases, decimals):
    """§1.1–§1.6 from sums by group × level (see :func:`group_costs`).

    Groups priced from the data (§1.2) get weight = trimmed group mean ÷ trimmed overall mean
    (§1.1, §1.3) and coefficients = trimmed mean at the level ÷ trimmed group mean (§1.6), both
    rounded to ``decimals``, lower levels clamped to the level above (listed in ``clamped``).
    Other groups keep their previous weight and coefficients (NaN when there are none).
    Overrides replace weights last (§1.4). The rate per level (§1.5) divides the actual cost of
    all grouped cases at the level (untrimmed: what was spent) by their case mix under the
    published weights.
    """
    count, cost = np.asarray(count, dtype=float), np.asarray(cost, dtype=float)
    kept_count = np.asarray(kept_count, dtype=float)
    kept_cost = np.asarray(kept_cost, dtype=float)
    n_groups, n_levels = count.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        overall_mean = float(kept_cost.sum() / kept_count.sum())
        group_mean = kept_cost.sum(axis=1) / kept_count.sum(axis=1)
        level_mean = kept_cost / kept_count
    from_data = priced_from_data(count.sum(axis=1), min_cases, designated)
    weight, status = final_weights(weights_from_means(group_mean, overall_mean, decimals),
                                   from_data, designated, previous_weight, override_weight)
    data_coefficient = coefficient_rules.level_coefficients_from_costs(level_mean, group_mean,
                                                                       decimals)
    data_coefficient, changed = coefficient_rules.enforce_level_order(data_coefficient)
    coefficient = np.where(from_data[:, None], data_coefficient,
                           np.asarray(previous_coefficient, dtype=float))
    levels = np.tile(np.arange(n_levels), n_groups)
    rate = rates_by_level(levels, cost.ravel(), (count * weight[:, None]).ravel(), n_levels)
    return Calibration(weight, status, coefficient, changed & from_data, rate, overall_mean)
