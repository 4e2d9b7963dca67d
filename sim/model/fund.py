"""The fund ledger per scheme (BEHAVIOUR §2, §7): contributions in, payments out, reserve.

Yearly, on an accrual basis, for each scheme (employee, resident) and pooled:
revenue = insured × contribution per insured (growing by ``contribution_growth``);
DRG spending = the fund's payable for the year's DRG cases: each scheme's own with separate
scheme budgets (§2.1), else split between schemes by their share of the fund's claims; other
spending = the scheme's share of revenue spent outside DRG inpatient care (§2.1 carve-outs:
outpatient pooling, chronic disease, pharmacy, …; ``schemes.<s>.non_drg_spending_share``, else
the region's ``non_drg_spending_share``). Months of reserve = accumulated balance ÷ average
monthly spending. The opening balance is the scheme's ``fund_balance`` (yuan, scaled with the
population) or ``initial_reserve_months`` of the year before's spending.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.inputs.region import SCHEMES

LEDGER = ("fund_revenue", "fund_drg_spending", "fund_other_spending", "fund_spending",
          "fund_balance", "accumulated_balance", "reserve_months")
# 人社部发〔2009〕67号 (关于进一步加强基本医疗保险基金管理的指导意见) calls an accumulated
# pooled-fund balance of 6–9 months of average spending reasonable, under 3 months insufficient
# and over 15 excessive (quoted from the text as we know it; the project holds no copy)
RESERVE_WARNING_MONTHS = 6.0
RESERVE_RANGE = "6–9 months of spending is the range 人社部发〔2009〕67号 calls reasonable"


def scheme_setting(config: dict, key: str) -> np.ndarray:
    """A per-scheme ledger setting: ``schemes.<s>.<key>``, else the region's ``key``."""
    fallback = config.get(key)
    values = [config["schemes"][s].get(key, fallback) for s in SCHEMES]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@dataclass
class FundLedger:
    insured: np.ndarray
    contribution: np.ndarray
    contribution_growth: float
    non_drg_share: np.ndarray
    accumulated: np.ndarray
    rows: list[dict] = field(default_factory=list)

    @classmethod
    def open(cls, config: dict, revenue: np.ndarray, drg_spending: np.ndarray,
             scale: float) -> FundLedger:
        """The ledger at the start of the first simulated year: ``revenue`` and
        ``drg_spending`` are the year before's (the burn-in year), per scheme."""
        schemes = config["schemes"]
        non_drg = scheme_setting(config, "non_drg_spending_share")
        monthly = (revenue * non_drg + drg_spending) / 12
        balance = np.array([np.nan if schemes[s].get("fund_balance") is None
                            else schemes[s]["fund_balance"] * scale for s in SCHEMES])
        months = scheme_setting(config, "initial_reserve_months")
        return cls(
            insured=np.array([schemes[s]["insured"] for s in SCHEMES], dtype=float),
            contribution=np.array([schemes[s]["contribution_per_insured"] for s in SCHEMES],
                                  dtype=float),
            contribution_growth=config["contribution_growth"],
            non_drg_share=non_drg,
            accumulated=np.where(np.isnan(balance), monthly * months, balance),
        )

    def revenue(self, years_from_start: int, scale: float) -> np.ndarray:
        return (self.insured * scale * self.contribution
                * (1 + self.contribution_growth) ** years_from_start)

    def close_year(self, year: int, years_from_start: int, scale: float,
                   drg_spending_by_scheme: np.ndarray, settled_schemes: dict | None = None
                   ) -> dict:
        """Book one year; returns the pooled figures and each scheme's (``<name>_<scheme>``),
        and keeps a row per scheme. With separate scheme budgets (§2.1) ``settled_schemes``
        gives each scheme's settlement summary: its DRG budget and annual point value join its
        row."""
        revenue = self.revenue(years_from_start, scale)
        other = revenue * self.non_drg_share
        spending = drg_spending_by_scheme + other
        balance = revenue - spending
        self.accumulated = self.accumulated + balance
        reserve = self.accumulated / (spending / 12)
        per_scheme = {"fund_revenue": revenue, "fund_drg_spending": drg_spending_by_scheme,
                      "fund_other_spending": other, "fund_spending": spending,
                      "fund_balance": balance, "accumulated_balance": self.accumulated,
                      "reserve_months": reserve}
        for index, scheme in enumerate(SCHEMES):
            self.rows.append({
                "year": year, "scheme": scheme,
                **{name: float(values[index]) for name, values in per_scheme.items()},
                **({} if settled_schemes is None else {
                    "drg_budget": settled_schemes.get(scheme, {}).get("budget", np.nan),
                    "annual_point_value": settled_schemes.get(scheme, {}).get(
                        "annual_point_value") or np.nan}),
            })
        total_spending = spending.sum()
        pooled = {name: float(values.sum()) for name, values in per_scheme.items()
                  if name != "reserve_months"}
        pooled["reserve_months"] = float(self.accumulated.sum() / (total_spending / 12))
        return {**pooled, **{f"{name}_{scheme}": float(values[index])
                             for name, values in per_scheme.items()
                             for index, scheme in enumerate(SCHEMES)}}


def reserve_findings(rows: list[dict], threshold: float = RESERVE_WARNING_MONTHS) -> list[dict]:
    """Each scheme whose months of reserve fall under ``threshold`` in some year of the run, or
    whose accumulated balance is exhausted (below zero): ``scheme``, the first such ``year`` and
    the warning's ``text``. ``rows``: the ledger's rows (year, scheme, accumulated_balance,
    reserve_months)."""
    findings = []
    for scheme in SCHEMES:
        own = sorted((r for r in rows if r["scheme"] == scheme), key=lambda r: r["year"])
        low = next((r for r in own if r["reserve_months"] < threshold), None)
        if low is None:
            continue
        gone = next((r for r in own if r["accumulated_balance"] < 0), None)
        text = (f"{scheme} fund: months of reserve fall under {threshold:g} in {low['year']} "
                f"({low['reserve_months']:.1f} months; {RESERVE_RANGE})")
        if gone is not None:
            text += (f"; the reserve is exhausted in {gone['year']} (accumulated balance "
                     f"¥{gone['accumulated_balance']:,.0f}, {gone['reserve_months']:.1f} months)")
        findings.append({"scheme": scheme, "year": int(low["year"]), "text": text})
    return findings


def reserve_warnings(rows: list[dict], threshold: float = RESERVE_WARNING_MONTHS) -> list[str]:
    """The warning lines of :func:`reserve_findings`, one per scheme."""
    return [finding["text"] for finding in reserve_findings(rows, threshold)]
