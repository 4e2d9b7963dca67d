"""Case classes of stable groups: normal, high multiple, low multiple (rules §2.2, §2.3)."""

from __future__ import annotations

import numpy as np

NORMAL, HIGH, LOW, UNSTABLE, WHOLE_GROUP, EXCLUDED = range(6)
CLASS_NAMES = ("normal", "high", "low", "unstable", "whole_group", "excluded")


def unstable_groups(case_counts, max_cases, catalogue_stable):
    """§2.2: a group is unstable with at most ``max_cases`` cases or when the catalogue says so."""
    return (np.asarray(case_counts) <= max_cases) | ~np.asarray(catalogue_stable, dtype=bool)


def high_multiple_threshold(base_points, band_limits, band_multiples):
    """k of §2.3 for each case: the multiple of the first band whose upper limit ≥ base points.

    ``band_limits`` are the increasing upper limits of all bands but the last (open) one.
    """
    band = np.searchsorted(np.asarray(band_limits, dtype=float), base_points, side="left")
    return np.asarray(band_multiples, dtype=float)[band]


def case_class(cost, level_mean_cost, threshold_multiple, low_multiple,
               stable_group, whole_group):
    """Class of each case (§2.3): whole-group review first, then unstable, then cost outliers.

    high multiple: cost > k × mean cost of the group at the case's level;
    low multiple:  cost < low_multiple × that mean; normal otherwise.
    """
    is_high = cost > threshold_multiple * level_mean_cost
    is_low = cost < low_multiple * level_mean_cost
    i8 = np.int8  # one byte a case all along (issue 13: int64 temporaries were 8× the traffic)
    stable_class = np.where(is_high, i8(HIGH), np.where(is_low, i8(LOW), i8(NORMAL)))
    return np.where(whole_group, i8(WHOLE_GROUP), np.where(stable_group, stable_class,
                                                           i8(UNSTABLE))).astype(np.int8,
                                                                                  copy=False)


def rate_case_class(stable_group, whole_group_at_cost):
    """Class of each case under the rate method (§3): no cost-outlier classes.

    §3: "Payment standard of a case = weight × rate(level) (× coefficient if used)". The rate
    method's text pays every case its group's standard whatever the case cost — Yuxi's plan
    (玉医改办〔2017〕11号, ../seeds/000): "医院按实际发生费用和报销政策与病人结算。
    医保局按DRG付费标准扣减患者个人负担金额后与医疗机构进行费用结算，超支不补，结余留用。"
    High and low multiples, special and whole-group reviews are rules of the point method
    (§2.3, §2.5; the prefecture's 第十三、十四条, ../seeds/002), where they share out a fixed
    budget; §3 names none of them. So a
    stable group's case is ``normal`` (paid weight × rate × coefficient), an unstable group's
    ``unstable`` (the same with coefficient 1, §2.4), and ``whole_group`` only where the policy
    chose to pay reviewed cases at reviewed cost (``rate.whole_group_at_reviewed_cost``).
    """
    return np.where(whole_group_at_cost, WHOLE_GROUP,
                    np.where(stable_group, NORMAL, UNSTABLE)).astype(np.int8)
