"""Difference coefficients by group and hospital level (rules §1.6, §2.4)."""

from __future__ import annotations

import numpy as np


def level_coefficients_from_costs(group_level_mean_cost, group_mean_cost, decimals):
    """§1.6: coefficient(g, L) = mean cost of g at level L ÷ mean cost of g over all levels.

    Rounded to ``decimals`` (8 in the rule); NaN where the group has no cost at a level.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = group_level_mean_cost / group_mean_cost[:, None]
    return np.round(ratio, decimals)


def enforce_level_order(coefficients):
    """§1.6: a lower level may not get a higher coefficient than the level above it.

    Levels are columns, lowest first. Going down from the highest level, a lower level's
    coefficient is clamped to the nearest known higher level's. Returns the clamped table and
    a boolean per group telling where a clamp happened (the bureau is warned about those).
    """
    clamped = np.array(coefficients, dtype=float, copy=True)
    changed = np.zeros(clamped.shape[0], dtype=bool)
    ceiling = np.full(clamped.shape[0], np.inf)
    for level in range(clamped.shape[1] - 1, -1, -1):
        column = clamped[:, level]
        over = column > ceiling
        changed |= over
        clamped[:, level] = np.where(over, ceiling, column)
        ceiling = np.where(np.isnan(clamped[:, level]), ceiling, clamped[:, level])
    return clamped, changed


def group_level_coefficients(stable_table, basic_group, basic_same_price, basic_coefficient,
                             stable_group):
    """§2.4: stable groups take their level coefficient; basic groups the same coefficient at
    every level (when the policy pays them the same price); unstable groups 1."""
    basic = np.asarray(basic_group, dtype=bool) & basic_same_price
    table = np.where(basic[:, None], basic_coefficient, stable_table)
    return np.where(np.asarray(stable_group, dtype=bool)[:, None], table, 1.0)


def adjust_levels(coefficients, adjustment, decimals):
    """The bureau's level adjustment (§2.4, §7: it "manages hospital coefficients"): each
    level's coefficients × that level's multiplier, rounded to ``decimals`` (8 in §1.6).

    An adjusted coefficient is a coefficient as published, so the rounding of §1.6 comes after
    the multiplication: 0.6 × 0.9999999975 is 0.6, not 0.5999999985. A level whose multiplier is
    1 keeps its coefficients exactly as computed or given. Levels are columns.
    """
    table = np.asarray(coefficients, dtype=float)
    factor = np.asarray(adjustment, dtype=float)[None, :]
    return np.where(factor == 1.0, table, np.round(table * factor, decimals))
