"""The bureau (BEHAVIOUR §6): yearly references and revisions, budgets, audits, assessment.

Each January the bureau publishes the "catalogue of the year" from last year's cases: reference
mean costs by group and level (plain means, for the case classes of §2.3), and — through the same
§1 functions as ``drgsim calibrate weights`` (:func:`sim.rules.weights.calibrate`) — level
coefficients (§1.6, when revised yearly, and always in the first year) and weights revised from
last year's **coded** cases when the policy says so (§1.1, §1.7 — upcoding then feeds back into
the weights). A revision trims each group's cost outliers at each level first (``revision.trim``,
§1.3) and
revises only groups with at least ``revision.min_cases`` cases in the whole region (§1.2; a run
at ``--scale`` s counts each case 1/s times); the others keep last
year's weight and coefficients. The region's basic groups are marked. The settlement
(``sim.settlement.settle``) reads these values from the catalogue before anything else.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.inputs.catalogue import Catalogue, validate_catalogue
from sim.inputs.policy import Policy
from sim.inputs.region import LEVELS, Region
from sim.rules import alliances as alliance_rules
from sim.rules import assessment as assessment_rules
from sim.rules import indicators as indicator_rules
from sim.rules import weights as weight_rules


def year_catalogue(region: Region, previous: Catalogue, last_year: dict, policy: Policy,
                   on: dt.date, first_year: bool, scale: float = 1.0) -> Catalogue:
    """The catalogue the bureau publishes for the year starting ``on`` (see module text).

    ``scale`` is the share of the region simulated (``--scale``): each simulated case stands for
    1/scale real ones, so the §1.2 minimum applies to ``min_cases × scale`` simulated cases (at
    least 1); a group is revised in a scaled run when it would be in the whole region.
    """
    table = previous.table.copy()
    n_groups, n_levels = len(table), len(LEVELS)
    coded, cost, level = last_year["coded_group"], last_year["cost"], last_year["level"]
    trim = weight_rules.Trim.parse(policy.value("revision.trim", on))
    keep = trim.keep(coded * n_levels + level, cost, n_groups * n_levels)  # §1.3, by level
    sums = weight_rules.group_costs(coded, level, cost, keep, n_groups, n_levels)
    previous_coefficient = np.column_stack([
        table[f"coefficient_{name}"].to_numpy(dtype=float) if f"coefficient_{name}" in table
        else np.full(n_groups, np.nan) for name in LEVELS])
    revision = weight_rules.calibrate(
        *sums, previous_weight=table["weight"].to_numpy(dtype=float),
        previous_coefficient=previous_coefficient, override_weight=np.full(n_groups, np.nan),
        designated=np.zeros(n_groups, dtype=bool),
        min_cases=max(1.0, policy.value("revision.min_cases", on) * scale),
        decimals=policy.value("coefficients.decimals", on))
    if policy.value("revision.weights_from_coded_data", on) and not first_year:
        table["weight"] = revision.weight
    with np.errstate(invalid="ignore", divide="ignore"):
        table["mean_cost"] = sums.cost.sum(axis=1) / sums.count.sum(axis=1)
        level_mean = sums.cost / sums.count
    for index, name in enumerate(LEVELS):
        table[f"mean_cost_{name}"] = level_mean[:, index]
    if first_year or policy.value("revision.coefficients_yearly", on):
        for index, name in enumerate(LEVELS):
            table[f"coefficient_{name}"] = revision.coefficient[:, index]
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


def assessment_indicators(cases: dict, base_points: np.ndarray, last: dict | None,
                          weights: dict[str, float], n_hospitals: int,
                          alliance_of: np.ndarray | None = None) -> tuple[dict, dict]:
    """The bureau's yearly assessment (§2.8, §6; scored by :mod:`sim.rules.assessment`): the
    indicators of each hospital from the year's cases, and this year's cost per case and CMI
    (``last`` next year, for the growth indicators). The readmission rate is the share of a
    hospital's cases followed by a readmission within 15 days; the CMI is from the coded groups'
    base points. The referral rate is Guigang 第二十一条's "紧密型县域医共体双向转诊率" when the
    region has county alliances (``alliance_of``, each hospital's alliance or −1): referrals
    between members of one alliance, both ways and at both ends, per case treated
    (:func:`sim.rules.alliances.within_alliance_referral_rate`; hospitals outside every alliance
    are not scored on it); without alliances, the share of a hospital's cases referred to it (up
    or down). Indicators with no weight are not computed (None)."""
    hospital = cases["hospital"]
    count = np.maximum(np.bincount(hospital, minlength=n_hospitals), 1)

    def per_case(values):
        return np.bincount(hospital, weights=values, minlength=n_hospitals) / count

    now = {"cost_per_case": per_case(cases["cost"]),
           "cmi": per_case(base_points[cases["coded_group"]]) / 100.0}
    wanted = {name for name, weight in weights.items() if weight}
    indicators: dict = {"readmission": per_case(cases["readmitted"])}
    if "admissions_per_person" in wanted:
        indicators["admissions_per_person"] = indicator_rules.admissions_per_person(
            hospital, cases["patient"], n_hospitals)
    if "self_pay_ratio" in wanted:
        indicators["self_pay_ratio"] = indicator_rules.self_pay_ratio(
            hospital, cases["self_pay"], cases["cost"], n_hospitals)
    if "referral_rate" in wanted and alliance_of is not None and np.any(alliance_of >= 0):
        indicators["referral_rate"] = alliance_rules.within_alliance_referral_rate(
            hospital, cases["referred_from"], alliance_of, n_hospitals)
    elif "referral_rate" in wanted:
        indicators["referral_rate"] = per_case(cases["referred_up"] | cases["referred_down"])
    for name, key in (("cost_per_case_growth", "cost_per_case"), ("cmi_growth", "cmi")):
        if name in wanted and last is not None:
            indicators[name] = assessment_rules.growth(now[key], last[key])
    return indicators, now


def next_budget(previous_budget: float, growth: float) -> float:
    """§2.1 in a multi-year run: last year's DRG budget grown by ``budget.annual_growth``."""
    return previous_budget * (1.0 + growth)


