"""Settle a year of cases under a policy: the "simulated year" of POLICY_RULES §8.

``settle(cases, catalogue, policy)`` reads as the list of rules it applies, in order:
reference costs and group stability (§1.6, §2.2), coefficients (§2.4), case classes (§2.3),
points (§2.5), then the money of the method — monthly budget, point value and prepayment,
January advance, annual point value, year-end payment and caps (§2.6, §2.7) for the point
family; fixed point values for the rate method, every case at its standard (§3); the pool
(§4); all-inclusive prices (§5); DIP scores (§8); claims as billed for fee-for-service.
Hospital money is kept in whole cents, rounded so that no cent is created or lost.

What an unset policy means (so that results can be reproduced by hand): reference mean costs
and level coefficients come from the catalogue where it carries them, else from the settled
cases; a null budget is the settled DRG cases' own fund payments; monthly budget shares are the
cases' fund payments by discharge month; the January advance uses this year's fee-for-service
fund payments as "last year"; approved extra points of quarter q are paid with the first
monthly payment after the quarter, each at the monthly point value of its case's month
(对应月月度点值, §2.6), those of the fourth quarter at year end. A null ``rate.base_rate``
(rate method, all-inclusive price) is budget-neutral: the
rate of each level is the total cost of the level's DRG-paid cases ÷ their case mix as paid
(Σ weight × coefficient; Σ weight when coefficients are not used), §1.5 — from the settled
cases, since a settled year has no "last year" (a model run passes last year's rates instead);
under the all-inclusive price it is computed before the §5 exclusions, which depend on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.errors import InputError
from sim.inputs.alliances import Alliance, indexed, parse_alliances
from sim.inputs.cases import REVIEW_SPECIAL, REVIEW_WHOLE_GROUP, SCHEMES, CaseTable
from sim.inputs.catalogue import Catalogue, code_list
from sim.inputs.policy import POINT_FAMILY, Policy
from sim.rules import all_inclusive as inclusive_rules
from sim.rules import alliances as alliance_rules
from sim.rules import assessment as assessment_rules
from sim.rules import classes as class_rules
from sim.rules import coefficients as coefficient_rules
from sim.rules import dip as dip_rules
from sim.rules import indicators as indicator_rules
from sim.rules import points as point_rules
from sim.rules import pool as pool_rules
from sim.rules import rate as rate_rules
from sim.rules import settlement as money_rules
from sim.rules import weights as weight_rules
from sim.rules.money import allocate_cents, to_cents

MONTHS = 12


@dataclass
class Settlement:
    """Results of one settled year: per case, per hospital, and a summary."""

    case_points: pd.DataFrame
    hospitals: pd.DataFrame
    indicators: pd.DataFrame | None  # None from ``settle(..., indicators=False)`` unless scored
    summary: dict
    warnings: list[str] = field(default_factory=list)
    alliances: pd.DataFrame | None = None  # one row per county alliance (§2.8), if any


@dataclass
class GroupReference:
    """Per-group reference values of the settled year (arrays over catalogue rows)."""

    base_points: np.ndarray
    case_count: np.ndarray
    region_mean_cost: np.ndarray
    level_mean_cost: np.ndarray  # groups × levels
    stable: np.ndarray
    whole_group: np.ndarray
    coefficient: np.ndarray      # groups × levels
    clamped_groups: int


def _mean_by(index, values, size):
    counts = np.bincount(index, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(index, weights=values, minlength=size) / counts


def _catalogue_column(catalogue: Catalogue, column: str, size: int) -> np.ndarray:
    if column in catalogue.table.columns:
        return catalogue.table[column].to_numpy(dtype=float)
    return np.full(size, np.nan)


def group_reference(cases: CaseTable, catalogue: Catalogue, policy: Policy, on: dt.date,
                    drg_case: np.ndarray) -> GroupReference:
    """Reference costs, stability and coefficients of every group (§1.6, §2.2, §2.4)."""
    n_groups, n_levels = len(catalogue.table), len(cases.levels)
    group, level, cost = cases.group[drg_case], cases.level[drg_case], cases.cost[drg_case]
    case_count = np.bincount(group, minlength=n_groups)

    region_mean = _catalogue_column(catalogue, "mean_cost", n_groups)
    region_mean = np.where(np.isnan(region_mean), _mean_by(group, cost, n_groups), region_mean)
    level_mean = _mean_by(group * n_levels + level, cost, n_groups * n_levels).reshape(
        n_groups, n_levels)
    for index, name in enumerate(cases.levels):
        given = _catalogue_column(catalogue, f"mean_cost_{name}", n_groups)
        level_mean[:, index] = np.where(np.isnan(given), level_mean[:, index], given)

    family, rank = catalogue.family_ids(), catalogue.table["severity_rank"].to_numpy()
    complication = policy.value("weights.complication_multiplier", on)
    if policy.method == "dip":
        scores = dip_rules.dip_scores(region_mean, np.mean(cost))
        fix = policy.value("dip.fix_inversions", on)
        if fix:
            scores = dip_rules.fix_inversions(scores, family, rank)
        # the multiplier after the fix, so that it is the price ratio it says; narrowing (< 1)
        # can invert a family again, and the fix then runs again
        scores = point_rules.complication_base_points(scores, family, rank, complication)
        if fix and complication < 1:
            scores = dip_rules.fix_inversions(scores, family, rank)
        base = scores
    else:
        base = point_rules.complication_base_points(
            point_rules.base_points(catalogue.weights), family, rank, complication)

    stable = ~class_rules.unstable_groups(case_count, policy.value("groups.unstable_max_cases",
                                                                   on),
                                          catalogue.table["stable"].to_numpy())
    whole_group = catalogue.table["whole_group_review"].to_numpy(dtype=bool)

    table, clamped = coefficient_table(catalogue, policy, on, cases.levels, level_mean,
                                       region_mean, stable)
    clamped = int(np.sum(clamped & (case_count > 0)))
    return GroupReference(base, case_count, region_mean, level_mean, stable, whole_group, table,
                          clamped)


@dataclass
class CaseChain:
    """Per-case results of §2.3–§2.5: class, base points, coefficient, points, extra points."""

    case_class: np.ndarray
    base_points: np.ndarray
    coefficient: np.ndarray
    points: np.ndarray
    extra_points: np.ndarray
    mean_cost_all: float


def case_chain(cases: CaseTable, reference: GroupReference, policy: Policy, on: dt.date,
               excluded: np.ndarray, all_inclusive: bool = False,
               mean_cost_all: float | None = None) -> CaseChain:
    """Classes (§2.3), coefficients (§2.4) and points (§2.5) of every case.

    ``excluded`` cases (paid by item: §5 exclusions, §7 rollout) get the class ``excluded`` and
    no points. Under the all-inclusive price every other case is ``normal`` (§5 has no outlier
    classes: the exclusions take their place). Under the rate method there are no outlier classes
    and no extra points either (§3, :func:`sim.rules.classes.rate_case_class`); a whole-group
    review is ``whole_group`` only with ``rate.whole_group_at_reviewed_cost``, and its points are
    set once the rate is known (:func:`sim.rules.rate.reviewed_cost_points`). ``mean_cost_all``
    (the mean cost of all DRG cases, for whole-group points) defaults to that of ``cases``.
    """
    group, level = cases.group, cases.level
    base = reference.base_points[group]
    coefficient = reference.coefficient[group, level]
    limits, multiples = _bands(policy, on)
    # k per group, then per case (the band depends on base points alone: §2.3)
    threshold = class_rules.high_multiple_threshold(reference.base_points, limits,
                                                    multiples)[group]
    whole_group = reference.whole_group[group] | (
        (cases.review == REVIEW_WHOLE_GROUP) & cases.review_approved)
    level_mean = reference.level_mean_cost[group, level]
    if all_inclusive:
        case_class = np.full(len(cases), class_rules.NORMAL, dtype=np.int8)
    elif policy.method == "rate":  # §3: weight × rate (× coefficient), no outlier classes
        case_class = class_rules.rate_case_class(
            reference.stable[group],
            whole_group & bool(policy.value("rate.whole_group_at_reviewed_cost", on)))
    else:
        case_class = class_rules.case_class(
            cases.cost, level_mean, threshold, policy.value("outliers.low_multiple", on),
            reference.stable[group], whole_group)
    case_class = np.where(excluded, class_rules.EXCLUDED, case_class).astype(np.int8)
    coefficient = np.where((case_class == class_rules.UNSTABLE)
                           | (case_class == class_rules.WHOLE_GROUP), 1.0, coefficient)
    drg_case = ~excluded
    if mean_cost_all is None:
        mean_cost_all = float(np.mean(cases.cost[drg_case])) if drg_case.any() else np.nan
    # §2.5: extra points only where a special-case review granted them
    special_approved = cases.review_approved & (cases.review == REVIEW_SPECIAL)
    points, extra = point_rules.case_points(
        case_class, base, coefficient, cases.cost, cases.unreasonable_cost,
        reference.region_mean_cost[group], level_mean, threshold, special_approved,
        mean_cost_all)
    return CaseChain(case_class, base, coefficient, np.where(excluded, 0.0, points),
                     np.where(excluded, 0.0, extra), mean_cost_all)


def with_basic_groups(catalogue: Catalogue, codes: list[str] | None,
                      warnings: list[str]) -> Catalogue:
    """The catalogue with the policy's list of basic groups in place of its own flags (§2.2,
    §2.4); codes it lacks are named in a warning and left out. ``None``: the catalogue as is."""
    if codes is None:
        return catalogue
    missing = catalogue.missing_codes(codes)
    if missing:
        warnings.append(f"coefficients.basic_groups: {len(missing)} of {len(codes)} basic-group "
                        f"code(s) are not in the catalogue {catalogue.source} and are left out: "
                        f"{code_list(missing)}")
    table = catalogue.table.copy()
    table["basic_group"] = table["code"].isin(codes).to_numpy()
    return replace(catalogue, table=table)


def coefficient_table(catalogue: Catalogue, policy: Policy, on: dt.date, levels: tuple[str, ...],
                      level_mean: np.ndarray, region_mean: np.ndarray,
                      stable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group × level difference coefficients as paid (§1.6, §2.4).

    ``coefficients.level`` if the policy sets it; else the catalogue's ``coefficient_<level>``
    where present, else mean cost at the level ÷ mean cost of the group, rounded and clamped so
    that no lower level exceeds a higher one (§1.6); then the policy's level adjustment, rounded
    again to ``coefficients.decimals`` where it changes a level (issue 9); basic
    groups the same coefficient everywhere, unstable groups 1 (§2.4); all 1 when the rate method
    does not use coefficients (§3). Also returns which stable groups were clamped.
    """
    n_groups, n_levels = len(catalogue.table), len(levels)
    clamped = np.zeros(n_groups, dtype=bool)
    if policy.has("rate.use_coefficients") and not policy.value("rate.use_coefficients", on):
        return np.ones((n_groups, n_levels)), clamped
    fixed = policy.value("coefficients.level", on)
    if fixed is not None:
        table = np.tile([fixed[name] for name in levels], (n_groups, 1)).astype(float)
    else:
        table = coefficient_rules.level_coefficients_from_costs(
            level_mean, region_mean, policy.value("coefficients.decimals", on))
        for index, name in enumerate(levels):
            given = _catalogue_column(catalogue, f"coefficient_{name}", n_groups)
            table[:, index] = np.where(np.isnan(given), table[:, index], given)
        table, changed = coefficient_rules.enforce_level_order(table)
        clamped = changed & stable
    adjustment = policy.value("coefficients.level_adjustment", on)
    table, adjusted = coefficient_rules.enforce_level_order(coefficient_rules.adjust_levels(
        table, [adjustment[name] for name in levels], policy.value("coefficients.decimals", on)))
    clamped |= adjusted & stable  # a level adjustment that crosses the level above is clamped
    table = coefficient_rules.group_level_coefficients(
        table, catalogue.table["basic_group"].to_numpy(),
        policy.value("coefficients.basic_groups_same_price", on),
        policy.value("coefficients.basic_group_coefficient", on), stable)
    return table, clamped


