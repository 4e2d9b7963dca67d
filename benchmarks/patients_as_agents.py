"""One Mesa agent per patient: ``RegionModel.month_flow`` episode by episode (benchmark only).

``PatientAgentsModel`` is ``sim.model.RegionModel`` with one method replaced: the month. Every
month it creates one ``Patient`` (a ``mesa.Agent``) per new episode, activates them through the
model's agent registry (``model.agents_by_type[Patient].shuffle_do("choose")``, then ``.do(
"treat")``) and removes them at the month's end. Each patient does, in plain Python, the steps
the columns model does with arrays (``agents.patients``, ``RegionModel.month_flow``):

1. incidence: the model draws the counts by scheme × age (Poisson, the same ``incidence``
   stream as the columns model, so both see the same number of new episodes); each patient then
   draws its own county, family, severity rank and need (same distributions);
2. choice: a loop over the home county's choice set with the same utility terms (level
   preference, severity × level, distance, expected out-of-pocket cost from the policy's
   deductible and reimbursement ratio, Gumbel noise); capability refers up to the best capable
   hospital; the hospital refuses an expected loss with its selection lever (a basic case is
   referred down where a lower level is in the set, others go to their next capable choice);
   a hospital whose bed-days for the month are used up sends the patient to the nearest capable
   hospital with room (patients arrive in random order, so the overflow is a random subset, as in
   the columns model);
3. volume induction: each hospital adds Poisson(induction × induced rate × its admissions)
   light patients (agents too, with their hospital fixed);
4. treatment: cost, stay, readmission and split from the hospital's efficiency and levers;
   a readmission or split adds a follow-up case of the same patient;
5. coding: each case is coded one rank up with probability upcoding lever × coding capacity;
6. cost sharing: fund, patient and self-pay parts from the policy (``patients.*``).

The cases are then gathered into the same columns as the columns model's monthly chunk, so the
quarter audit, year-end settlement, metrics, the bureau's catalogue and the hospitals' learning
are the columns model's own code (the same ``Region``, the same ``Hospital`` agents and levers).
Draws come from Python's ``random`` (one generator per month from the named ``choice`` stream):
the version is statistically like the columns model, not draw for draw.

Tables the agents read (choice sets with their fixed utility terms, cost factors, lever values,
prices) are Python lists refreshed once a month, as a careful per-agent model would keep them, so
that the comparison times per-agent work, not NumPy scalar indexing.

Used by ``benchmarks/run.py`` (workload ``agents``) and ``tests/test_patients_as_agents.py``;
never imported by ``sim/`` or ``agents/``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
import time
from dataclasses import dataclass

import mesa
import numpy as np

from agents import patients as patient_flow
from sim.inputs.policy import Policy
from sim.inputs.region import LEVELS, SCHEMES, severity_probabilities
from sim.model.model import RegionModel

TINY = 5e-324   # smallest positive float: keeps log(u) finite when random() returns 0.0
EPOCH = dt.date(1970, 1, 1)


@dataclass
class MonthTables:
    """What the patients of one month read: prices, levers and choice sets as Python lists."""

    candidates: list[list[tuple]]    # per county: (hospital, level, fixed utility, factor, score)
    factor: list[float]              # yuan per unit of need at each hospital
    level: list[int]
    selection: list[float]
    cutting: list[float]
    split: list[float]
    code_probability: list[float]    # upcoding lever × coding capacity
    deductible: list[list[float]]    # scheme × level
    ratio: list[list[float]]         # scheme × level
    fee_for_service: bool
    price: list[list[float]]         # group × level: expected payment (yuan) unless FFS
    first_day: int                   # days since 1970-01-01 of the month's first day
    month: int


class Patient(mesa.Agent):
    """One episode: drawn at creation, then ``choose`` (a hospital) and ``treat`` (its cases)."""

    def __init__(self, model: PatientAgentsModel, scheme: int, age: int, hospital: int = -1):
        super().__init__(model)
        tables = model.static
        r = model.py_random
        self.patient = model.patient_counter
        model.patient_counter += 1
        self.scheme = scheme
        self.referred_up = self.referred_down = self.refused = False
        self.referred_from = -1  # the hospital that referred the episode last (§2.8)
        if hospital < 0:  # a new episode: county, family, severity rank, need
            self.induced = False
            county_cdf, family_cdf = tables["county_cdf"], tables["family_cdf"]
            self.county = min(bisect.bisect_left(county_cdf, r.random() * county_cdf[-1]),
                              len(county_cdf) - 1)
            family = min(bisect.bisect_left(family_cdf, r.random() * family_cdf[-1]),
                         len(family_cdf) - 1)
            ranks = tables["family_ranks"][family]
            cumulative = tables["severity_cdf"][age][ranks]
            rank = min(bisect.bisect_left(cumulative, r.random()), ranks - 1)
            self.group = tables["groups_by_rank"][family][rank]
            self.need = tables["weight"][self.group] * r.lognormvariate(
                tables["need_mu"], tables["need_sd"])
            self.hospital = -1
        else:  # an induced light admission at ``hospital``
            self.induced = True
            light = tables["light_families"]
            family = light[int(r.random() * len(light))]
            self.group = tables["groups_by_rank"][family][0]
            self.need = tables["weight"][self.group] * 0.7 * r.lognormvariate(0.0, 0.2)
            self.county = -1
            self.hospital = hospital

    # ------------------------------------------------------------------ step 2
    def choose(self) -> None:
        """Logit choice over the choice set, capability, refusal, capacity (one patient)."""
        model = self.model
        month: MonthTables = model.month_tables
        static = model.static
        r = model.py_random
        rand, log = r.random, math.log
        need, group = self.need, self.group
        deductible, ratio = month.deductible[self.scheme], month.ratio[self.scheme]
        keep = static["keep_share"]
        severity_term = static["severity_level"] * static["severity"][group]
        oop = static["oop_per_yuan"]
        min_level = static["min_level"][group]
        candidates = month.candidates[self.county]
        best, first = -math.inf, -1
        capable = []                     # (utility, position) of capable hospitals
        for position, (_, level, fixed, factor, _) in enumerate(candidates):
            cost = need * factor
            fund = cost * keep - deductible[level]
            pay = cost - fund * ratio[level] if fund > 0 else cost
            utility = fixed + severity_term * level - oop * pay - log(-log(rand() or TINY))
            if utility > best:
                best, first = utility, position
            if min_level <= level:
                capable.append((utility, position))
        pick = first
        if candidates[first][1] < min_level:        # beyond capability: refer up
            self.referred_up = True
            self.referred_from = candidates[first][0]
            pick = max(capable)[1]
        hospital, level = candidates[pick][0], candidates[pick][1]
        # refusal of an expected loss (selection lever), then down-referral of a basic case
        cost = need * month.factor[hospital]
        margin = 0.0 if month.fee_for_service else month.price[group][level] - cost
        if rand() < (month.selection[hospital] if margin < 0 else 0.0):
            without = [entry for entry in capable if entry[1] != pick]
            if without:
                lower = [entry for entry in without if candidates[entry[1]][1] < level]
                if static["basic"][group] and lower:
                    self.referred_from = hospital
                    pick = max(lower)[1]
                    self.referred_down = True
                else:
                    pick = max(without)[1]
                self.refused = True
                hospital = candidates[pick][0]
        # capacity: bed-days left this month, else the nearest capable hospital with room
        stay = static["stay_per_sqrt_weight"] * math.sqrt(need)
        left = model.capacity_left
        if left[hospital] < stay:
            self.refused = True
            nearest, score = -1, math.inf
            for entry in candidates:
                other = entry[0]
                if (other != hospital and min_level <= entry[1] and left[other] >= stay
                        and entry[4] < score):
                    nearest, score = other, entry[4]
            if nearest >= 0:
                hospital = nearest
        left[hospital] -= stay
        model.volume[hospital] += 1
        self.hospital = hospital

    # ------------------------------------------------------------------ steps 4–6
    def treat(self) -> None:
        """Cost, stay, readmission and split at the hospital; the case and any follow-up."""
        model = self.model
        month: MonthTables = model.month_tables
        static = model.static
        r = model.py_random
        hospital, need = self.hospital, self.need
        cut = month.cutting[hospital]
        shorter = 1 - static["cut_depth"] * cut
        cost = need * month.factor[hospital]
        stay = max(1, round(static["stay_per_sqrt_weight"] * math.sqrt(need)
                            * r.lognormvariate(0.0, 0.2) * shorter))
        readmitted = r.random() < static["readmission_base"] + static["readmission_per_cut"] * cut
        split = r.random() < month.split[hospital] and stay >= 6
        if split:
            cost *= 0.6
            stay = max(1, round(stay * 0.6))
        follow = readmitted or split
        discharge = month.first_day + int(r.random() * 28)
        self._case(cost, stay, discharge, follow, False)
        if follow:
            follow_cost = cost / 0.6 * static["split_cost_share"] if split else cost * 0.5
            follow_stay = max(1, round(stay * 0.6))
            gap = 1 + int(r.random() * 15)
            self._case(follow_cost, follow_stay, discharge + gap + follow_stay, False, True)

    def _case(self, cost: float, stay: int, discharge: int, readmitted: bool,
              follow_up: bool) -> None:
        """Coding (step 5) and cost sharing (step 6) of one case; the record goes to the model."""
        model = self.model
        month: MonthTables = model.month_tables
        static = model.static
        hospital, group, scheme = self.hospital, self.group, self.scheme
        level = month.level[hospital]
        cost = round(cost, 2)
        higher = static["upcode_to"][group]
        upcoded = model.py_random.random() < month.code_probability[hospital] and higher >= 0
        fund = cost * static["keep_share"] - month.deductible[scheme][level]
        fund = fund * month.ratio[scheme][level] if fund > 0 else 0.0
        patient_paid = min(round(cost - fund, 2), cost)
        self_pay = min(round(cost * static["self_pay_share"], 2), patient_paid)
        first = not follow_up
        model.records.append((
            hospital, level, scheme, group, higher if upcoded else group, cost,
            round(cost - patient_paid, 2), patient_paid, self_pay, float(stay), upcoded,
            readmitted, follow_up, self.induced and first, self.referred_up and first,
            self.referred_down and first, self.refused and first,
            self.referred_from if first else -1, discharge, self.patient))


RECORD_FIELDS = (("hospital", np.int64), ("level", np.int64), ("scheme", np.int64),
                 ("true_group", np.int64), ("coded_group", np.int64), ("cost", float),
                 ("fund_paid", float), ("patient_paid", float), ("self_pay", float),
                 ("length_of_stay", float), ("upcoded", bool), ("readmitted", bool),
                 ("follow_up", bool), ("induced", bool), ("referred_up", bool),
                 ("referred_down", bool), ("refused", bool), ("referred_from", np.int64),
                 ("discharge_day", float),
                 ("patient", np.int64))


class PatientAgentsModel(RegionModel):
    """``RegionModel`` whose month is one Mesa agent per episode (see the module docstring)."""

    def __init__(self, region_config: dict, policy: Policy, start_year: int = 2023,
                 years: int = 5, seed: int = 0, scale: float = 1.0):
        super().__init__(region_config, policy, start_year=start_year, years=years, seed=seed,
                         scale=scale)
        self.static = self._static_tables()
        self.month_tables: MonthTables | None = None
        self.py_random = random.Random(seed)
        self.records: list[tuple] = []
        self.volume: list[int] = []
        self.month_seconds = 0.0      # time spent in month_flow (patient flow), for benchmarks
        self.episodes = 0             # patient agents created (new and induced episodes)

    def _static_tables(self) -> dict:
        """Region arrays as Python lists (fixed for the run)."""
        region, behaviour = self.region, self.behaviour
        config = region.config
        n_ages = len(config["age_groups"]["population_share"])
        severity_cdf = [[None] + [list(np.cumsum(severity_probabilities(config, k, age)))
                                  for k in (1, 2, 3)] for age in range(n_ages)]
        light = np.flatnonzero(self.groups_by_rank[:, 0] >= 0)
        light = light[region.weight[self.groups_by_rank[light, 0]]
                      <= behaviour["induced_weight_max"]]
        light = light[region.min_level[self.groups_by_rank[light, 0]] == 0]
        sd = behaviour["cost_sd"]
        choice = behaviour["choice"]
        return {
            "county_cdf": np.cumsum(region.county_share).tolist(),
            "family_cdf": np.cumsum(region.family_probability).tolist(),
            "family_ranks": [max(int(k), 1) for k in region.family_ranks],
            "severity_cdf": severity_cdf,
            "groups_by_rank": self.groups_by_rank.tolist(),
            "light_families": light.tolist(),
            "weight": region.weight.tolist(),
            "severity": (region.rank - 1).tolist(),
            "min_level": region.min_level.tolist(),
            "basic": region.basic.tolist(),
            "upcode_to": region.upcode_to.tolist(),
            "need_mu": -sd * sd / 2, "need_sd": sd,
            "keep_share": 1 - config["self_pay_share"],
            "self_pay_share": config["self_pay_share"],
            "severity_level": choice["severity_level"],
            "oop_per_yuan": choice["out_of_pocket_per_1000"] / 1000.0,
            "stay_per_sqrt_weight": behaviour["stay_days_per_sqrt_weight"],
            "cut_depth": behaviour["cut_depth"],
            "readmission_base": behaviour["readmission_base"],
            "readmission_per_cut": behaviour["readmission_per_cut"],
            "split_cost_share": behaviour["split_cost_share"],
        }

    def _month_tables(self, month: int) -> MonthTables:
        """Levers, prices and choice sets of the month (the hospitals' and bureau's notices)."""
        state, region, behaviour = self.state, self.region, self.behaviour
        on = dt.date(state.year, month + 1, 1)
        levels = region.hospital_level.tolist()
        cutting = [h.cost_cutting for h in self.hospitals]
        depth = behaviour["cut_depth"]
        base = region.base_cost.tolist()
        factor = [base[h.level] * h.efficiency * (1 - depth * h.cost_cutting)
                  for h in self.hospitals]
        choice = behaviour["choice"]
        preference = list(choice["level"])
        per_km = choice["distance_per_km"]
        candidates = []
        for county, members in enumerate(region.candidates):
            entries = []
            for hospital in members.tolist():
                distance = float(region.distance_km[county, region.hospital_county[hospital]])
                level = levels[hospital]
                entries.append((hospital, level, preference[level] - per_km * distance,
                                factor[hospital], distance - 0.001 * level))
            candidates.append(entries)
        deductible, ratio = self._cost_sharing(state.policy, on)
        fee_for_service = state.policy.method == "ffs"
        price = [] if fee_for_service else state.payment.reshape(state.coefficient.shape).tolist()
        first_day = (dt.date(state.year, month + 1, 1) - EPOCH).days
        return MonthTables(
            candidates=candidates, factor=factor, level=levels,
            selection=[h.selection for h in self.hospitals], cutting=cutting,
            split=[h.split for h in self.hospitals],
            code_probability=[h.upcoding * h.coding_capacity for h in self.hospitals],
            deductible=deductible.tolist(), ratio=ratio.tolist(),
            fee_for_service=fee_for_service, price=price, first_day=first_day, month=month)

    def month_flow(self, month: int) -> None:
        """Steps 1–6 with one agent per episode; the cases become the month's chunk."""
        started = time.perf_counter()
        state, region, behaviour = self.state, self.region, self.behaviour
        year = state.year
        self.month_tables = self._month_tables(month)
        self.py_random = random.Random(int(self.streams.get("choice", year, month).integers(
            2**62)))
        self.capacity_left = (region.hospital_beds * self.scale * 30.4
                              * behaviour["bed_occupancy_max"]).tolist()
        self.volume = [0] * region.n_hospitals
        self.records = []

        # 1 incidence: counts by scheme × age (as the columns model), one agent per episode
        expected = patient_flow.monthly_expected_admissions(region, state.index)
        counts = self.streams.get("incidence", year, month).poisson(expected * self.scale)
        for scheme in range(len(SCHEMES)):
            for age in range(counts.shape[1]):
                for _ in range(int(counts[scheme, age])):
                    Patient(self, scheme, age)
        patients = self.agents_by_type.get(Patient)
        # 2 choice (random activation order)
        if patients is not None:
            patients.shuffle_do("choose")
        # 3 volume induction: light marginal admissions at each hospital
        rng = self.streams.get("induction", year, month)
        rate = behaviour["induced_rate"]
        for hospital in self.hospitals:
            count = int(rng.poisson(hospital.induction * rate * self.volume[hospital.index]))
            for _ in range(count):
                Patient(self, 1 if self.py_random.random() < 0.7 else 0, 0, hospital.index)
        patients = self.agents_by_type.get(Patient)
        if patients is None:
            patients = []
        else:
            # 4–6 treatment, coding, cost sharing
            patients.do("treat")
        self.episodes += len(patients)
        chunk = self._chunk(month)
        for patient in list(patients):
            patient.remove()
        self.cases.append(chunk)
        self.monthly_rows.append(self.recorder.month_row(state, month, chunk))
        self.month_seconds += time.perf_counter() - started

    def _chunk(self, month: int) -> dict:
        """The month's cases as the columns model's chunk (same names and types)."""
        records = self.records
        m = len(records)
        columns = list(zip(*records, strict=True)) if m else [()] * len(RECORD_FIELDS)
        chunk = {name: np.array(values, dtype=kind)
                 for (name, kind), values in zip(RECORD_FIELDS, columns, strict=True)}
        chunk["month"] = np.full(m, month)
        chunk["deducted_points"] = np.zeros(m)
        self.records = []
        return chunk


