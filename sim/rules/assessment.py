"""The year-end assessment (§2.8, §6; Guigang 第十九条(二), 第二十一条; Zhejiang evaluation).

Each hospital is scored from its §6 indicators against the region's benchmark, the plain mean of
the hospitals' values (each hospital counts once, as the bureau did with readmissions alone):

* ``readmission``, ``admissions_per_person``, ``self_pay_ratio`` — higher is worse: the
  shortfall is the relative excess ``max(value ÷ benchmark − 1, 0)``;
* ``cost_per_case_growth``, ``cmi_growth`` — growth rates (this year ÷ last year − 1), higher is
  worse: the shortfall is the excess in rate points ``max(growth − benchmark growth, 0)``; the
  region's mean CMI growth stands for the change in case mix, so only CMI growth beyond it counts;
* ``referral_rate`` — higher is better: ``max(1 − value ÷ benchmark, 0)``.

coefficient = clip(base − Σ weight × min(shortfall, 1), floor, base): an item never takes more
than its weight (Zhejiang: "各细分项最高扣分额不得超过该细分项所赋分值", no item loses more than the
score it is given). A weight of 0, an indicator not
given (None) or a benchmark that is not positive and finite (for ratios) switches an indicator
off; a hospital whose value is NaN (no cases, no last year) loses nothing for it.

Rewards (Zhejiang 建立考核奖罚点数管理机制: reward *and* penalty points) are the mirror image: with
a ``ceiling`` above the base, a hospital better than the benchmark gains weight × min(−deviation,
1) on that item — at most the item's weight, as it loses at most its weight — and the
coefficient is clip(base + Σ item points, floor, ceiling) (:func:`item_points`). A ceiling at
(or below) the base gives no reward points, the rule above unchanged.
"""

from __future__ import annotations

import numpy as np

HIGHER_WORSE = ("readmission", "admissions_per_person", "self_pay_ratio")
GROWTH = ("cost_per_case_growth", "cmi_growth")
HIGHER_BETTER = ("referral_rate",)
INDICATORS = HIGHER_WORSE + GROWTH + HIGHER_BETTER


def deviation(name: str, values) -> np.ndarray | None:
    """Each hospital's signed deviation from the benchmark on one indicator, positive when worse
    (the shortfall of the module text before it is floored at 0), negative when better; 0 for a
    hospital whose value is NaN; None when the indicator cannot be scored (no finite values, or a
    ratio benchmark that is not positive)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if not finite.any():
        return None
    benchmark = float(np.mean(values[finite]))
    if name in GROWTH:
        excess = values - benchmark
    elif benchmark <= 0:
        return None
    elif name in HIGHER_BETTER:
        excess = 1.0 - values / benchmark
    else:
        excess = values / benchmark - 1.0
    return np.where(finite, excess, 0.0)


def shortfall(name: str, values) -> np.ndarray | None:
    """Each hospital's shortfall on one indicator (see module text): its deviation where worse
    than the benchmark, else 0; None when it cannot be scored."""
    signed = deviation(name, values)
    return None if signed is None else np.maximum(signed, 0.0)


def item_points(signed_deviation, weight: float, rewards: bool) -> np.ndarray:
    """One item's reward (+) or penalty (−) in coefficient units (Zhejiang 考核奖罚点数, §2.8):
    −weight × min(deviation, 1) where worse than the benchmark (an item loses at most its weight,
    各细分项最高扣分额不得超过该细分项所赋分值); with ``rewards``, +weight × min(−deviation, 1)
    where better (it gains at most its weight), else 0."""
    signed = np.asarray(signed_deviation, dtype=float)
    penalty = weight * np.minimum(np.maximum(signed, 0.0), 1.0)
    reward = weight * np.minimum(np.maximum(-signed, 0.0), 1.0) if rewards else 0.0
    return reward - penalty


def coefficients(indicators: dict[str, np.ndarray | None], weights: dict[str, float],
                 floor: float, base: float, n_hospitals: int,
                 ceiling: float | None = None) -> np.ndarray:
    """The assessment coefficient of each hospital (see module text): clip(base + Σ item points,
    floor, ceiling), rewards counted only when ``ceiling`` is above ``base`` (None: the base)."""
    unknown = set(weights) - set(INDICATORS)
    if unknown:
        raise ValueError(f"unknown assessment indicator(s): {sorted(unknown)}")
    rewards = ceiling is not None and ceiling > base
    net = np.zeros(n_hospitals)
    for name, weight in weights.items():
        if not weight or indicators.get(name) is None:
            continue
        signed = deviation(name, indicators[name])
        if signed is not None:
            net = net + item_points(signed, weight, rewards)
    return np.clip(base + net, floor, ceiling if rewards else base)


def rewards_within_budget(receipts_at_one, coefficients) -> np.ndarray:
    """§2.1, §2.7 under a global budget: the coefficients actually applied when reward points
    lift some above 1. The budget is fixed (Guigang 第五条 以收定支、收支平衡; 第十九条(一) knows
    only 年度考核扣除费用, a deduction), so rewards are paid out of what the penalties keep:
    each reward (c − 1) is scaled by f = min(1, Σ r × max(1 − c, 0) ÷ Σ r × max(c − 1, 0)), r a
    hospital's receipts at coefficient 1; penalties stand as scored. The fund then pays at most
    the budget (plus patients' cash), and exactly it when the penalties cover the rewards."""
    receipts = np.asarray(receipts_at_one, dtype=float)
    c = np.asarray(coefficients, dtype=float)
    kept = float(np.sum(receipts * np.maximum(1.0 - c, 0.0)))
    claimed = float(np.sum(receipts * np.maximum(c - 1.0, 0.0)))
    if claimed <= 0:
        return c
    factor = min(1.0, kept / claimed)
    return np.where(c > 1.0, 1.0 + (c - 1.0) * factor, c)


def growth(this_year, last_year) -> np.ndarray:
    """this year ÷ last year − 1 per hospital (NaN where last year is missing or not positive)."""
    this_year, last_year = np.asarray(this_year, float), np.asarray(last_year, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(last_year > 0, this_year / last_year - 1.0, np.nan)