def _bands(policy: Policy, on: dt.date) -> tuple[list[float], list[float]]:
    bands = policy.value("outliers.high_multiple_bands", on)
    return ([b["up_to_base_points"] for b in bands[:-1]], [b["multiple"] for b in bands])


def _level_values(value, levels) -> np.ndarray:
    """A number-or-per-level parameter as one value per level."""
    if isinstance(value, dict):
        return np.array([value[name] for name in levels], dtype=float)
    return np.full(len(levels), float(value))


def budget_neutral_rates(level, cost, base_points, coefficient, n_levels) -> np.ndarray:
    """§1.5 with the case mix as paid: rate of level L = cost of the level's cases ÷ Σ weight ×
    coefficient (weight = base points ÷ 100, §2.2), so that these cases, paid weight × rate ×
    coefficient (§3), cost the fund what they cost. NaN for a level without cases."""
    return weight_rules.rates_by_level(level, cost, base_points / 100.0 * coefficient, n_levels)


def rate_per_level(policy: Policy, on: dt.date, levels: tuple[str, ...],
                   neutral) -> tuple[np.ndarray, str]:
    """The rate of each level in force (§3) and where it came from: ``rate.base_rate`` when the
    policy sets it, else ``neutral()`` (budget-neutral rates, §1.5); times ``rate.adjustment``."""
    given = policy.value("rate.base_rate", on)
    adjustment = float(policy.value("rate.adjustment", on))
    if given is not None:
        rate, source = _level_values(given, levels), "rate.base_rate"
    else:
        rate, source = np.asarray(neutral(), dtype=float), "budget-neutral (§1.5)"
    if adjustment != 1.0:
        source += f" × rate.adjustment {adjustment:g}"
    return rate * adjustment, source


# --------------------------------------------------------------------------- dated values
# Values that change inside the settled year (issue 9). Applied month by month: the prepay ratio
# of each month's payment, the monthly budget shares, the whole-group share of each month's
# points (by the case's month) and the annual budget (the budget in force in each month, times
# that month's share: the year's budget is the sum of its monthly budgets). Everything else
# settle reads is read once for the year, on 1 January, and a change inside the year is named
# in a warning (:func:`mid_year_warnings`).
PER_MONTH = ("settlement.prepay_ratio", "settlement.monthly_shares",
             "settlement.whole_group_monthly_share", "budget.annual", "budget.by_scheme",
             "budget.fund_total", "budget.carve_outs")
BUDGETS = ("budget.annual", "budget.by_scheme", "budget.fund_total", "budget.carve_outs")
# not read by settle: a model run applies them itself (audits by quarter, budget growth by month)
NOT_SETTLED_HERE = ("audit.sample_rate", "audit.detection_probability", "audit.penalty_multiple",
                    "budget.annual_growth", "review.submitted_share", "review.approved_share",
                    "review.unreasonable_share")
_WHY = {
    "settlement.assessment_scored_in_settle": "the assessment is made once at year end (§2.7)",
    "settlement.advance_months": "the advance is paid in January (§2.6)",
    "settlement.surplus_cap": "a year-end cap on the year's totals (§2.7) has no per-month "
                              "reading",
    "settlement.self_pay_cap": "a year-end cap on the year's totals (§2.7) has no per-month "
                               "reading",
    "settlement.assessment_coefficient": "the assessment is applied once at year end (§2.7)",
    "settlement.assessment_readmission_weight": "the assessment is made once at year end (§2.7)",
    "settlement.assessment_floor": "the assessment is made once at year end (§2.7)",
    "settlement.assessment_ceiling": "the assessment is made once at year end (§2.7)",
    **{f"settlement.assessment_{name}_weight": "the assessment is made once at year end (§2.7)"
       for name in assessment_rules.INDICATORS},
    "pool.share": "the pool is one share of the year's allocations (§4)",
    "pool.incentive_coefficients": "the pool is shared out once at year end (§4)",
    "alliances.members": "an alliance is accounted for the whole year (§2.8)",
    "alliances.package_to_lead": "an alliance is accounted for the whole year (§2.8)",
}


