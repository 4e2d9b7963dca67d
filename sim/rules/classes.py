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
    stable_class = np.where(is_high, HIGH, np.where(is_low, LOW, NORMAL))
    return np.where(whole_group, WHOLE_GROUP,
                    np.where(stable_group, stable_class, UNSTABLE)).astype(np.int8)
