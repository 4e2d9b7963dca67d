"""RegionModel: hospitals (Mesa agents), patients (columns) and the bureau, month by month.

The month, in straight-line calls (``month_flow``; ARCHITECTURE §2):
1. incidence: new episodes by scheme, age, county, family and severity (``incidence`` stream);
2. choice: patients choose among reachable hospitals; capability refers up; hospitals refuse
   expected losses (selection lever; basic cases are referred down); capacity spills over;
3. volume induction adds light marginal admissions (induction lever);
4. treatment: cost and stay at the hospital (efficiency, cost cutting); readmissions (risk rises
   with cost cutting) and split admissions (split lever) add cases;
5. coding: a case with a higher-severity sibling is coded up with the upcoding lever's chance;
6. cost sharing: fund, patient and self-pay parts of every case (policy ``patients.*``).
Quarter ends run the sample audit; the year end settles the year with ``sim.settlement.settle``
(the same tested rules as ``drgsim settle``), books the fund, records metrics and lets each
hospital learn; January publishes the bureau's catalogue, the budget and the expected point value.
The calendar that calls these in order is ``sim.model.calendar`` (SimPy). Before the first year, a
burn-in year under fee-for-service gives "last year's data" (§1) and calibrates base costs so that
mean cost per admission by level matches the region file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import mesa
import numpy as np
import pandas as pd
import pyarrow as pa

from agents import bureau
from agents import patients as patient_flow
from agents.hospital import LEVERS, Hospital, Observation
from sim.inputs.behaviour import with_behaviour
from sim.inputs.cases import REVIEW_NONE, REVIEW_SPECIAL, CaseTable
from sim.inputs.catalogue import Catalogue
from sim.inputs.policy import POINT_FAMILY, RATE_FAMILY, Policy, load_policy
from sim.inputs.region import LEVELS, SCHEMES, Region, build_region
from sim.model.fund import RESERVE_WARNING_MONTHS, FundLedger, reserve_warnings
from sim.model.metrics import YearRecorder
from sim.model.streams import Streams
from sim.resources import shipped
from sim.rules import rate as rate_rules
from sim.rules.points import complication_base_points
from sim.settlement import (
    alliances_in_force,
    annual_budget_in_year,
    annual_shared_by_schemes,
    assessment_weights,
    budget_neutral_rates,
    coefficient_table,
    locate_alliances,
    mean_point_value,
    mid_year_warnings,
    rate_per_level,
    scheme_budgets_in_year,
    scored_assessment,
    settle,
)

CASE_COLUMNS = ("hospital", "level", "scheme", "true_group", "coded_group", "cost", "fund_paid",
                "patient_paid", "self_pay", "length_of_stay", "month", "upcoded", "readmitted",
                "follow_up", "induced", "referred_up", "referred_down", "refused",
                "referred_from", "discharge_day", "patient")


@dataclass
class YearState:
    """What is fixed for the year being simulated."""

    year: int
    index: int                       # 0 for the burn-in year, 1 for the first simulated year
    policy: Policy
    on: dt.date
    catalogue: Catalogue
    base_points: np.ndarray          # per group, from the year's catalogue
    coefficient: np.ndarray          # group × level, as the settlement will apply it
    point_value: np.ndarray          # expected yuan per point by level (nan under FFS)
    # the DRG budget: a number, or 12 when it changes inside the year (issue 9); by scheme
    # ({scheme: number or 12}) with budget.separate_schemes (§2.1)
    budget: float | np.ndarray | dict | None
    neutral_rate: np.ndarray | None  # budget-neutral rate per level from last year (§1.5)
    covered_hospital: np.ndarray     # hospitals paid under DRG this year (§7 rollout)
    covered_group: np.ndarray        # groups paid under DRG in covered hospitals (§7)

    @cached_property
    def payment(self) -> np.ndarray:
        """Base points × coefficient × expected point value per group and level, flat (group ×
        levels + level), made once per year: one gather per case instead of three (issue 13);
        the same products in the same order, so the same numbers."""
        return (self.base_points[:, None] * self.coefficient * self.point_value[None, :]).ravel()


def budget_total(budget) -> float | None:
    """The year's DRG budget in yuan: the mean of 12 months' budgets in force, schemes added."""
    if budget is None:
        return None
    if isinstance(budget, dict):
        return float(sum(np.mean(value) for value in budget.values()))
    return float(np.mean(budget))


def _check_budgets(policy: Policy, start_year: int, years: int) -> None:
    """Contradicting budgets (§2.1) refused in one line before any work: a budget given two
    ways for the same month, or carve-outs without a fund total."""
    if not policy.has("budget.separate_schemes"):
        return
    for year in range(start_year, start_year + years):
        if policy.value("budget.separate_schemes", dt.date(year, 1, 1)):
            annual_shared_by_schemes(policy, year)
        else:
            annual_budget_in_year(policy, year)


def _one_or_twelve(months: list[float]) -> float | np.ndarray:
    return months[0] if len(set(months)) == 1 else np.array(months)


class RegionModel(mesa.Model):
    """A region that responds to a payment policy (see module docstring for the step order)."""

    def __init__(self, region_config: dict, policy: Policy, start_year: int = 2023,
                 years: int = 5, seed: int = 0, scale: float = 1.0):
        super().__init__(rng=seed)
        self.streams = Streams(seed)
        # behavioural values a reform or sweep sets hold for the whole run (sim.inputs.behaviour)
        region_config = with_behaviour(region_config, policy.behaviour)
        self.config = region_config
        self.behaviour = region_config["behaviour"]
        self.policy = policy
        self.start_year = start_year
        self.years = years
        self.scale = scale
        _check_budgets(policy, start_year, years)
        self.region: Region = build_region(region_config, self.streams.sequence("region"))
        region = self.region
        self.hospitals = [Hospital(self, i, int(region.hospital_level[i]),
                                   int(region.hospital_county[i]), region.hospital_beds[i],
                                   bool(region.hospital_private[i]),
                                   region.hospital_efficiency[i],
                                   region.hospital_coding_capacity[i])
                          for i in range(region.n_hospitals)]
        self.groups_by_rank = patient_flow.group_table(region)
        self.incidence_tables = patient_flow.incidence_tables(region)
        self.recorder = YearRecorder(region)
        self.monthly_rows: list[dict] = []
        self.cases: list[dict] = []
        self.patient_counter = 0
        self.capacity_left = np.zeros(region.n_hospitals)
        self.ffs_policy = load_policy(shipped("policies", "ffs", ".yaml"))
        self._calibrate_costs()
        self.state: YearState | None = None
        self.last_year: dict | None = None
        self.last_settlement = None
        self.assessment_last: dict | None = None  # last year's cost per case and CMI (§2.8)
        self.budget: float | np.ndarray | dict | None = None
        self.last_scheme_spending: np.ndarray | None = None  # DRG fund payable by scheme
        self.warnings: list[str] = []  # dated values changed inside a year and not applied
        self.neutral_rate: np.ndarray | None = None
        self.ledger: FundLedger | None = None
        self._check_alliances()

    def _check_alliances(self) -> None:
        """Before any work: the policy's alliances (§2.8) name hospitals of the region (a lead
        that is not one is an error, other members a warning) in every year of the run."""
        for year in range(self.start_year, self.start_year + self.years):
            alliances, source = alliances_in_force(self.policy, dt.date(year, 1, 1),
                                                   self.region.alliances)
            if alliances:
                locate_alliances(alliances, self.region.hospital_ids, self.policy, source,
                                 f"the region {self.region.title!r}", self.warnings)
        self.warnings = list(dict.fromkeys(self.warnings))

    def alliance_of(self, policy: Policy, on: dt.date) -> np.ndarray | None:
        """Each hospital's county alliance in force (−1: none), or None without alliances."""
        alliances, _ = alliances_in_force(policy, on, self.region.alliances)
        if not alliances:
            return None
        return locate_alliances(alliances, self.region.hospital_ids, policy, None, "", [])[0]

    # ------------------------------------------------------------------ levers
    def levers(self) -> dict[str, np.ndarray]:
        return {lever: np.array([getattr(h, lever) for h in self.hospitals]) for lever in LEVERS}

    def cost_factor(self, cost_cutting: np.ndarray) -> np.ndarray:
        """Yuan per unit of need at each hospital (level base cost × efficiency × cutting)."""
        region = self.region
        return (region.base_cost[region.hospital_level] * region.hospital_efficiency
                * (1 - self.behaviour["cut_depth"] * cost_cutting))

    # ------------------------------------------------------------------ set-up
    def _calibrate_costs(self) -> None:
        """Scale base cost per level so that mean cost per admission matches the region file
        (on one month of episodes; a built region's on a year of them)."""
        region = self.region
        targets = region.base_cost.copy()
        expected = patient_flow.monthly_expected_admissions(region, 0)
        if region.listed_ids is not None:
            # a built region promises its input year's cost per case by level (±3%): calibrate
            # on a year of episodes, not one month (whose mean need per level is ±2% noise)
            expected = expected * 12
        zero = np.zeros(region.n_hospitals)
        for _ in range(2):
            rng = self.streams.get("calibration")
            episodes = patient_flow.draw_episodes(region, expected, rng, self.groups_by_rank,
                                                  self.scale, self.incidence_tables)
            deductible, ratio = self._cost_sharing(self.ffs_policy, dt.date(self.start_year, 1, 1))
            choice = patient_flow.choose_hospitals(
                region, episodes, self.cost_factor(zero), deductible, ratio,
                lambda rows, hospital: np.zeros(len(rows)), np.full(region.n_hospitals, np.inf),
                rng, rng)
            level = region.hospital_level[choice.hospital]
            need = episodes.need * region.hospital_efficiency[choice.hospital]
            for index in range(len(LEVELS)):
                mean_need = need[level == index].mean() if np.any(level == index) else 1.0
                region.base_cost[index] = targets[index] / mean_need

    def _cost_sharing(self, policy: Policy, on: dt.date) -> tuple[np.ndarray, np.ndarray]:
        deductible = policy.value("patients.deductible", on)
        ratio = policy.value("patients.reimbursement_ratio", on)
        return (np.array([[deductible[s][lv] for lv in LEVELS] for s in SCHEMES], dtype=float),
                np.array([[ratio[s][lv] for lv in LEVELS] for s in SCHEMES], dtype=float))

    # ------------------------------------------------------------------ January
    def year_start(self, year_index: int) -> None:
        """Budget, the bureau's catalogue, expected point value, hospitals' strategy updates."""
        year = self.start_year + year_index - 1
        on = dt.date(year, 1, 1)
        burn_in = year_index == 0
        policy = self.ffs_policy if burn_in else self.policy
        region = self.region
        if burn_in:
            catalogue = region.catalogue
        else:
            catalogue = bureau.year_catalogue(region, self.state.catalogue, self.last_year,
                                              policy, on, first_year=year_index == 1,
                                              scale=self.scale)
        base = complication_base_points(
            np.round(catalogue.weights * 100, 8), catalogue.family_ids(),
            catalogue.table["severity_rank"].to_numpy(),
            policy.value("weights.complication_multiplier", on))
        coefficient = self._coefficients(catalogue, policy, on)
        budget = self._budget(policy, year) if policy.method in POINT_FAMILY else None
        covered_hospital, covered_group = self._rollout(policy, on)
        neutral_rate = None
        if policy.method in RATE_FAMILY and policy.value("rate.base_rate", on) is None:
            neutral_rate = self.neutral_rate
            if neutral_rate is None or policy.value("revision.rates_yearly", on):
                neutral_rate = self._neutral_rate(base, coefficient, covered_hospital,
                                                  covered_group)
        self.neutral_rate = neutral_rate
        point_value = self._expected_point_value(policy, on, base, coefficient,
                                                 budget_total(budget), neutral_rate)
        self.state = YearState(year, year_index, policy, on, catalogue, base, coefficient,
                               point_value, budget, neutral_rate, covered_hospital,
                               covered_group)
        self.budget = budget
        self.cases = []
        if not burn_in:
            self._adapt_hospitals(year)

    def _budget(self, policy: Policy, year: int) -> float | np.ndarray | dict:
        """The DRG budget in force in each month of ``year`` (§2.1): one for both schemes, or
        one per scheme with ``budget.separate_schemes`` (Guigang 第六条). A month's budget is
        given (budget.annual / budget.by_scheme, or budget.fund_total − budget.carve_outs),
        else last year's grown by that month's ``budget.annual_growth`` (issue 9: a budget or a
        growth rate changed inside the year changes the months from then on; settle makes the
        year's budget the sum of the months' budgets, annual budget in force × month's share).
        Last year's is its budget, or, after fee-for-service or one budget, its DRG fund
        payments (split between the schemes as they were paid)."""
        growth = policy.values_in_year("budget.annual_growth", year)

        def months(fixed: list, last: float) -> float | np.ndarray:
            return _one_or_twelve([float(f) if f is not None else bureau.next_budget(last, g)
                                   for f, g in zip(fixed, growth, strict=True)])

        spent = self.last_scheme_spending
        share = spent / max(float(spent.sum()), 1e-9)  # last year's split of the DRG payments
        if policy.value("budget.separate_schemes", dt.date(year, 1, 1)):
            # a scheme's own budget; else budget.annual (one total) shared as last year's
            # payments were; else last year's grown
            own = scheme_budgets_in_year(policy, year)
            annual = annual_shared_by_schemes(policy, year, own)
            fixed = {s: [own[s][m] if own[s][m] is not None or annual[m] is None
                         else annual[m] * share[i] for m in range(12)]
                     for i, s in enumerate(SCHEMES)}
            if isinstance(self.budget, dict):
                last = {s: float(self.budget[s]) for s in SCHEMES}
            else:
                total = budget_total(self.budget) if self.budget is not None else spent.sum()
                last = {s: float(total) * share[i] for i, s in enumerate(SCHEMES)}
            return {s: months(fixed[s], last[s]) for s in SCHEMES}
        fixed, _ = annual_budget_in_year(policy, year)
        last = (budget_total(self.budget) if self.budget is not None
                else self.last_settlement.summary["totals"]["fund_payable"])
        return months(fixed, last)

    def _rollout(self, policy: Policy, on: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """§7: hospitals under DRG (tertiary first, then by beds) and groups paid by DRG (the
        most common groups of last year first), as shares of all hospitals and groups."""
        region = self.region
        n_h, n_g = region.n_hospitals, len(region.weight)
        if policy.method == "ffs":
            return np.zeros(n_h, dtype=bool), np.zeros(n_g, dtype=bool)
        hospitals = np.lexsort((np.arange(n_h), -region.hospital_beds, -region.hospital_level))
        covered_hospital = np.zeros(n_h, dtype=bool)
        covered_hospital[hospitals[: int(np.ceil(policy.value("rollout.hospital_share", on)
                                                  * n_h - 1e-9))]] = True
        counts = np.bincount(self.last_year["true_group"], minlength=n_g)
        groups = np.lexsort((np.arange(n_g), -counts))
        covered_group = np.zeros(n_g, dtype=bool)
        covered_group[groups[: int(np.ceil(policy.value("rollout.group_share", on) * n_g
                                           - 1e-9))]] = True
        return covered_hospital, covered_group

    def _coefficients(self, catalogue: Catalogue, policy: Policy, on: dt.date) -> np.ndarray:
        """Group × level coefficients as the settlement will apply them (§2.4)."""
        n_groups = len(catalogue.table)
        if policy.method == "ffs":
            return np.ones((n_groups, len(LEVELS)))
        table = catalogue.table
        level_mean = np.column_stack([
            table[f"mean_cost_{lv}"].to_numpy(dtype=float) if f"mean_cost_{lv}" in table
            else np.full(n_groups, np.nan) for lv in LEVELS])
        region_mean = (table["mean_cost"].to_numpy(dtype=float) if "mean_cost" in table
                       else np.full(n_groups, np.nan))
        coefficient, _ = coefficient_table(catalogue, policy, on, LEVELS, level_mean,
                                           region_mean, table["stable"].to_numpy())
        return np.where(np.isnan(coefficient), 1.0, coefficient)

    def _neutral_rate(self, base, coefficient, covered_hospital, covered_group) -> np.ndarray:
        """§1.5 from last year's data: per level, last year's cost of the cases that this year's
        rules pay by DRG ÷ their case mix under this year's weights and coefficients. Computed
        when a null ``rate.base_rate`` comes into force (the first year: from the burn-in year)
        and kept, unless ``revision.rates_yearly`` recomputes it each January (§1.7)."""
        last = self.last_year
        group, level = last["coded_group"], last["level"]
        under_drg = covered_hospital[last["hospital"]] & covered_group[group]
        return budget_neutral_rates(level[under_drg], last["cost"][under_drg],
                                    base[group[under_drg]],
                                    coefficient[group[under_drg], level[under_drg]], len(LEVELS))

    def _expected_point_value(self, policy, on, base, coefficient, budget,
                              neutral_rate=None) -> np.ndarray:
        """Yuan per point hospitals expect this year, by level (nan: paid by item)."""
        if policy.method == "ffs":
            return np.full(len(LEVELS), np.nan)
        if policy.method in RATE_FAMILY:
            rate, _ = rate_per_level(policy, on, LEVELS, lambda: neutral_rate)
            return rate_rules.rate_point_value(np.nan_to_num(rate))
        last_value = (None if self.last_settlement is None
                      else mean_point_value(self.last_settlement.summary))
        if last_value is not None:
            return np.full(len(LEVELS), last_value)
        last = self.last_year
        points = base[last["coded_group"]] * coefficient[last["coded_group"], last["level"]]
        value = (budget + last["patient_paid"].sum()) / np.nansum(points)
        return np.full(len(LEVELS), value)

    # ------------------------------------------------------------------ expected money
    def expected_payment(self, group: np.ndarray, hospital: np.ndarray, cost: np.ndarray):
        """What a hospital expects to be paid for a case (hospital's view; yuan)."""
        state = self.state
        level = self.region.hospital_level[hospital]
        if state.policy.method == "ffs":
            return cost
        drg = state.payment[group * state.coefficient.shape[1] + level]
        covered = state.covered_hospital[hospital] & state.covered_group[group]
        return np.where(covered, drg, cost)

    # ------------------------------------------------------------------ the month
    def month_flow(self, month: int) -> None:
        """Steps 1–6 of the module docstring for one month of the current year."""
        state, region, behaviour = self.state, self.region, self.behaviour
        year, on = state.year, dt.date(state.year, month + 1, 1)
        levers = self.levers()
        factor = self.cost_factor(levers["cost_cutting"])
        deductible, ratio = self._cost_sharing(state.policy, on)
        stay_per_weight = behaviour["stay_days_per_sqrt_weight"]
        # bed-days this month; beds scale with the population when the region is scaled
        self.capacity_left = (region.hospital_beds * self.scale * 30.4
                              * behaviour["bed_occupancy_max"])

        # 1 incidence
        expected = patient_flow.monthly_expected_admissions(region, state.index)
        episodes = patient_flow.draw_episodes(region, expected, self.streams.get(
            "incidence", year, month), self.groups_by_rank, self.scale, self.incidence_tables)

        # 2 choice, referral, refusal, capacity
        def refuse_probability(rows, hospital):
            selection = levers["selection"][hospital]
            probability = np.zeros(len(rows))
            at = np.flatnonzero(selection > 0)  # a hospital without the lever refuses nothing
            if len(at):
                cost = episodes.need[rows[at]] * factor[hospital[at]]
                margin = self.expected_payment(episodes.group[rows[at]], hospital[at],
                                               cost) - cost
                probability[at] = np.where(margin < 0, selection[at], 0.0)
            return probability

        choice = patient_flow.choose_hospitals(
            region, episodes, factor, deductible, ratio, refuse_probability, self.capacity_left,
            self.streams.get("choice", year, month), self.streams.get("admission", year, month))

        # 3 volume induction: light marginal admissions at each hospital
        induced = self._induced_episodes(levers["induction"], choice.hospital, year, month)
        hospital = np.concatenate([choice.hospital, induced["hospital"]])
        group = np.concatenate([episodes.group, induced["group"]])
        need = np.concatenate([episodes.need, induced["need"]])
        scheme = np.concatenate([episodes.scheme, induced["scheme"]])
        n = len(group)
        flags = {name: np.concatenate([getattr(choice, name), np.zeros(len(induced["group"]),
                                                                       dtype=bool)])
                 for name in ("referred_up", "referred_down", "refused")}

        # 4 treatment, readmission, split
        rng = self.streams.get("treatment", year, month)
        cut = levers["cost_cutting"][hospital]
        cost = need * factor[hospital]
        stay = np.maximum(1, np.round(stay_per_weight * np.sqrt(need) * rng.lognormal(0, 0.2, n)
                                      * (1 - behaviour["cut_depth"] * cut)))
        readmit_draw = rng.random(n)
        split_draw = rng.random(n)
        readmitted = readmit_draw < (behaviour["readmission_base"]
                                     + behaviour["readmission_per_cut"] * cut)
        split = (split_draw < levers["split"][hospital]) & (stay >= 6)
        share = behaviour["split_cost_share"]
        cost = np.where(split, cost * 0.6, cost)
        stay = np.where(split, np.maximum(1, np.round(stay * 0.6)), stay)
        follow = readmitted | split
        follow_cost = np.where(split, cost / 0.6 * share, cost * 0.5)[follow]
        patient = self.patient_counter + np.arange(n)
        self.patient_counter += n
        discharge_day = (np.datetime64(f"{year}-{month + 1:02d}-01") - np.datetime64(
            "1970-01-01")).astype(int) + rng.integers(0, 28, n)

        all_group = np.concatenate([group, group[follow]])
        all_hospital = np.concatenate([hospital, hospital[follow]])
        all_scheme = np.concatenate([scheme, scheme[follow]])
        all_cost = np.round(np.concatenate([cost, follow_cost]), 2)
        all_stay = np.concatenate([stay, np.maximum(1, np.round(stay[follow] * 0.6))])
        follow_gap = rng.integers(1, 16, int(follow.sum()))
        all_discharge = np.concatenate([discharge_day, discharge_day[follow] + follow_gap
                                        + np.maximum(1, np.round(stay[follow] * 0.6))])
        m = len(all_group)

        # 5 coding
        coding = self.streams.get("coding", year, month).random(m)
        higher = region.upcode_to[all_group]
        upcoded = (higher >= 0) & (coding < levers["upcoding"][all_hospital]
                                   * region.hospital_coding_capacity[all_hospital])
        coded = np.where(upcoded, higher, all_group)

        # 6 cost sharing (fund / patient / self-pay, BEHAVIOUR §5)
        level = region.hospital_level[all_hospital]
        patient_paid = np.round(patient_flow.out_of_pocket(
            all_cost, all_scheme, level, deductible, ratio, self.config["self_pay_share"]), 2)
        patient_paid = np.minimum(patient_paid, all_cost)
        fund_paid = np.round(all_cost - patient_paid, 2)
        self_pay = np.minimum(np.round(all_cost * self.config["self_pay_share"], 2), patient_paid)

        follow_up = np.concatenate([np.zeros(n, dtype=bool), np.ones(m - n, dtype=bool)])
        chunk = {
            "hospital": all_hospital, "level": level, "scheme": all_scheme,
            "true_group": all_group, "coded_group": coded, "cost": all_cost,
            "fund_paid": fund_paid, "patient_paid": patient_paid, "self_pay": self_pay,
            "length_of_stay": all_stay, "month": np.full(m, month),
            "upcoded": upcoded, "readmitted": np.concatenate([follow, np.zeros(m - n, bool)]),
            "follow_up": follow_up,
            "induced": np.concatenate([np.zeros(len(episodes), bool),
                                       np.ones(len(induced["group"]), bool),
                                       np.zeros(m - n, bool)]),
            "referred_up": np.concatenate([flags["referred_up"], np.zeros(m - n, bool)]),
            "referred_down": np.concatenate([flags["referred_down"], np.zeros(m - n, bool)]),
            "refused": np.concatenate([flags["refused"], np.zeros(m - n, bool)]),
            # the hospital that referred the case (−1: none), for the alliance indicator (§2.8)
            "referred_from": np.concatenate([choice.referred_from,
                                             np.full(m - len(episodes), -1, dtype=np.int64)]),
            "discharge_day": all_discharge,
            "patient": np.concatenate([patient, patient[follow]]),
            "deducted_points": np.zeros(m),
        }
        self.cases.append(chunk)
        self.monthly_rows.append(self.recorder.month_row(state, month, chunk))

    def _induced_episodes(self, induction, hospital_of_case, year, month) -> dict:
        """Light marginal admissions (induction lever × induced rate × the hospital's volume)."""
        region, behaviour = self.region, self.behaviour
        rng = self.streams.get("induction", year, month)
        volume = np.bincount(hospital_of_case, minlength=region.n_hospitals)
        count = rng.poisson(induction * behaviour["induced_rate"] * volume)
        hospital = np.repeat(np.arange(region.n_hospitals), count)
        light = np.flatnonzero(self.groups_by_rank[:, 0] >= 0)
        light = light[region.weight[self.groups_by_rank[light, 0]]
                      <= behaviour["induced_weight_max"]]
        light = light[region.min_level[self.groups_by_rank[light, 0]] == 0]
        family = light[rng.integers(0, len(light), len(hospital))] if len(light) else light
        group = self.groups_by_rank[family, 0]
        need = region.weight[group] * 0.7 * rng.lognormal(0, 0.2, len(group))
        scheme = (rng.random(len(group)) < 0.7).astype(np.int64)
        return {"hospital": hospital, "group": group, "need": need, "scheme": scheme}

    # ------------------------------------------------------------------ quarter end
    def quarter_review(self, quarter: int) -> None:
        """Sample audit of the quarter's records (§2.8): detected upcoding loses points."""
        state = self.state
        if state.policy.method == "ffs":
            return
        on = dt.date(state.year, 3 * quarter + 1, 1)
        rng = self.streams.get("audit", state.year, quarter)
        for chunk in self.cases[3 * quarter: 3 * quarter + 3]:
            level = chunk["level"]
            gained = (state.base_points[chunk["coded_group"]]
                      - state.base_points[chunk["true_group"]]) * state.coefficient[
                chunk["coded_group"], level]
            _, deducted = bureau.audit(
                chunk["upcoded"], gained, state.policy.value("audit.sample_rate", on),
                state.policy.value("audit.detection_probability", on),
                state.policy.value("audit.penalty_multiple", on),
                rng.random((len(level), 2)))
            chunk["deducted_points"] = deducted

    # ------------------------------------------------------------------ year end
    def year_end(self) -> None:
        """Settle the year (§2.6–§2.7), book the fund, record metrics, keep last year's data."""
        state, region = self.state, self.region
        # last year's cases and settlement were read in January (catalogue, budget, learning)
        # and are replaced below: not kept through this year's settlement (issue 13: ~1 GB of
        # the province's peak)
        self.last_year = self.last_settlement = None
        # the month chunks, audited, copied column by column and each column let go as soon as
        # it is copied: the year is never held twice
        chunks, self.cases = self.cases, []
        cases = {}
        for name in list(chunks[0]):
            cases[name] = np.concatenate([chunk.pop(name) for chunk in chunks])
        del chunks
        assessment = None
        # the bureau's assessment (§2.8, §6): scored from the year's indicators, the growth
        # indicators against last year's cost per case and CMI
        indicators, self.assessment_last = bureau.assessment_indicators(
            cases, state.base_points, self.assessment_last,
            assessment_weights(state.policy, state.on), region.n_hospitals,
            self.alliance_of(state.policy, state.on))
        if state.policy.method != "ffs":
            assessment = scored_assessment(state.policy, state.on, indicators,
                                           region.n_hospitals)
        table = self._case_table(cases)
        result = settle(table, state.catalogue, state.policy, state.budget, assessment,
                        neutral_rate=state.neutral_rate, alliances=region.alliances,
                        indicators=False)
        if state.policy.method != "ffs":
            self.warnings += mid_year_warnings(state.policy, state.year, budget_given=True)
        self.last_settlement = result
        by_scheme = result.summary.get("schemes")
        if isinstance(state.budget, dict):  # the year's budget of each scheme (§2.1)
            state.budget = self.budget = {s: by_scheme[s]["budget"] if s in by_scheme
                                          else budget_total(state.budget[s]) for s in SCHEMES}
        elif isinstance(state.budget, np.ndarray):  # changed inside the year: the year's budget
            state.budget = self.budget = result.summary["budget"]
        if by_scheme is not None:  # each scheme's fund pays its own DRG cases
            drg_spending = np.array([by_scheme[s]["fund_payable"] if s in by_scheme else 0.0
                                     for s in SCHEMES])
        else:  # one budget: split between the schemes by their share of the fund's claims
            scheme_share = np.bincount(cases["scheme"], weights=cases["fund_paid"],
                                       minlength=len(SCHEMES)) / max(cases["fund_paid"].sum(),
                                                                     1e-9)
            drg_spending = result.summary["totals"]["fund_payable"] * scheme_share
        self.last_scheme_spending = drg_spending
        if self.ledger is None:  # after the burn-in: open the ledger with its reserve
            self.ledger = FundLedger.open(self.config, self.ledger_revenue_estimate(),
                                          drg_spending, self.scale)
        else:
            fund = self.ledger.close_year(state.year, state.index - 1, self.scale, drg_spending,
                                          by_scheme)
            self.recorder.year_rows(self, state, cases, result, fund)
            if state.index == self.years:  # the last year: say where a scheme's reserve fails
                self.warnings += reserve_warnings(self.ledger.rows, self.config.get(
                    "reserve_warning_months", RESERVE_WARNING_MONTHS))
        self.last_year = cases

    def ledger_revenue_estimate(self) -> np.ndarray:
        schemes = self.config["schemes"]
        return np.array([schemes[s]["insured"] * self.scale * schemes[s][
            "contribution_per_insured"] for s in SCHEMES])

    def _case_table(self, cases: dict) -> CaseTable:
        region, state = self.region, self.state
        n = len(cases["cost"])
        reviews = self._reviews(cases, n)
        return CaseTable(
            case_id=pa.array(np.arange(n)), patient=cases["patient"],
            hospital=cases["hospital"], level=cases["level"], group=cases["coded_group"],
            cost=cases["cost"], fund_paid=cases["fund_paid"],
            patient_paid=cases["patient_paid"], self_pay=cases["self_pay"],
            unreasonable_cost=reviews["unreasonable_cost"],
            length_of_stay=cases["length_of_stay"],
            admission_day=cases["discharge_day"] - cases["length_of_stay"].astype(np.int64),
            discharge_day=cases["discharge_day"], month=cases["month"],
            review=reviews["review"], review_approved=reviews["approved"],
            died=np.zeros(n, bool),
            transferred_48h=np.zeros(n, bool), rehabilitation_or_tcm=np.zeros(n, bool),
            hospital_ids=region.hospital_ids, hospital_level=region.hospital_level,
            levels=LEVELS, year=state.year, source="model", scheme=cases["scheme"],
            deducted_points=cases["deducted_points"],
            paid_by_item=~(state.covered_hospital[cases["hospital"]]
                           & state.covered_group[cases["coded_group"]]))

    def _reviews(self, cases: dict, n: int) -> dict:
        """Special-case reviews as a process (§2.5, §2.6; issue 9, feature b): a hospital submits a
        share of its cases (``review.submitted_share``), the bureau approves a share of those
        (``review.approved_share``) and strikes a share of each reviewed case's cost as
        unreasonable (``review.unreasonable_share``; whole-group reviews too). Settlement pays
        the extra points of approved high-multiple cases the month after their quarter. Two
        uniform numbers per case from the ``review`` stream of the year."""
        policy, state = self.state.policy, self.state
        if not policy.has("review.submitted_share"):  # fee-for-service: no reviews to model
            return {"review": np.full(n, REVIEW_SPECIAL, dtype=np.int8),
                    "approved": np.ones(n, dtype=bool), "unreasonable_cost": np.zeros(n)}
        on = dt.date(state.year, 1, 1)
        draws = self.streams.get("review", state.year).random((n, 2))
        submitted = draws[:, 0] < policy.value("review.submitted_share", on)
        approved = submitted & (draws[:, 1] < policy.value("review.approved_share", on))
        whole_group = state.catalogue.table["whole_group_review"].to_numpy(dtype=bool)[
            cases["coded_group"]]
        struck = policy.value("review.unreasonable_share", on)
        return {"review": np.where(submitted, REVIEW_SPECIAL, REVIEW_NONE).astype(np.int8),
                "approved": approved,
                "unreasonable_cost": np.where(approved | whole_group, cases["cost"] * struck,
                                              0.0)}

    # ------------------------------------------------------------------ learning
    def _adapt_hospitals(self, year: int) -> None:
        """Each hospital moves its levers toward a best response to last year (BEHAVIOUR §4)."""
        observations = self.observations()
        noise = self.streams.get("strategy", year).standard_normal((len(self.hospitals),
                                                                   len(LEVERS)))
        for hospital, seen, shocks in zip(self.hospitals, observations, noise, strict=True):
            hospital.adapt(seen, self.behaviour, shocks)

    def observations(self) -> list[Observation]:
        """Per hospital, last year's cases valued at this year's prices and audit rules."""
        state, region, last = self.state, self.region, self.last_year
        n_h = region.n_hospitals
        hospital, true_group = last["hospital"], last["true_group"]
        cost = last["cost"]
        payment = self.expected_payment(true_group, hospital, cost)
        higher = region.upcode_to[true_group]
        can = higher >= 0
        safe_higher = np.where(can, higher, true_group)
        gap = (self.expected_payment(safe_higher, hospital, cost) - payment) * can
        sample = state.policy.value("audit.sample_rate", state.on) if state.policy.has(
            "audit.sample_rate") else 0.0
        net = bureau.expected_net_upcoding_gain(
            gap, sample, state.policy.value("audit.detection_probability", state.on),
            state.policy.value("audit.penalty_multiple", state.on))
        margin = payment - cost
        losing = margin < 0
        long_stay = last["length_of_stay"] >= 6
        light = region.weight[true_group] <= self.behaviour["induced_weight_max"]

        def mean_by(values, mask):
            total = np.bincount(hospital, weights=np.where(mask, values, 0.0), minlength=n_h)
            count = np.bincount(hospital, weights=mask.astype(float), minlength=n_h)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.nan_to_num(total / count)

        by_hospital_cost = np.bincount(hospital, weights=cost, minlength=n_h)
        by_hospital_payment = np.bincount(hospital, weights=payment, minlength=n_h)
        ratio = np.where(by_hospital_cost > 0,
                         (by_hospital_payment - by_hospital_cost) / np.maximum(
                             by_hospital_cost, 1e-9), 0.0)
        fee_for_service = state.policy.method == "ffs"
        upcoding = mean_by(net, can)
        loss = mean_by(-margin, losing)
        split = 0.0 * upcoding if fee_for_service else mean_by(payment - 0.15 * cost, long_stay)
        induction = mean_by(margin, light)
        return [Observation(float(upcoding[h]), float(loss[h]), float(ratio[h]),
                            float(split[h]), float(induction[h])) for h in range(n_h)]

    # ------------------------------------------------------------------ results
    def tables(self) -> dict[str, pd.DataFrame]:
        return self.recorder.tables(self)
