"""The fund ledger per scheme (BEHAVIOUR §2, §7): contributions in, payments out, reserve.

Yearly, on an accrual basis: revenue = insured × contribution per insured (growing);
DRG spending = the fund's payable for the year's DRG cases: each scheme's own with separate
scheme budgets (§2.1), else split between schemes by their share of the fund's claims; other
spending = a share of revenue (§2.1 carve-outs: outpatient, chronic disease, drugs...).
Months of reserve = accumulated balance ÷ average monthly spending.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.inputs.region import SCHEMES


@dataclass
class FundLedger:
    insured: np.ndarray
    contribution: np.ndarray
    contribution_growth: float
    non_drg_share: float
    accumulated: np.ndarray
    rows: list[dict] = field(default_factory=list)

    @classmethod
    def open(cls, config: dict, initial_monthly_spending: np.ndarray,
             scale: float = 1.0) -> FundLedger:
        """The ledger after the burn-in: a scheme's accumulated balance is its
        ``schemes.<scheme>.fund_balance`` (yuan, × the run's scale) where the region gives one,
        else ``initial_reserve_months`` of its spending."""
        schemes = config["schemes"]
        given = np.array([np.nan if schemes[s].get("fund_balance") is None
                          else schemes[s]["fund_balance"] * scale for s in SCHEMES])
        return cls(
            insured=np.array([schemes[s]["insured"] for s in SCHEMES], dtype=float),
            contribution=np.array([schemes[s]["contribution_per_insured"] for s in SCHEMES],
                                  dtype=float),
            contribution_growth=config["contribution_growth"],
            non_drg_share=config["non_drg_spending_share"],
            accumulated=np.where(np.isnan(given), initial_monthly_spending
                                 * config["initial_reserve_months"], given),
        )

    def revenue(self, years_from_start: int, scale: float) -> np.ndarray:
        return (self.insured * scale * self.contribution
                * (1 + self.contribution_growth) ** years_from_start)

    def close_year(self, year: int, years_from_start: int, scale: float,
                   drg_spending_by_scheme: np.ndarray, settled_schemes: dict | None = None
                   ) -> dict:
        """Book one year; returns region totals (and keeps a row per scheme). With separate
        scheme budgets (§2.1) ``settled_schemes`` gives each scheme's settlement summary: its
        DRG budget and annual point value join its row."""
        revenue = self.revenue(years_from_start, scale)
        other = revenue * self.non_drg_share
        spending = drg_spending_by_scheme + other
        balance = revenue - spending
        self.accumulated = self.accumulated + balance
        for index, scheme in enumerate(SCHEMES):
            self.rows.append({
                "year": year, "scheme": scheme, "fund_revenue": revenue[index],
                "fund_drg_spending": drg_spending_by_scheme[index],
                "fund_other_spending": other[index], "fund_spending": spending[index],
                "fund_balance": balance[index], "accumulated_balance": self.accumulated[index],
                "reserve_months": self.accumulated[index] / (spending[index] / 12),
                **({} if settled_schemes is None else {
                    "drg_budget": settled_schemes.get(scheme, {}).get("budget", np.nan),
                    "annual_point_value": settled_schemes.get(scheme, {}).get(
                        "annual_point_value") or np.nan}),
            })
        total_spending = spending.sum()
        return {
            "fund_revenue": revenue.sum(), "fund_spending": total_spending,
            "fund_drg_spending": drg_spending_by_scheme.sum(), "fund_balance": balance.sum(),
            "accumulated_balance": self.accumulated.sum(),
            "reserve_months": self.accumulated.sum() / (total_spending / 12),
        }
