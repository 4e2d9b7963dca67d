"""What a run records (BEHAVIOUR §7): monthly, yearly, yearly by level, and per hospital.

CMIs here use the region's original catalogue weights for both the true and the coded group, so
that the coded − true gap measures coding, not weight revisions. ``upcoding_pressure`` is the
expected net yuan gain of coding an upcodable case one rank up at the year's expected prices,
after the expected audit penalty (BEHAVIOUR §4, §7).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agents import bureau
from agents.hospital import LEVERS
from sim.inputs.region import LEVELS, SCHEMES, Region
from sim.settlement import mean_point_value

YEARLY_COLUMNS = (
    "year", "admissions", "true_cmi", "coded_cmi", "upcoded_share", "upcoding_pressure",
    "drg_budget", "fund_revenue", "fund_spending", "fund_drg_spending", "fund_balance",
    "accumulated_balance", "reserve_months", "annual_point_value", "share_primary",
    "share_secondary", "share_tertiary", "basic_share_primary", "basic_share_secondary",
    "basic_share_tertiary", "refused_cases", "referrals_up", "referrals_down",
    "readmission_15d_rate", "mean_los", "cost_per_case", "out_of_pocket_per_case",
    "hospitals_in_deficit")


class YearRecorder:
    def __init__(self, region: Region):
        self.region = region
        self.weight = region.weight
        self.yearly: list[dict] = []
        self.by_level: list[dict] = []
        self.by_hospital: list[dict] = []
        self.pressure_cells: list[pd.DataFrame] = []
        self.by_alliance: list[pd.DataFrame] = []
        # MDC of each group as a number into the sorted MDC codes, once (np.unique over a
        # year's cases of text codes cost ~0.3 s a year)
        self.mdc_codes, self.group_mdc = np.unique(
            region.catalogue.table["mdc"].to_numpy().astype(str), return_inverse=True)

    def month_row(self, state, month: int, chunk: dict) -> dict:
        return {
            "year": state.year, "month": month + 1, "admissions": len(chunk["cost"]),
            "true_cmi": float(np.mean(self.weight[chunk["true_group"]])),
            "coded_cmi": float(np.mean(self.weight[chunk["coded_group"]])),
            "cost": float(chunk["cost"].sum()), "fund_claims": float(chunk["fund_paid"].sum()),
            "monthly_point_value": np.nan, "monthly_budget": np.nan, "drg_prepaid": np.nan,
        }

    def pressure(self, model, state, cases: dict) -> np.ndarray:
        """Expected net gain per case of coding it one rank up (0 where no higher sibling)."""
        region = self.region
        true_group, hospital = cases["true_group"], cases["hospital"]
        higher = region.upcode_to[true_group]
        can = higher >= 0
        safe = np.where(can, higher, true_group)
        gap = (model.expected_payment(safe, hospital, cases["cost"])
               - model.expected_payment(true_group, hospital, cases["cost"])) * can
        policy, on = state.policy, state.on
        return np.where(can, bureau.expected_net_upcoding_gain(
            gap, policy.value("audit.sample_rate", on),
            policy.value("audit.detection_probability", on),
            policy.value("audit.penalty_multiple", on)), np.nan)

    def year_rows(self, model, state, cases: dict, result, fund: dict) -> None:
        region = self.region
        n_h = region.n_hospitals
        hospital, level = cases["hospital"], cases["level"]
        index = ~cases["follow_up"]
        hospitals = result.hospitals
        receipts = (hospitals["fund_payable"] + hospitals["patient_paid"]).to_numpy()
        cost_h = hospitals["cost"].to_numpy()
        pressure = self.pressure(model, state, cases)
        basic = region.basic[cases["true_group"]]
        admissions = len(level)
        row = {
            "year": state.year, "admissions": admissions,
            "true_cmi": float(np.mean(self.weight[cases["true_group"]])),
            "coded_cmi": float(np.mean(self.weight[cases["coded_group"]])),
            "upcoded_share": float(np.mean(cases["upcoded"])),
            "upcoding_pressure": float(np.nanmean(pressure)) if np.isfinite(pressure).any()
            else 0.0,
            "drg_budget": np.nan if state.budget is None else (
                float(sum(state.budget.values())) if isinstance(state.budget, dict)
                else float(state.budget)),
            **fund,
            # with separate scheme budgets, the schemes' values weighted by their points
            "annual_point_value": mean_point_value(result.summary) or np.nan,
        }
        for index_level, name in enumerate(LEVELS):
            row[f"share_{name}"] = float(np.mean(level == index_level))
            row[f"basic_share_{name}"] = (float(np.mean(level[basic] == index_level))
                                          if basic.any() else np.nan)
        row.update({
            "refused_cases": int(cases["refused"].sum()),
            "referrals_up": int(cases["referred_up"].sum()),
            "referrals_down": int(cases["referred_down"].sum()),
            "readmission_15d_rate": float(cases["readmitted"][index].mean()),
            "mean_los": float(cases["length_of_stay"].mean()),
            "cost_per_case": float(cases["cost"].mean()),
            # what patients pay per admission (deductible, co-payment, self-pay; BEHAVIOUR §5)
            "out_of_pocket_per_case": float(cases["patient_paid"].mean()),
            "hospitals_in_deficit": int(np.sum(receipts < cost_h)),
            "drg_fund_payable": float(hospitals["fund_payable"].sum()),
            "ffs_fund_paid": float(hospitals["ffs_fund_paid"].sum()),
            "audit_deducted_points": float(cases["deducted_points"].sum()),
            # yuan: the value of the points gained by upcoding, and of the points the audits
            # deducted (kept by the fund, §2.7); issue 14's "money paid for upcoding"
            "upcoding_paid": self.upcoding_paid(state, cases, result.summary),
            "audit_deducted_value": float(hospitals["deducted_points_value"].sum()),
            # §7: share of inpatient fund spending paid by DRG (rollout: the rest by item)
            "drg_share_of_fund": float(result.summary.get("drg_share_of_fund") or 0.0),
        })
        # upcoding by ownership (Silverman & Skinner 2004, BEHAVIOUR §8: the calibration's check)
        private = np.asarray(region.hospital_private, dtype=bool)[hospital]
        for name, mask in (("private", private), ("public", ~private)):
            row[f"upcoded_share_{name}"] = (float(cases["upcoded"][mask].mean()) if mask.any()
                                            else np.nan)
        self.yearly.append(row)
        self._pressure_by_level_mdc(state.year, level, cases["true_group"], pressure)

        monthly_values = result.summary.get("monthly_point_values") or [None] * 12
        monthly_budgets = result.summary.get("monthly_budgets") or [None] * 12
        monthly_paid = result.summary.get("monthly_payments") or [None] * 12
        for month_row in model.monthly_rows:
            if month_row["year"] == state.year:
                m = month_row["month"] - 1
                month_row["monthly_point_value"] = monthly_values[m]
                month_row["monthly_budget"] = monthly_budgets[m]
                month_row["drg_prepaid"] = monthly_paid[m]
                for scheme, own in (result.summary.get("schemes") or {}).items():
                    month_row[f"monthly_point_value_{scheme}"] = own["monthly_point_values"][m]

        # by level: sums and counts by one bincount each (a boolean selection of the year's
        # cases per level and column cost ~3 ms each)
        n_l = len(LEVELS)

        def by_level(weights=None):
            return np.bincount(level, weights=weights, minlength=n_l)

        upcodable = np.isfinite(pressure)
        cases_at = by_level()
        sums = {name: by_level(values) for name, values in (
            ("basic", basic), ("cost", cases["cost"]), ("los", cases["length_of_stay"]),
            ("true_cmi", self.weight[cases["true_group"]]),
            ("coded_cmi", self.weight[cases["coded_group"]]), ("upcoded", cases["upcoded"]),
            ("upcodable", upcodable), ("pressure", np.where(upcodable, pressure, 0.0)),
            ("index", index), ("readmitted", cases["readmitted"] & index))}
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = {name: np.where(cases_at > 0, sums[name] / cases_at, np.nan)
                    for name in ("cost", "los", "true_cmi", "coded_cmi", "upcoded")}
            pressure_at = np.where(sums["upcodable"] > 0, sums["pressure"] / sums["upcodable"],
                                   0.0)
            readmission_at = np.where(sums["index"] > 0, sums["readmitted"] / sums["index"],
                                      np.nan)
        for index_level, name in enumerate(LEVELS):
            at_level = region.hospital_level == index_level
            self.by_level.append({
                "year": state.year, "level": name, "admissions": int(cases_at[index_level]),
                "basic_cases": int(sums["basic"][index_level]),
                "cost_per_case": float(mean["cost"][index_level]),
                "mean_los": float(mean["los"][index_level]),
                "true_cmi": float(mean["true_cmi"][index_level]),
                "coded_cmi": float(mean["coded_cmi"][index_level]),
                "upcoded_share": float(mean["upcoded"][index_level]),
                "upcoding_pressure": float(pressure_at[index_level]),
                "readmission_15d_rate": float(readmission_at[index_level]),
                "receipts": float(receipts[at_level].sum()),
                "cost": float(cost_h[at_level].sum()),
                "hospitals_in_deficit": int(np.sum((receipts < cost_h)[at_level])),
                # rate method (§3): yuan per weight unit in force at the level
                "rate": (result.summary.get("rate_by_level") or {}).get(name, np.nan),
            })

        count = np.bincount(hospital, minlength=n_h)
        safe = np.maximum(count, 1)
        per = {name: np.bincount(hospital, weights=cases[name].astype(float), minlength=n_h)
               for name in ("upcoded", "readmitted", "refused", "deducted_points")}
        true_weight = np.bincount(hospital, weights=self.weight[cases["true_group"]],
                                  minlength=n_h)
        coded_weight = np.bincount(hospital, weights=self.weight[cases["coded_group"]],
                                   minlength=n_h)
        ids = region.hospital_ids
        levers = model.levers()
        before_caps = hospitals["fund_payable_before_caps"].to_numpy()
        kept = hospitals["deducted_points_value"].to_numpy()
        caps = sum((hospitals[c].to_numpy() for c in ("surplus_cap_deduction",
                                                      "self_pay_cap_deduction")
                    if c in hospitals), np.zeros(n_h))
        alliance = (hospitals["alliance"].to_numpy() if "alliance" in hospitals
                    else None)  # county alliances (§2.8): who belongs and who is paid
        paid_to = hospitals["paid_to"].to_numpy() if alliance is not None else None
        # columns as arrays once, not a pandas lookup per hospital (issue 13)
        fund_payable, ffs_fund_paid, points = (hospitals[c].to_numpy() for c in (
            "fund_payable", "ffs_fund_paid", "points"))
        for h in range(n_h):
            self.by_hospital.append({
                "year": state.year, "hospital_id": ids[h],
                "level": LEVELS[region.hospital_level[h]],
                "county": int(region.hospital_county[h]),
                "private": bool(region.hospital_private[h]), "admissions": int(count[h]),
                "cost": float(cost_h[h]), "receipts": float(receipts[h]),
                "fund_payable": float(fund_payable[h]),
                "ffs_fund_paid": float(ffs_fund_paid[h]),
                "margin": float(receipts[h] - cost_h[h]),
                # the fund's payment in parts (§2.7): before audits and caps = before caps +
                # the deducted points' value; fund_payable = that − deducted − caps
                "fund_payable_before_caps": float(before_caps[h]),
                "deducted_points_value": float(kept[h]),
                "caps_deduction": float(caps[h]),
                "points": float(points[h]),
                "deducted_points": float(per["deducted_points"][h]),
                "true_cmi": float(true_weight[h] / safe[h]),
                "coded_cmi": float(coded_weight[h] / safe[h]),
                "upcoded_share": float(per["upcoded"][h] / safe[h]),
                "readmission_15d_rate": float(per["readmitted"][h] / safe[h]),
                **{lever: float(levers[lever][h]) for lever in LEVERS},
                **({} if alliance is None else {"alliance": alliance[h],
                                                "paid_to": paid_to[h]}),
            })
        if result.alliances is not None:
            self.by_alliance.append(self._alliance_rows(state.year, cases, result.alliances))

    def upcoding_paid(self, state, cases: dict, summary: dict) -> float:
        """Yuan paid for the points gained by upcoding in the year: each upcoded case's gained
        points (coded − true group's base points × the coded group's coefficient, as the audit
        measures them, §2.8) at the point value its case was paid (the year's annual value, its
        scheme's with separate budgets, or its level's under the rate method); 0 under
        fee-for-service. Assessment coefficients are left out."""
        upcoded = cases["upcoded"].astype(bool)
        if state.policy.method == "ffs" or not upcoded.any():
            return 0.0
        coded, true = cases["coded_group"][upcoded], cases["true_group"][upcoded]
        level = cases["level"][upcoded]
        gained = (state.base_points[coded] - state.base_points[true]) * state.coefficient[
            coded, level]
        schemes, by_level = summary.get("schemes"), summary.get("point_value_by_level")
        if schemes:
            value = np.array([(schemes.get(s) or {}).get("annual_point_value") or 0.0
                              for s in SCHEMES])[cases["scheme"][upcoded]]
        elif summary.get("annual_point_value") is not None:
            value = np.full(len(level), float(summary["annual_point_value"]))
        elif by_level:
            value = np.array([by_level.get(name, 0.0) for name in LEVELS])[level]
        else:
            value = np.zeros(len(level))
        return float(np.sum(gained * value))

    def _alliance_rows(self, year: int, cases: dict, packages: pd.DataFrame) -> pd.DataFrame:
        """The settlement's alliance packages (§2.8) with the referrals between members of each
        alliance (Guigang 第二十一条 双向转诊: up and down, counted once per referral)."""
        ids = self.region.hospital_ids
        alliance_of = np.full(len(ids), -1, dtype=np.int64)
        position = {h: i for i, h in enumerate(ids)}
        for index, members in enumerate(packages["members"]):
            alliance_of[[position[h] for h in members.split(";")]] = index
        origin = cases["referred_from"]
        home = alliance_of[cases["hospital"]]
        within = (origin >= 0) & (home >= 0) & (alliance_of[np.maximum(origin, 0)] == home)
        table = packages.copy()
        table.insert(0, "year", year)
        table.insert(table.columns.get_loc("points") + 1, "referrals_within",
                     np.bincount(home[within], minlength=len(table)))
        return table

    def _pressure_by_level_mdc(self, year, level, true_group, pressure) -> None:
        """Upcoding pressure by hospital level × MDC: mean net gain over upcodable cases."""
        upcodable = np.isfinite(pressure)
        mdc_codes, mdc = self.mdc_codes, self.group_mdc[true_group[upcodable]]
        key = level[upcodable] * len(mdc_codes) + mdc
        size = len(LEVELS) * len(mdc_codes)
        count = np.bincount(key, minlength=size)
        total = np.bincount(key, weights=pressure[upcodable], minlength=size)
        cells = np.flatnonzero(count)
        self.pressure_cells.append(pd.DataFrame({
            "year": year, "level": np.asarray(LEVELS)[cells // len(mdc_codes)],
            "mdc": mdc_codes[cells % len(mdc_codes)], "upcodable_cases": count[cells],
            "upcoding_pressure": total[cells] / count[cells]}))

    def tables(self, model) -> dict[str, pd.DataFrame]:
        yearly = pd.DataFrame(self.yearly)
        ordered = list(YEARLY_COLUMNS) + [c for c in yearly.columns if c not in YEARLY_COLUMNS]
        return {
            "monthly": pd.DataFrame([r for r in model.monthly_rows
                                     if r["year"] >= model.start_year]),
            "yearly": yearly[ordered],
            "yearly_by_level": pd.DataFrame(self.by_level),
            "hospital_yearly": pd.DataFrame(self.by_hospital),
            "fund_by_scheme": pd.DataFrame(model.ledger.rows),
            "pressure_by_level_mdc": pd.concat(self.pressure_cells, ignore_index=True),
            **({"alliance_yearly": pd.concat(self.by_alliance, ignore_index=True)}
               if self.by_alliance else {}),
        }
