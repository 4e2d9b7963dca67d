"""All-inclusive DRG prices (一口价) and the cases that leave them (rule §5)."""

from __future__ import annotations


def group_price(weight, rate, coefficient):
    """§5: one price per group and level, charged to patient and fund alike (weight × rate × c)."""
    return weight * rate * coefficient


def excluded_from_price(length_of_stay, cost, price, short_stay_days, long_stay_days,
                        low_price_multiple, high_price_multiple, died, transferred_48h,
                        rehabilitation_or_tcm):
    """§5: a case is paid by item when its stay is ≤ short or ≥ long days, its cost is below
    low × or above high × its price, it was transferred out within 48 hours, the patient died, or
    it was rehabilitation / TCM-only treatment."""
    return ((length_of_stay <= short_stay_days) | (length_of_stay >= long_stay_days)
            | (cost < low_price_multiple * price) | (cost > high_price_multiple * price)
            | died | transferred_48h | rehabilitation_or_tcm)


def split_price(price, fund_share):
    """§5: no deductible; the fund pays its share of the price, the patient the rest.

    Returns ``(fund_part, patient_part)``."""
    fund = price * fund_share
    return fund, price - fund