def mid_year_warnings(policy: Policy, year: int, budget_given: bool = False) -> list[str]:
    """One line per parameter whose value changes inside ``year`` and is not applied as it
    changes: read on 1 January for the whole year; and per-month values dated after the 1st of
    a month, which take effect the month after (a month is settled with one value)."""
    lines = []
    for path in sorted(policy.parameters):
        if path in NOT_SETTLED_HERE or (path in BUDGETS and budget_given):
            continue
        dates = policy.changes_in_year(path, year)
        if not dates:
            continue
        if path in PER_MONTH:
            for date in (d for d in dates if d.day != 1):
                start = dt.date(year + date.month // 12, date.month % 12 + 1, 1)
                lines.append(f"{path} changes on {date.isoformat()}, inside a month: each month "
                             f"is settled with one value, so it applies from {start.isoformat()}")
            continue
        first = str(policy.value(path, dt.date(year, 1, 1)))
        first = first if len(first) <= 40 else first[:37] + "..."
        why = _WHY.get(path, "a mid-year change of this rule is not supported")
        lines.append(f"{path} changes on {', '.join(d.isoformat() for d in dates)}, inside the "
                     f"settled year {year}: {why}; the value in force on 1 January ({first}) is "
                     "used for the whole year")
    return lines


def _from_fund_total(policy: Policy, year: int, month: int, scheme: str) -> float | None:
    """A scheme's DRG budget in force in ``month`` (0–11) from ``budget.fund_total`` and
    ``budget.carve_outs`` (§2.1, Guigang 第六条), or None where no fund total is given."""
    if not policy.has("budget.fund_total"):
        return None
    on = dt.date(year, month + 1, 1)
    total = (policy.value("budget.fund_total", on) or {}).get(scheme)
    items = ((policy.value("budget.carve_outs", on) or {}).get(scheme) or {})
    if total is None:
        if items:  # carve-outs of nothing would silently do nothing
            raise InputError("budget.carve_outs", f"scheme {scheme}, {year}-{month + 1:02d}",
                             "given without a budget.fund_total for the scheme to take them "
                             "from", "the scheme's budget.fund_total, or no carve-outs for it")
        return None
    budget = money_rules.drg_budget_from_fund(total, items.values())
    if budget <= 0:
        raise InputError("budget.carve_outs", f"scheme {scheme}, {year}-{month + 1:02d}",
                         f"carve-outs of ¥{sum(items.values()):,.2f} leave a DRG budget of "
                         f"¥{budget:,.2f} from a fund total of ¥{total:,.2f}",
                         "carve-outs smaller than the scheme's budget.fund_total")
    return budget


def scheme_budgets_in_year(policy: Policy, year: int) -> dict[str, list[float | None]]:
    """Each scheme's DRG budget in force in each month of ``year`` with separate scheme budgets
    (§2.1): ``budget.by_scheme``, else ``budget.fund_total`` − ``budget.carve_outs``, else None
    (budget-neutral in settle; last year's grown in model runs). Both given for one scheme in
    one month is refused: one line naming them."""
    by_scheme = policy.values_in_year("budget.by_scheme", year)
    budgets: dict[str, list[float | None]] = {}
    for scheme in SCHEMES:
        months = []
        for month in range(MONTHS):
            given = (by_scheme[month] or {}).get(scheme)
            derived = _from_fund_total(policy, year, month, scheme)
            if given is not None and derived is not None:
                raise InputError("budget.by_scheme", f"scheme {scheme}, {year}-{month + 1:02d}",
                                 f"¥{given:,.2f} given while budget.fund_total − "
                                 f"budget.carve_outs also gives ¥{derived:,.2f}",
                                 "one of them (the other null)")
            months.append(float(given) if given is not None else derived)
        budgets[scheme] = months
    return budgets


def annual_budget_in_year(policy: Policy, year: int) -> tuple[list[float | None], str]:
    """The one DRG budget in force in each month of ``year`` (§2.1) and its source:
    ``budget.annual``, else both schemes' ``budget.fund_total`` − ``budget.carve_outs`` added
    (one scheme's alone is refused: the other's part would be unknown), else None."""
    annual = policy.values_in_year("budget.annual", year)
    months, derived_used = [], False
    for month in range(MONTHS):
        parts = [_from_fund_total(policy, year, month, scheme) for scheme in SCHEMES]
        given = [p for p in parts if p is not None]
        if given and len(given) != len(SCHEMES):
            missing = [s for s, p in zip(SCHEMES, parts, strict=True) if p is None]
            raise InputError("budget.fund_total", f"{year}-{month + 1:02d}",
                             f"given for one scheme only ({', '.join(missing)} null) while the "
                             "schemes share one DRG budget",
                             "a fund total for every scheme, or budget.separate_schemes: true")
        if given and annual[month] is not None:
            raise InputError("budget.annual", f"{year}-{month + 1:02d}",
                             f"¥{annual[month]:,.2f} given while budget.fund_total − "
                             f"budget.carve_outs also gives ¥{sum(given):,.2f}",
                             "one of them (the other null)")
        if given:
            derived_used = True
            months.append(round(sum(given), 2))
        else:
            months.append(None if annual[month] is None else float(annual[month]))
    source = ("budget.fund_total − budget.carve_outs (Guigang 第六条)" if derived_used
              else "budget.annual")
    return months, source


def monthly_shares_in_year(policy: Policy, year: int, spending: np.ndarray,
                           warnings: list[str]) -> np.ndarray:
    """§2.6 monthly budget shares of ``year``; null is each month's share of the settled DRG
    cases' fund spending. A list that changes in force from month c keeps the shares of the
    months before c (their budgets have been paid) and spreads what remains of the year,
    1 − their sum, over months c..12 in the proportions the new list gives them."""
    spent = money_rules.monthly_shares_from_spending(spending)
    lists = [spent if v is None else np.asarray(v, dtype=float)
             for v in policy.values_in_year("settlement.monthly_shares", year)]
    shares = lists[0].copy()
    for month in range(1, MONTHS):
        if np.array_equal(lists[month], lists[month - 1]):
            continue
        remaining = max(1.0 - float(shares[:month].sum()), 0.0)
        rest = lists[month][month:]
        if rest.sum() > 0:
            shares[month:] = rest / rest.sum() * remaining
        else:
            shares[month:] = remaining / (MONTHS - month)
            warnings.append(f"settlement.monthly_shares in force from {year}-{month + 1:02d}-01 "
                            "gives the rest of the year no share; what remains is spread evenly")
    return shares


def settle(cases: CaseTable, catalogue: Catalogue, policy: Policy,
           budget=None, assessment: np.ndarray | None = None,
           neutral_rate: np.ndarray | None = None,
           alliances: tuple[Alliance, ...] = (), indicators: bool = True) -> Settlement:
    """Settle ``cases`` (one year) under ``policy``.

    ``budget`` overrides ``budget.annual``: a number, or 12 (the annual budget in force in each
    month, as a model run passes when it changes inside the year); ``assessment`` (one
    coefficient per hospital, from the bureau's evaluation in a model run) overrides
    ``settlement.assessment_coefficient``. Audit
    deductions in ``cases.deducted_points`` are taken from the hospitals' annual points, not
    from the annual total points (§2.5, §2.7): their value stays with the fund.
    ``neutral_rate`` (one per level; a model run passes last year's) replaces the budget-neutral
    rates computed from the settled cases where ``rate.base_rate`` is null. With no
    ``assessment`` and ``settlement.assessment_scored_in_settle`` true, each hospital is scored
    from the settled year's indicators (:func:`scored_assessment`). ``alliances`` (a model
    run's region alliances) are the county alliances when the policy's ``alliances.members`` is
    null (:func:`alliances_in_force`); they change no amount (:func:`alliance_packages`).
    """
    on = dt.date(cases.year, 1, 1)
    method = policy.method
    n, n_h, levels = len(cases), cases.n_hospitals, cases.levels
    warnings = list(policy.warnings) + list(cases.warnings)
    if method != "ffs":
        warnings += mid_year_warnings(policy, cases.year, budget is not None)
    rate_by_level, rate_source = None, None
    catalogue = with_basic_groups(catalogue, policy.value("coefficients.basic_groups", on),
                                  warnings)

    # §5: under the all-inclusive price, listed cases leave the price and are paid by item.
    # §7 rollout: cases of hospitals or groups not yet under DRG are paid by item
    paid_by_item = (np.zeros(n, dtype=bool) if cases.paid_by_item is None
                    else np.asarray(cases.paid_by_item, dtype=bool))
    # 按床日付费 and 日间治疗(手术): their own streams, out of the DRG budget (§2.1; Guigang 第三条
    # "按床日付费、按人头付费、日间治疗(手术)、项目付费等多元复合式", 第六条 carve-outs)
    for stream in (cases.per_diem, cases.day_surgery):
        if stream is not None:
            paid_by_item = paid_by_item | np.asarray(stream, dtype=bool)
    excluded = paid_by_item.copy()
    price_reference = None
    if method == "all_inclusive":
        # §5: one price per group, set before any case leaves it: from the catalogue where it
        # carries coefficients and mean costs, else from every case under DRG this year. The
        # same price decides who leaves it ("< 1/3 or > 3 × the group price") and is charged.
        under_drg = ~paid_by_item
        provisional = price_reference = group_reference(cases, catalogue, policy, on, under_drg)
        rate_by_level, rate_source = rate_per_level(
            policy, on, levels, lambda: neutral_rate if neutral_rate is not None else
            budget_neutral_rates(cases.level[under_drg], cases.cost[under_drg],
                                 provisional.base_points[cases.group[under_drg]],
                                 provisional.coefficient[cases.group[under_drg],
                                                         cases.level[under_drg]], len(levels)))
        price = (provisional.base_points[cases.group] / 100.0 * rate_by_level[cases.level]
                 * provisional.coefficient[cases.group, cases.level])
        excluded |= inclusive_rules.excluded_from_price(
            cases.length_of_stay, cases.cost, price,
            policy.value("all_inclusive.short_stay_days", on),
            policy.value("all_inclusive.long_stay_days", on),
            policy.value("all_inclusive.low_price_multiple", on),
            policy.value("all_inclusive.high_price_multiple", on),
            cases.died, cases.transferred_48h, cases.rehabilitation_or_tcm)
    drg_case = ~excluded
    reference = price_reference if price_reference is not None else \
        group_reference(cases, catalogue, policy, on, drg_case)
    if reference.clamped_groups:
        warnings.append(f"{reference.clamped_groups} group(s) had a lower-level coefficient "
                        "above the level above it; clamped (§1.6)")

    chain = case_chain(cases, reference, policy, on, excluded,
                       all_inclusive=method == "all_inclusive")
    case_class, base, coefficient = chain.case_class, chain.base_points, chain.coefficient
    points, extra = chain.points, chain.extra_points
    level = cases.level
    mean_cost_all = chain.mean_cost_all
    if method == "rate":
        # cases paid a standard; whole-group reviews paid at reviewed cost stay out (§1.5, §3)
        standard = drg_case & (case_class != class_rules.WHOLE_GROUP)
        rate_by_level, rate_source = rate_per_level(
            policy, on, levels, lambda: neutral_rate if neutral_rate is not None else
            budget_neutral_rates(level[standard], cases.cost[standard], base[standard],
                                 coefficient[standard], len(levels)))
    if rate_source is not None:
        if neutral_rate is None and "budget-neutral" in rate_source:
            rate_source += " from the settled cases"
        elif "budget-neutral" in rate_source:
            rate_source += " from last year's cases"
        paid_at = np.bincount(level[drg_case], minlength=len(levels)) > 0
        missing = [name for index, name in enumerate(levels)
                   if paid_at[index] and not np.isfinite(rate_by_level[index])]
        if missing:
            warnings.append(f"no case mix at level(s) {', '.join(missing)} to compute a "
                            "budget-neutral rate from; their cases are paid at rate 0 (§1.5)")
        rate_by_level = np.nan_to_num(rate_by_level)
    if method == "rate":  # rate.whole_group_at_reviewed_cost: points worth the reviewed cost
        points = np.where(case_class == class_rules.WHOLE_GROUP, rate_rules.reviewed_cost_points(
            cases.cost, cases.unreasonable_cost, rate_by_level[level]), points)

    # patients' cash: as billed, except the all-inclusive price's patient share (§5)
    patient_cash = cases.patient_paid.copy()
    if method == "all_inclusive":
        price = points / 100.0 * rate_by_level[level]
        _, patient_part = inclusive_rules.split_price(price, _price_fund_share(cases, policy, on))
        patient_cash = np.where(excluded, cases.patient_paid, patient_part)

    case_points = pd.DataFrame({
        "case_id": pd.array(cases.case_id, dtype=pd.ArrowDtype(cases.case_id.type)),
        "case_class": pd.Categorical.from_codes(case_class, class_rules.CLASS_NAMES),
        "base_points": base,
        "coefficient": coefficient,
        "points": points,
    })
    # other payers (大病保险, 医疗救助 …) count with patients' cash in the point value and the
    # year end (§2.7; Guigang: 年度点值=(年度住院医疗总费用-年度住院统筹基金费用
    # +drg基金总额)÷年度总点数; 年终清算 … -出院结算时参保人员应支付费用-已预付费用
    # -其他资金应支付费用); under the all-inclusive price fund and patient share the price (§5),
    # so only the cases paid by item keep them
    other = np.zeros(n) if cases.other_paid is None else np.asarray(cases.other_paid, float)
    if method == "all_inclusive":
        other = np.where(excluded, other, 0.0)
    scored_here = (assessment is None and method != "ffs"
                   and policy.has("settlement.assessment_scored_in_settle")
                   and policy.value("settlement.assessment_scored_in_settle", on))
    indicator_table = (hospital_indicators(cases, base, case_class,
                                           planned_treatment(cases, catalogue, policy, on))
                       if indicators or scored_here else None)
    if scored_here:
        # §2.7 考核系数 from the settled year's §6 indicators; growth needs last year and the
        # case table has no referrals, so those indicators are skipped (named in a warning)
        assessment = scored_assessment(policy, on, {
            "readmission": indicator_table["readmission_15d_rate"].to_numpy(),
            "admissions_per_person": indicator_table["admissions_per_person"].to_numpy(),
            "self_pay_ratio": indicator_table["self_pay_ratio"].to_numpy()}, n_h, warnings)
    if _separate_schemes(cases, policy, on, warnings):
        money = _money_by_scheme(cases, policy, on, budget, case_class, points, extra, excluded,
                                 patient_cash + other, warnings, assessment, rate_by_level)
    else:
        money = _hospital_money(cases, policy, on, budget, case_class, points, extra, excluded,
                                patient_cash + other, warnings, assessment, rate_by_level)
    hospitals, summary = money
    summary.pop("_receipts_cents", None)
    if assessment is not None and np.ndim(assessment) > 0:  # scored per hospital (§2.7, §4)
        hospitals["assessment_coefficient"] = np.asarray(assessment, dtype=float)
        if "assessment_applied" in summary:  # rewards scaled to fit the budget (§2.1)
            hospitals["assessment_applied"] = summary.pop("assessment_applied")
    if cases.other_paid is not None:
        _split_other_payers(hospitals, summary, cases, patient_cash)
    hospitals.insert(3, "cmi", indicator_rules.case_mix_index(cases.hospital, base, n_h))
    _describe_hospitals(hospitals, cases)
    in_force, source = alliances_in_force(policy, on, alliances)
    alliance_table = (alliance_packages(hospitals, in_force, source, policy, on, cases.source,
                                        summary, warnings) if in_force else None)
    if cases.scheme is not None:
        case_points.insert(1, "scheme", pd.Categorical.from_codes(cases.scheme, SCHEMES))
    if cases.source != "model":  # a case is its hospital's case number (case_id per hospital)
        case_points.insert(1, "hospital_id", cases.hospital_ids[cases.hospital])
    summary.update({
        "year": cases.year,
        "method": method,
        "policy": policy.title,
        "cases": n,
        "hospitals": n_h,
        "case_classes": {name: int(np.sum(case_class == code))
                         for code, name in enumerate(class_rules.CLASS_NAMES)},
        "groups_with_cases": int(np.sum(reference.case_count > 0)),
        "unstable_groups_with_cases": int(np.sum((reference.case_count > 0)
                                                 & ~reference.stable)),
        "coefficient_clamps": reference.clamped_groups,
        **({} if rate_source is None else {
            "rate_by_level": dict(zip(levels, np.round(rate_by_level, 8).tolist(), strict=True)),
            "rate_source": rate_source}),
        "mean_cost_all_drg_cases": mean_cost_all,
        "warnings": warnings,
    })
    return Settlement(case_points, hospitals, indicator_table, summary, warnings, alliance_table)


PER_CASE = ("patient", "hospital", "level", "group", "cost", "fund_paid", "patient_paid",
            "self_pay", "unreasonable_cost", "length_of_stay", "admission_day", "discharge_day",
            "month", "review", "review_approved", "died", "transferred_48h",
            "rehabilitation_or_tcm", "deducted_points", "paid_by_item", "scheme", "per_diem",
            "day_surgery", "other_paid")


def mean_point_value(summary: dict) -> float | None:
    """A settled year's annual point value (§2.7); with separate scheme budgets the schemes'
    values weighted by their total points (what a point was worth on average); None if none."""
    if summary.get("annual_point_value") is not None:
        return summary["annual_point_value"]
    schemes = [s for s in (summary.get("schemes") or {}).values()
               if s.get("annual_point_value") is not None and s.get("total_points")]
    if not schemes:
        return None
    return (sum(s["annual_point_value"] * s["total_points"] for s in schemes)
            / sum(s["total_points"] for s in schemes))


# what a scheme's hospital money (:func:`_hospital_money`) reads of each case
MONEY_COLUMNS = ("hospital", "month", "cost", "fund_paid", "self_pay", "deducted_points")


def cases_where(cases: CaseTable, mask: np.ndarray,
                columns: tuple[str, ...] | None = None) -> CaseTable:
    """The cases of ``mask``, with the same hospitals (per-hospital results line up). With
    ``columns``, only those per-case columns are taken and the others are None (a reader of
    another column fails instead of reading the whole table's: issue 13, each column of a
    province year taken per scheme cost ~0.7 s a settlement)."""
    rows = np.flatnonzero(mask)  # a take by row numbers is ~3× a boolean selection, per column
    changes = {name: getattr(cases, name)[rows] if columns is None or name in columns else None
               for name in PER_CASE if getattr(cases, name) is not None}
    changes["case_id"] = (cases.case_id.take(pa.array(rows)) if columns is None
                          or "case_id" in columns else None)
    return replace(cases, **changes)


def _price_fund_share(cases: CaseTable, policy: Policy, on: dt.date) -> np.ndarray:
    """§5: the fund's share of each case's all-inclusive price. Fujian "由统筹基金和个人按规定比例
    分担" (the usual ratio): ``all_inclusive.fund_share`` by level, or, null, the case's scheme's
    ratio at its level (``patients.reimbursement_ratio``), which needs the scheme of each case."""
    given = policy.value("all_inclusive.fund_share", on)
    if given is not None:
        return _level_values(given, cases.levels)[cases.level]
    if cases.scheme is None:
        raise InputError(cases.source, "column scheme", "missing, but all_inclusive.fund_share "
                         "is null (each scheme's reimbursement ratio shares the price)",
                         "a scheme column (employee/resident, 职工/居民, 险种类型 310/390) or "
                         "all_inclusive.fund_share by level")
    ratio = policy.value("patients.reimbursement_ratio", on)
    table = np.array([[ratio[scheme][lv] for lv in cases.levels] for scheme in SCHEMES])
    return table[cases.scheme, cases.level]


def _separate_schemes(cases: CaseTable, policy: Policy, on: dt.date,
                      warnings: list[str]) -> bool:
    """Whether the year is settled with separate scheme budgets (§2.1): the policy says so and
    the case table says each case's scheme. A table without one is settled from one budget (the
    schemes' budgets added), with a warning; unless the policy gives a scheme's budget as an
    amount, which could not be paid to the right cases: then one line, nothing settled."""
    if policy.method not in POINT_FAMILY or not policy.value("budget.separate_schemes", on):
        return False
    if cases.scheme is not None:
        return True
    if any(v is not None for v in (policy.value("budget.by_scheme", on) or {}).values()):
        raise InputError(cases.source, "column scheme", "missing, but budget.by_scheme gives "
                         "each scheme its own budget", "a scheme column (employee/resident, "
                         "职工/居民, 险种类型 310/390) or budget.by_scheme: null")
    warnings.append("the case table has no scheme column: both schemes are settled from one DRG "
                    "budget (budget.separate_schemes needs each case's scheme, 险种类型)")
    return False


def _money_by_scheme(cases, policy, on, budget_override, case_class, points, extra, excluded,
                     patient_cash, warnings, assessment, rate_by_level):
    """§2.1 with separate scheme budgets (Guigang 第六条 "职工医保和居民医保的基金分别纳入drg总额
    预算"): each scheme's cases are paid from its own budget at its own point values, monthly and
    at year end (§2.6, §2.7); per hospital the two schemes' money is added up. Reference costs,
    coefficients and points are the same for both (one catalogue)."""
    given, given_as = _scheme_budgets(cases, policy, budget_override, excluded, warnings)
    first_warning = len(warnings)
    tables, summaries = [], {}
    for index, scheme in enumerate(SCHEMES):
        mask = cases.scheme == index
        months = np.asarray([np.nan if v is None else v for v in np.broadcast_to(
            np.asarray(given.get(scheme), dtype=object), (MONTHS,))], dtype=float)
        if not mask.any():
            if np.nansum(months) > 0:
                warnings.append(f"{scheme} DRG budget of ¥{np.nanmax(months):,.2f} but no "
                                f"{scheme} case in the table; that budget is not paid out")
            continue
        subset = cases_where(cases, mask, MONEY_COLUMNS)
        drg = mask & ~excluded
        # budget-neutral in months without one: the scheme's own DRG cases' fund payments
        budget = np.where(np.isnan(months), float(np.sum(cases.fund_paid[drg])), months)
        table, summary = _hospital_money(
            subset, policy, on, budget, case_class[mask], points[mask], extra[mask],
            excluded[mask], patient_cash[mask], warnings, assessment, rate_by_level)
        summary["budget_source"] = _scheme_budget_source(policy, cases.year, scheme, months,
                                                         given_as)
        # the caps and the year end are the hospital's, both schemes together (below): a scheme
        # shows what it pays before them
        summary["fund_payable_before_caps"] = round(float(table[
            "fund_payable_before_caps"].sum()), 2)
        summary.pop("totals", None)
        tables.append(table)
        summaries[scheme] = summary
    warnings[first_warning:] = list(dict.fromkeys(warnings[first_warning:]))
    merged = tables[0].copy()
    for table in tables[1:]:
        for column in merged.columns:
            if column not in ("hospital_id", "hospital_level"):
                merged[column] = merged[column] + table[column]
    for column in merged.columns:  # yuan sums to the cent
        if column not in ("hospital_id", "hospital_level", "cases", "points", "deducted_points"):
            merged[column] = merged[column].round(2)
    # §2.7 caps on what the hospital settles, both schemes together (a surplus on one scheme is
    # not cut while the other runs at a loss); then the year end again
    receipts = np.sum([s.pop("_receipts_cents") for s in summaries.values()], axis=0)
    drg = ~excluded
    drg_cost = _cents_per_hospital(cases, cases.cost, drg)
    surplus_cap = policy.value("settlement.surplus_cap", on)
    self_pay_cap = policy.value("settlement.self_pay_cap", on)
    n_h = cases.n_hospitals
    surplus_cut = np.zeros(n_h, dtype=np.int64) if surplus_cap is None else to_cents(
        money_rules.surplus_cap_deduction(receipts / 100, drg_cost / 100, surplus_cap))
    self_pay_cut = np.zeros(n_h, dtype=np.int64) if self_pay_cap is None else to_cents(
        money_rules.self_pay_cap_deduction(
            _cents_per_hospital(cases, cases.self_pay, drg) / 100, drg_cost / 100,
            self_pay_cap))
    before = to_cents(merged["fund_payable_before_caps"].to_numpy())
    payable = before - surplus_cut - self_pay_cut
    # each scheme's fund payable after the caps (for the scheme's fund, BEHAVIOUR §7): a
    # hospital's cut is shared between its schemes by their DRG cost there, to the cent
    # (assumed: Guigang gives no split)
    cut, left = surplus_cut + self_pay_cut, surplus_cut + self_pay_cut
    for position, (scheme, table) in enumerate(zip(summaries, tables, strict=True)):
        if position == len(summaries) - 1:
            part = left
        else:
            cost = _cents_per_hospital(cases, cases.cost, drg & (cases.scheme
                                                               == SCHEMES.index(scheme)))
            part = np.floor(cut * np.divide(cost, drg_cost, out=np.zeros(n_h),
                                            where=drg_cost > 0)).astype(np.int64)
        left = left - part
        summaries[scheme]["caps_deduction"] = int(part.sum()) / 100
        summaries[scheme]["fund_payable"] = int(
            to_cents(table["fund_payable_before_caps"].to_numpy()).sum() - part.sum()) / 100
    contribution = (to_cents(merged["pool_contribution"].to_numpy())
                    if "pool_contribution" in merged else np.zeros(n_h, dtype=np.int64))
    merged["fund_payable"] = payable / 100
    merged["surplus_cap_deduction"] = surplus_cut / 100
    merged["self_pay_cap_deduction"] = self_pay_cut / 100
    merged["year_end_payment"] = (money_rules.year_end_payment(
        payable, to_cents(merged["monthly_prepaid"].to_numpy()),
        to_cents(merged["january_advance"].to_numpy())) - contribution) / 100
    if "pool_payout" in merged:
        merged["fund_received"] = (payable - contribution
                                   + to_cents(merged["pool_payout"].to_numpy())) / 100
    summary = {"schemes": summaries,
               "budget": round(sum(s["budget"] for s in summaries.values()), 2),
               "budget_source": "by scheme (budget.separate_schemes)",
               "annual_point_value": None,
               "total_points": float(sum(s["total_points"] for s in summaries.values())),
               # the month's point value of the schemes together: their budgets over their
               # pre-review points (each scheme's own values are under "schemes")
               "monthly_point_values": _pooled_month_values(summaries),
               "monthly_budgets": np.sum([s["monthly_budgets"] for s in summaries.values()],
                                         axis=0).tolist(),
               "monthly_payments": np.sum([s["monthly_payments"] for s in summaries.values()],
                                          axis=0).tolist(),
               "monthly_deductions": np.sum([s["monthly_deductions"]
                                             for s in summaries.values()], axis=0).tolist(),
               "deducted_points_value": round(sum(s.get("deducted_points_value", 0.0)
                                                  for s in summaries.values()), 2),
               "fund_paid_by_item": round(sum(s["fund_paid_by_item"]
                                              for s in summaries.values()), 2)}
    if "pool_total" in next(iter(summaries.values())):
        summary["pool_total"] = round(sum(s["pool_total"] for s in summaries.values()), 2)
    summary.update(_totals(merged))
    total = summary["totals"]["fund_payable"]
    summary["drg_share_of_fund"] = (total - summary["fund_paid_by_item"]) / total \
        if total > 0 else None
    return merged, summary


def _scheme_budgets(cases: CaseTable, policy: Policy, budget_override, excluded: np.ndarray,
                    warnings: list[str]) -> tuple[dict, str | None]:
    """Each scheme's DRG budget in force in each month (NaN or None: budget-neutral) and where
    it came from. A model run passes them (a number or 12 each). One total — ``--budget``, or
    ``budget.annual`` under separate schemes — is shared between the schemes by their DRG cases'
    fund payments (to the cent for one amount), so that each keeps its own point value; else
    ``budget.by_scheme`` or ``budget.fund_total`` − ``budget.carve_outs`` (Guigang 第六条)."""
    if isinstance(budget_override, dict):
        return budget_override, "the model run's budget"
    year = cases.year
    if budget_override is not None:
        total, name = np.broadcast_to(np.asarray(budget_override, dtype=float), (MONTHS,)), \
            "--budget"
        own = {scheme: [None] * MONTHS for scheme in SCHEMES}
    else:
        own = scheme_budgets_in_year(policy, year)
        annual = annual_shared_by_schemes(policy, year, own)
        if all(v is None for v in annual):
            return own, None
        total = np.array([np.nan if v is None else v for v in annual], dtype=float)
        name = "budget.annual"
    drg = ~excluded
    paid = np.array([np.sum(cases.fund_paid[drg & (cases.scheme == i)])
                     for i in range(len(SCHEMES))])
    share = paid / paid.sum() if paid.sum() > 0 else np.full(len(SCHEMES), 1 / len(SCHEMES))
    given = {scheme: [own[scheme][m] if np.isnan(total[m]) else total[m] * share[i]
                      for m in range(MONTHS)] for i, scheme in enumerate(SCHEMES)}
    if not np.isnan(total).any() and np.all(total == total[0]):
        cents = allocate_cents(share * total[0], int(to_cents(total[0])))
        given = {scheme: cents[i] / 100 for i, scheme in enumerate(SCHEMES)}
        warnings.append(f"one DRG budget given ({name}) for separate scheme budgets: shared by "
                        "the schemes' DRG fund payments — " + ", ".join(
                            f"{scheme} ¥{cents[i] / 100:,.2f}"
                            for i, scheme in enumerate(SCHEMES)))
    return given, f"{name}, shared by the schemes' DRG fund payments"


def annual_shared_by_schemes(policy: Policy, year: int, own: dict | None = None
                             ) -> list[float | None]:
    """``budget.annual`` in force in each month of ``year`` under separate scheme budgets: one
    total for both schemes, to be shared between them; refused in a month where a scheme's own
    budget (``own``, :func:`scheme_budgets_in_year` when not given) is given too."""
    annual = policy.values_in_year("budget.annual", year)
    own = scheme_budgets_in_year(policy, year) if own is None else own
    for month, value in enumerate(annual):
        if value is not None and any(own[scheme][month] is not None for scheme in SCHEMES):
            raise InputError("budget.annual", f"{year}-{month + 1:02d}",
                             f"¥{value:,.2f} given while the schemes have their own budgets "
                             "(budget.by_scheme or budget.fund_total)",
                             "one of them (the other null)")
    return annual


def _pooled_month_values(summaries: dict) -> list[float | None]:
    """Σ monthly budget ÷ Σ pre-review points over the schemes (§2.6), by month; None in a month
    without points in any scheme."""
    budgets = np.array([s["monthly_budgets"] for s in summaries.values()], dtype=float)
    points = np.array([s["monthly_points"] for s in summaries.values()], dtype=float)
    budgets, points = np.where(points > 0, budgets, 0.0).sum(axis=0), points.sum(axis=0)
    return [float(b / p) if p > 0 else None for b, p in zip(budgets, points, strict=True)]


def _scheme_budget_source(policy: Policy, year: int, scheme: str, months: np.ndarray,
                          given_as: str | None) -> str:
    if given_as is not None:
        return given_as
    if np.isnan(months).all():
        return f"fund payments of the settled {scheme} DRG cases (budget-neutral)"
    named = (f"budget.by_scheme.{scheme}"
             if any((v or {}).get(scheme) is not None
                    for v in policy.values_in_year("budget.by_scheme", year))
             else "budget.fund_total − budget.carve_outs (Guigang 第六条)")
    return named if not np.isnan(months).any() else f"{named}, budget-neutral in months without one"


def _split_other_payers(hospitals: pd.DataFrame, summary: dict, cases: CaseTable,
                        patient_cash: np.ndarray) -> None:
    """Patients' cash and other payers shown apart; together (to the cent) what §2.7 counted."""
    together = to_cents(hospitals["patient_paid"].to_numpy())
    patients = _cents_per_hospital(cases, patient_cash)
    hospitals["patient_paid"] = patients / 100
    hospitals.insert(hospitals.columns.get_loc("patient_paid") + 1, "other_paid",
                     (together - patients) / 100)
    summary["totals"]["patient_paid"] = round(float(patients.sum()) / 100, 2)
    summary["totals"]["other_paid"] = round(float((together - patients).sum()) / 100, 2)


def _describe_hospitals(hospitals: pd.DataFrame, cases: CaseTable) -> None:
    """Names and sub-grades (甲/乙/丙 as A/B/C) where the case table carries them."""
    if cases.hospital_grades is not None:
        hospitals.insert(2, "hospital_grade", cases.hospital_grades)
    if cases.hospital_names is not None:
        hospitals.insert(1, "hospital_name", cases.hospital_names)


def _per_hospital(cases: CaseTable, values, mask=None) -> np.ndarray:
    weights = values if mask is None else np.where(mask, values, 0.0)
    return np.bincount(cases.hospital, weights=weights, minlength=cases.n_hospitals)


def _per_hospital_month(cases: CaseTable, values) -> np.ndarray:
    key = cases.hospital * MONTHS + cases.month
    return np.bincount(key, weights=values, minlength=cases.n_hospitals * MONTHS).reshape(
        cases.n_hospitals, MONTHS)


def _cents_per_hospital(cases: CaseTable, yuan, mask=None) -> np.ndarray:
    """Sum of per-case amounts in whole cents (each case's amount rounded first)."""
    return _per_hospital(cases, to_cents(yuan).astype(float), mask).astype(np.int64)


def _cents_all_and_where(cases: CaseTable, yuan, mask) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_cents_per_hospital` of all cases and of ``mask``'s, each case rounded once."""
    cents = to_cents(yuan).astype(float)
    return (_per_hospital(cases, cents).astype(np.int64),
            _per_hospital(cases, cents, mask).astype(np.int64))


def _hospital_money(cases, policy, on, budget_override, case_class, points, extra, excluded,
                    patient_cash, warnings, assessment_override=None, rate_by_level=None):
    """§2.6, §2.7, §3, §4, §5: what each hospital is paid, month by month and at year end."""
    method, n_h, levels = policy.method, cases.n_hospitals, cases.levels
    drg = ~excluded
    cost_cents, drg_cost_cents = _cents_all_and_where(cases, cases.cost, drg)
    cash_cents, drg_cash_cents = _cents_all_and_where(cases, patient_cash, drg)
    ffs_fund_cents, item_fund_cents = _cents_all_and_where(cases, cases.fund_paid, excluded)
    self_pay_cents = _cents_per_hospital(cases, cases.self_pay, drg)
    deducted = (np.zeros(n_h) if cases.deducted_points is None
                else _per_hospital(cases, cases.deducted_points))
    # §2.5, §2.7: annual total points before deductions; a hospital's are approved − deducted
    total_points, hospital_points = money_rules.annual_points(_per_hospital(cases, points),
                                                              deducted)
    table = pd.DataFrame({
        "hospital_id": cases.hospital_ids,
        "hospital_level": np.asarray(levels, dtype=object)[cases.hospital_level],
        "cases": np.bincount(cases.hospital, minlength=n_h),
        "points": hospital_points,
        "deducted_points": deducted,
        "cost": cost_cents / 100,
        "patient_paid": cash_cents / 100,
        "ffs_fund_paid": ffs_fund_cents / 100,
    })
    summary: dict = {}
    if method == "ffs":
        for column in ("fund_payable_before_caps", "fund_payable", "monthly_prepaid"):
            table[column] = ffs_fund_cents / 100
        table["january_advance"] = 0.0
        table["year_end_payment"] = 0.0
        table["deducted_points_value"] = 0.0
        summary.update(_totals(table), annual_point_value=None, total_points=total_points,
                       budget=None, monthly_point_values=None, deducted_points_value=0.0,
                       fund_paid_by_item=int(ffs_fund_cents.sum()) / 100,
                       drg_share_of_fund=0.0)  # §7: fee-for-service pays every case by item
        return table, summary

    year = cases.year
    # §2.6: each month's payment (and the extras paid with it) at that month's prepay ratio
    prepay = np.asarray(policy.values_in_year("settlement.prepay_ratio", year), dtype=float)
    assessment = (policy.value("settlement.assessment_coefficient", on)
                  if assessment_override is None else np.asarray(assessment_override, float))
    incentive = None
    if method == "pool":
        # §4 (Shanwei): most of each month's allocation is prepaid and "the rest goes into the
        # incentive pool" (将剩余的基金额度纳入激励机制基金池): the pool takes the place of the
        # quality deposit, so the allocation is not cut by settlement.prepay_ratio as well.
        prepay = 1.0
        incentive = pool_incentive(policy, on, cases, assessment, warnings)
        if np.ndim(assessment) > 0 and policy.value("pool.incentive_coefficients", on) is None:
            assessment = 1.0  # the bureau's per-hospital score shares out the pool instead
    whole_share = np.asarray(policy.values_in_year("settlement.whole_group_monthly_share", year),
                             dtype=float)[cases.month]  # by the case's month
    pre_points = point_rules.pre_review_points(case_class, points, extra, whole_share)
    pre_points_hm = _per_hospital_month(cases, np.where(drg, pre_points, 0.0))
    cash_hm = _per_hospital_month(cases, np.where(drg, patient_cash, 0.0))
    extra_hm = _per_hospital_month(cases, extra)  # by the month the cases belong to
    deducted_hm = (None if cases.deducted_points is None
                   else _per_hospital_month(cases, cases.deducted_points))

    if method in POINT_FAMILY:
        fund_drg = float(np.sum(cases.fund_paid[drg]))
        # the annual budget in force in each month (§2.1; Guigang 第七条: adjusted in the year)
        if budget_override is not None:
            by_month = np.broadcast_to(np.asarray(budget_override, dtype=float), (MONTHS,))
            budget_source = "--budget"
        else:
            given, named = annual_budget_in_year(policy, year)
            by_month = np.array([fund_drg if v is None else float(v) for v in given])
            budget_source = (named if all(v is not None for v in given)
                             else "fund payments of the settled DRG cases (budget-neutral)"
                             if all(v is None for v in given) else
                             f"{named}, budget-neutral in months without one")
        shares = monthly_shares_in_year(
            policy, year, np.bincount(cases.month[drg], weights=cases.fund_paid[drg],
                                      minlength=MONTHS), warnings)
        # §2.6 monthly budget = annual budget (in force that month) × the month's share; a
        # budget changed inside the year makes the year's budget the sum of its months' budgets
        budgets = money_rules.monthly_budgets(by_month, shares)
        budget = (float(by_month[0]) if np.all(by_month == by_month[0])
                  else float(np.sum(budgets)))
        if total_points <= 0:  # every case paid by item: no DRG points to share a budget over
            if budget > 0:
                warnings.append(f"no case is paid by DRG points ({len(cases):,} case(s), all "
                                f"paid by item): the DRG budget of ¥{budget:,.2f} is not paid "
                                "out")
            budget, budgets = 0.0, np.zeros(MONTHS)
        budget_cents = int(to_cents(budget))
        month_value = money_rules.monthly_point_value(budgets, pre_points_hm.sum(axis=0))
        annual_value = (money_rules.annual_point_value(
            float(np.sum(cases.cost[drg])), fund_drg, budget, total_points)
            if total_points > 0 else 0.0)
        value_of_hospital_month = np.broadcast_to(month_value, (n_h, MONTHS))
        if np.ndim(assessment) > 0 and np.any(np.asarray(assessment) > 1.0):
            # reward points inside the budget: paid out of what the penalties keep (§2.1)
            scored = np.asarray(assessment, dtype=float)
            assessment = assessment_rules.rewards_within_budget(
                money_rules.hospital_receipts(hospital_points, annual_value, 1.0), scored)
            summary["assessment_applied"] = assessment.tolist()
        receipts = money_rules.hospital_receipts(hospital_points, annual_value, assessment)
        # deducted points are valued like the others and kept by the fund (§2.7)
        kept = money_rules.hospital_receipts(deducted, annual_value, assessment)
        # the budget plus patients' cash is spread over all points to the cent (§2.7)
        spread_cents = budget_cents + int(drg_cash_cents.sum())
        total_cents = (int(round(spread_cents * assessment)) if np.ndim(assessment) == 0
                       else int(round(float(np.sum(receipts + kept)) * 100)))
        if np.any(deducted != 0):
            both = allocate_cents(np.concatenate([receipts, kept]), total_cents)
            receipts_cents, kept_cents = both[:n_h], both[n_h:]
        else:
            receipts_cents, kept_cents = allocate_cents(receipts, total_cents), np.zeros(
                n_h, dtype=np.int64)
        summary.update(budget=budget_cents / 100, budget_source=budget_source,
                       annual_point_value=annual_value, total_points=total_points,
                       monthly_budgets=[float(b) for b in budgets],
                       monthly_points=pre_points_hm.sum(axis=0).tolist(),
                       monthly_point_values=[None if np.isnan(v) else float(v)
                                             for v in month_value])
    else:  # rate and all-inclusive: a fixed point value per level (§3, §5)
        value_of_level = rate_rules.rate_point_value(rate_by_level)
        hospital_value = value_of_level[cases.hospital_level]
        value_of_hospital_month = np.repeat(hospital_value[:, None], MONTHS, axis=1)
        receipts = money_rules.hospital_receipts(hospital_points, hospital_value, assessment)
        receipts_cents = to_cents(receipts)
        kept_cents = to_cents(money_rules.hospital_receipts(deducted, hospital_value, assessment))
        summary.update(budget=None, annual_point_value=None,
                       total_points=total_points, monthly_point_values=None,
                       point_value_by_level=dict(zip(levels, value_of_level.tolist(),
                                                     strict=True)))

    # §2.6 monthly payments; approved extras of quarter q paid with month 3(q+1), each at the
    # point value of its case's month (对应月月度点值)
    # audit deductions of quarter q taken from month 3(q+1) at their cases' months' point
    # values (Guigang 第十八条(三)(四)); the year end nets them in any case (§2.7)
    deduction = (0.0 if deducted_hm is None else money_rules.monthly_deduction_value(
        deducted_hm, value_of_hospital_month))
    allocation = money_rules.monthly_payment(
        np.nan_to_num(pre_points_hm), np.nan_to_num(value_of_hospital_month), cash_hm, prepay,
        approved_extra_value=money_rules.approved_extra_value(extra_hm,
                                                              value_of_hospital_month))
    allocation_cents = to_cents(allocation)
    contribution_cents = np.zeros(n_h, dtype=np.int64)
    if method == "pool":
        contribution_hm = to_cents(pool_rules.pool_contribution(
            allocation_cents / 100, policy.value("pool.share", on)))
        allocation_cents = allocation_cents - contribution_hm
        contribution_cents = contribution_hm.sum(axis=1)
    deduction_hm = to_cents(deduction) if np.ndim(deduction) else np.zeros_like(allocation_cents)
    allocation_cents = allocation_cents - deduction_hm  # after the pool: not shared into it
    summary["monthly_deductions"] = (deduction_hm.sum(axis=0) / 100).tolist()
    item_hm = to_cents(_per_hospital_month(cases, np.where(excluded, cases.fund_paid, 0.0)))
    monthly_cents = allocation_cents.sum(axis=1) + item_hm.sum(axis=1)
    summary["monthly_payments"] = ((allocation_cents + item_hm).sum(axis=0) / 100).tolist()

    # §2.7 year end, caps after the formula
    before_caps = money_rules.fund_payable_before_caps(receipts_cents, drg_cash_cents) \
        + item_fund_cents
    surplus_cap = policy.value("settlement.surplus_cap", on)
    self_pay_cap = policy.value("settlement.self_pay_cap", on)
    surplus_cut = np.zeros(n_h, dtype=np.int64) if surplus_cap is None else to_cents(
        money_rules.surplus_cap_deduction(receipts_cents / 100, drg_cost_cents / 100,
                                          surplus_cap))
    self_pay_cut = np.zeros(n_h, dtype=np.int64) if self_pay_cap is None else to_cents(
        money_rules.self_pay_cap_deduction(self_pay_cents / 100, drg_cost_cents / 100,
                                           self_pay_cap))
    payable = before_caps - surplus_cut - self_pay_cut
    summary["_receipts_cents"] = receipts_cents  # for caps on a hospital's schemes together
    advance = to_cents(money_rules.january_advance(
        ffs_fund_cents / 100, policy.value("settlement.advance_months", on)))
    year_end = money_rules.year_end_payment(payable, monthly_cents, advance) - contribution_cents

    table["fund_payable_before_caps"] = before_caps / 100
    table["fund_payable"] = payable / 100
    table["monthly_prepaid"] = monthly_cents / 100
    table["january_advance"] = advance / 100
    table["year_end_payment"] = year_end / 100
    table["surplus_cap_deduction"] = surplus_cut / 100
    table["self_pay_cap_deduction"] = self_pay_cut / 100
    table["deducted_points_value"] = kept_cents / 100  # kept by the fund (§2.7)
    summary["deducted_points_value"] = int(kept_cents.sum()) / 100
    if method == "pool":
        payout = allocate_cents(pool_rules.pool_payouts(contribution_cents / 100, incentive),
                                int(contribution_cents.sum()))
        table["pool_contribution"] = contribution_cents / 100
        table["pool_payout"] = payout / 100
        table["fund_received"] = (payable - contribution_cents + payout) / 100
        summary["pool_total"] = int(contribution_cents.sum()) / 100
    summary.update(_totals(table))
    # §7: the share of inpatient fund spending paid by DRG (the rest: cases paid by item)
    total_fund = int(payable.sum())
    summary["fund_paid_by_item"] = int(item_fund_cents.sum()) / 100
    summary["drg_share_of_fund"] = ((total_fund - int(item_fund_cents.sum())) / total_fund
                                    if total_fund > 0 else None)
    return table, summary


def assessment_weights(policy: Policy, on: dt.date) -> dict[str, float]:
    """Each §6 indicator's weight in the assessment: ``settlement.assessment_<name>_weight``."""
    paths = {name: f"settlement.assessment_{name}_weight" for name in assessment_rules.INDICATORS}
    return {name: float(policy.value(path, on)) for name, path in paths.items()
            if policy.has(path)}


def scored_assessment(policy: Policy, on: dt.date, indicators: dict, n_hospitals: int,
                      warnings: list[str] | None = None) -> np.ndarray:
    """Each hospital's assessment coefficient (§2.7 考核系数, §2.8, §6) by
    :func:`sim.rules.assessment.coefficients` from ``settlement.assessment_coefficient`` (the
    base), ``settlement.assessment_floor``, ``settlement.assessment_ceiling`` (rewards above the
    base when it is higher) and the weights; an indicator with a weight but no
    values is skipped, and named in ``warnings``."""
    weights = assessment_weights(policy, on)
    skipped = [name for name, weight in weights.items() if weight and indicators.get(name) is None]
    if skipped and warnings is not None:
        warnings.append(f"assessment: {', '.join(skipped)} not scored (growth needs last year's "
                        "figures, referrals a column the case table does not have)")
    ceiling = (policy.value("settlement.assessment_ceiling", on)
               if policy.has("settlement.assessment_ceiling") else None)
    return assessment_rules.coefficients(
        indicators, weights, policy.value("settlement.assessment_floor", on),
        policy.value("settlement.assessment_coefficient", on), n_hospitals, ceiling)


def pool_incentive(policy: Policy, on: dt.date, cases: CaseTable, assessment,
                   warnings: list[str]) -> np.ndarray:
    """Each hospital's incentive coefficient for the pool (§4): ``pool.incentive_coefficients``
    where the policy gives them; else the per-hospital scored assessment (鼓励系数 from the
    bureau's quality scoring: a model run's, or settle's with
    ``settlement.assessment_scored_in_settle``); else 1 (the pool is returned as paid in)."""
    coefficients = policy.value("pool.incentive_coefficients", on)
    if coefficients is None:
        if np.ndim(assessment) > 0:
            return np.asarray(assessment, dtype=float)
        return np.ones(cases.n_hospitals)
    unknown = sorted(set(coefficients) - set(cases.hospital_ids))
    if unknown:
        warnings.append(f"pool.incentive_coefficients names hospital(s) without cases: "
                        f"{', '.join(map(str, unknown[:5]))}")
    return np.array([coefficients.get(h, 1.0) for h in cases.hospital_ids])


def alliances_in_force(policy: Policy, on: dt.date, region_alliances: tuple[Alliance, ...] = ()
                       ) -> tuple[tuple[Alliance, ...], str | None]:
    """The county alliances of the year (§2.8) and where they come from: the policy's
    ``alliances.members`` when it names any, else the region's (model runs), else none."""
    named = parse_alliances(policy.value("alliances.members", on)) \
        if policy.has("alliances.members") else ()
    if named:
        return named, "policy alliances.members"
    if region_alliances:
        return tuple(region_alliances), "region file (alliances)"
    return (), None


def locate_alliances(alliances: tuple[Alliance, ...], hospital_ids, policy: Policy,
                     source: str | None, cases_source: str, warnings: list[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Each hospital's alliance (−1: none) and each alliance's lead (a hospital index) among
    ``hospital_ids``; a lead that is not among them is an error (its package would go nowhere),
    members that are not are named in a warning and left out (no cases, nothing to account)."""
    alliance_of, lead, missing = indexed(alliances, hospital_ids)
    file = (policy.parameters["alliances.members"].file
            if source and source.startswith("policy") else "region file")
    for alliance, where in zip(alliances, lead, strict=True):
        if where < 0:
            raise InputError(file, f"alliances.members, alliance {alliance.name}",
                             f"lead {alliance.lead} has no cases in {cases_source}",
                             "a lead hospital among the hospital_id values settled")
    if missing:
        warnings.append(f"alliances ({source}) name hospital(s) without cases, left out: "
                        f"{', '.join(missing[:5])}" + (f" and {len(missing) - 5} more"
                                                        if len(missing) > 5 else ""))
    return alliance_of, lead


# the hospital table's amounts that a package sums (§2.8), where present
PACKAGE_COLUMNS = ("cost", "patient_paid", "other_paid", "ffs_fund_paid",
                   "fund_payable_before_caps", "surplus_cap_deduction", "self_pay_cap_deduction",
                   "deducted_points_value", "fund_payable", "monthly_prepaid", "january_advance",
                   "year_end_payment", "pool_contribution", "pool_payout", "fund_received")


def alliance_packages(hospitals: pd.DataFrame, alliances: tuple[Alliance, ...], source: str,
                      policy: Policy, on: dt.date, cases_source: str, summary: dict,
                      warnings: list[str]) -> pd.DataFrame:
    """County alliances (§2.8; Guigang 第八条 "各成员单位drg付费等进行单独核算,经牵头医疗机构提出,
    医保经办机构可统一打包支付给牵头医疗机构"): every member keeps the amounts it was settled
    (separate accounting); ``hospitals`` gains ``alliance`` (its alliance's name, empty for
    none) and ``paid_to`` (the hospital its money is paid to: the lead with
    ``alliances.package_to_lead``, else itself); returns one row per alliance with its package
    — each amount the sum of its members' to the cent (:func:`sim.rules.alliances.
    package_cents`) — and puts the same under ``summary["alliances"]``."""
    ids = hospitals["hospital_id"].astype(str).to_numpy()
    alliance_of, lead = locate_alliances(alliances, ids, policy, source, cases_source, warnings)
    package_to_lead = bool(policy.value("alliances.package_to_lead", on))
    names = np.array([a.name for a in alliances] + [None], dtype=object)
    hospitals.insert(hospitals.columns.get_loc("hospital_level") + 1, "alliance",
                     names[alliance_of])
    hospitals["paid_to"] = ids[alliance_rules.paid_to(alliance_of, lead, package_to_lead)]
    table = pd.DataFrame({
        "alliance": [a.name for a in alliances],
        "lead": [a.lead for a in alliances],
        "members": [";".join(ids[alliance_of == index]) for index in range(len(alliances))],
        "paid_to": [a.lead if package_to_lead else None for a in alliances],
        "cases": np.bincount(alliance_of[alliance_of >= 0],
                             weights=hospitals["cases"].to_numpy()[alliance_of >= 0],
                             minlength=len(alliances)).astype(np.int64),
        "points": np.bincount(alliance_of[alliance_of >= 0],
                              weights=hospitals["points"].to_numpy()[alliance_of >= 0],
                              minlength=len(alliances)),
    })
    for column in PACKAGE_COLUMNS:
        if column in hospitals:
            table[column] = alliance_rules.package_cents(
                to_cents(hospitals[column].to_numpy()), alliance_of, len(alliances)) / 100
    summary["alliances"] = {
        "source": source, "package_to_lead": package_to_lead,
        "packages": table.replace({np.nan: None}).to_dict(orient="records")}
    return table


def _totals(table: pd.DataFrame) -> dict:
    columns = ["cost", "patient_paid", "ffs_fund_paid", "fund_payable_before_caps",
               "fund_payable", "monthly_prepaid", "january_advance", "year_end_payment"]
    return {"totals": {c: round(float(table[c].sum()), 2) for c in columns}}


def planned_treatment(cases: CaseTable, catalogue: Catalogue, policy: Policy,
                      on: dt.date) -> np.ndarray:
    """Cases left out of the 15-day readmission rate (§6): scheduled treatment (the ADRG
    families of ``indicators.readmission_excluded_adrgs``) and per-diem stays."""
    families = policy.value("indicators.readmission_excluded_adrgs", on) \
        if policy.has("indicators.readmission_excluded_adrgs") else None
    planned = np.zeros(len(cases), dtype=bool)
    if families:
        planned |= catalogue.table["adrg"].isin(families).to_numpy()[cases.group]
    if cases.per_diem is not None:
        planned |= np.asarray(cases.per_diem, dtype=bool)
    return planned


def hospital_indicators(cases: CaseTable, base, case_class,
                        planned: np.ndarray | None = None) -> pd.DataFrame:
    """§6 indicators per hospital; ``planned`` cases are left out of the readmission rate."""
    n_h, n_g = cases.n_hospitals, int(cases.group.max()) + 1
    readmitted = indicator_rules.readmitted_within(cases.patient, cases.admission_day,
                                                   cases.discharge_day, 15, planned)
    return pd.DataFrame({
        "hospital_id": cases.hospital_ids,
        "cases": np.bincount(cases.hospital, minlength=n_h),
        "cmi": indicator_rules.case_mix_index(cases.hospital, base, n_h),
        "cost_consumption_index": indicator_rules.consumption_index(
            cases.hospital, cases.group, cases.cost, n_h, n_g),
        "time_consumption_index": indicator_rules.consumption_index(
            cases.hospital, cases.group, cases.length_of_stay, n_h, n_g),
        "admissions_per_person": indicator_rules.admissions_per_person(
            cases.hospital, cases.patient, n_h),
        "readmission_15d_rate": indicator_rules.share(
            cases.hospital, readmitted, n_h, None if planned is None else ~planned),
        "low_multiple_share": indicator_rules.share(cases.hospital,
                                                    case_class == class_rules.LOW, n_h),
        "high_multiple_share": indicator_rules.share(cases.hospital,
                                                     case_class == class_rules.HIGH, n_h),
        "self_pay_ratio": indicator_rules.self_pay_ratio(cases.hospital, cases.self_pay,
                                                         cases.cost, n_h),
    })