YEARLY_COMPARED = ("true_cmi", "coded_cmi", "upcoded_share", "readmission_15d_rate",
                   "mean_los", "cost_per_case")


def aggregates(model: RegionModel) -> dict:
    """Numbers to compare the two versions.

    Admissions per month over every month run (burn-in included). The rest: means over the
    simulated years of the yearly table when there is one, else over the current year's cases
    (a run stopped within the burn-in year, as in the test).
    """
    monthly = [row["admissions"] for row in model.monthly_rows]
    result = {"months": len(monthly),
              "admissions_per_month": float(np.mean(monthly)) if monthly else 0.0}
    yearly = model.recorder.yearly
    if yearly:
        result["years"] = len(yearly)
        for name in YEARLY_COMPARED + tuple(f"share_{level}" for level in LEVELS):
            result[name] = float(np.mean([row[name] for row in yearly]))
        return result
    cases = {name: np.concatenate([c[name] for c in model.cases]) for name in model.cases[0]}
    weight = model.region.weight
    first = ~cases["follow_up"]
    result.update({
        "years": 0,
        "true_cmi": float(weight[cases["true_group"]].mean()),
        "coded_cmi": float(weight[cases["coded_group"]].mean()),
        "upcoded_share": float(cases["upcoded"].mean()),
        "readmission_15d_rate": float(cases["readmitted"][first].mean()),
        "mean_los": float(cases["length_of_stay"].mean()),
        "cost_per_case": float(cases["cost"].mean()),
    })
    for index, name in enumerate(LEVELS):
        result[f"share_{name}"] = float(np.mean(cases["level"] == index))
    return result
