"""The bureau (BEHAVIOUR §6): yearly references and revisions, budgets, audits, assessment.

Each January the bureau publishes the "catalogue of the year" from last year's cases: reference
mean costs by group and level and level coefficients (§1.6, when revised yearly), weights revised
from last year's **coded** cases when the policy says so (§1.1, §1.7 — upcoding then feeds back into
the weights), stability from last year's counts (§2.2) and the region's basic groups. The
settlement (``sim.settlement.settle``) reads these values from the catalogue before anything else.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.catalogue import Catalogue, validate_catalogue
from sim.policy import Policy
from sim.region import LEVELS, Region
from sim.rules import coefficients as coefficient_rules

MIN_CASES_FOR_REVISION = 5  # a group's weight is revised only with at least this many cases


def year_catalogue(region: Region, previous: Catalogue, last_year: dict, policy: Policy,
                   on: dt.date, first_year: bool) -> Catalogue:
    """The catalogue the bureau publishes for the year starting ``on`` (see module text)."""
    table = previous.table.copy()
    n_groups = len(table)
    coded, cost, level = last_year["coded_group"], last_year["cost"], last_year["level"]
    count = np.bincount(coded, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(coded, weights=cost, minlength=n_groups) / count
        key = coded * len(LEVELS) + level
        level_mean = (np.bincount(key, weights=cost, minlength=n_groups * len(LEVELS))
                      / np.bincount(key, minlength=n_groups * len(LEVELS))).reshape(n_groups, -1)
    if policy.value("revision.weights_from_coded_data", on) and not first_year:
        revised = mean / np.mean(cost)
        usable = (count >= MIN_CASES_FOR_REVISION) & np.isfinite(revised) & np.isfinite(
            table["weight"].to_numpy())
        table["weight"] = np.where(usable, np.round(revised, 4), table["weight"])
    table["mean_cost"] = mean
    for index, name in enumerate(LEVELS):
        table[f"mean_cost_{name}"] = level_mean[:, index]
    if first_year or policy.value("revision.coefficients_yearly", on):
        decimals = policy.value("coefficients.decimals", on)
        coefficient = coefficient_rules.level_coefficients_from_costs(level_mean, mean, decimals)
        coefficient, _ = coefficient_rules.enforce_level_order(coefficient)
        for index, name in enumerate(LEVELS):
            table[f"coefficient_{name}"] = coefficient[:, index]
    table["basic_group"] = region.basic
    return Catalogue(validate_catalogue(table, "bureau"), "bureau catalogue", previous.sha256)


def audit(upcoded: np.ndarray, gained_points: np.ndarray, sample_rate: float,
          detection_probability: float, penalty_multiple: float,
          draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quarterly sample audit (§2.8): which records are checked, and the points deducted.

    ``draws`` holds two uniform numbers per case (sampling, detection), drawn for every case so
    that scenarios share them. A detected upcoded record loses ``penalty_multiple`` × the points
    it gained. Returns ``(detected, deducted_points)``.
    """
    sampled = draws[:, 0] < sample_rate
    detected = sampled & upcoded & (draws[:, 1] < detection_probability)
    return detected, np.where(detected, penalty_multiple * gained_points, 0.0)


def expected_net_upcoding_gain(price_gap: np.ndarray, sample_rate: float,
                               detection_probability: float, penalty_multiple: float):
    """Upcoding pressure (BEHAVIOUR §7): expected net yuan gain of coding a case one rank up:
    the price gap less the expected penalty (audited × detected × multiple of the gain)."""
    return price_gap * (1.0 - sample_rate * detection_probability * penalty_multiple)


def assessment_coefficients(readmission_rate: np.ndarray, weight: float,
                            floor: float, base: float) -> np.ndarray:
    """§2.8/§6: a hospital whose 15-day readmission rate exceeds the region's loses
    ``weight`` × its relative excess from the base coefficient, never below ``floor``."""
    region_rate = np.nanmean(readmission_rate)
    if not np.isfinite(region_rate) or region_rate <= 0:
        return np.full(len(readmission_rate), base)
    excess = np.maximum(np.nan_to_num(readmission_rate) / region_rate - 1.0, 0.0)
    return np.clip(base - weight * excess, floor, base)


def next_budget(previous_budget: float, growth: float) -> float:
    """§2.1 in a multi-year run: last year's DRG budget grown by ``budget.annual_growth``."""
    return previous_budget * (1.0 + growth)


