"""Rate method: a fixed price per weight unit by hospital level (rule §3)."""

from __future__ import annotations

import numpy as np


def payment_standard(weight, rate, coefficient):
    """§3: payment standard of a case = weight × rate(level) × coefficient."""
    return weight * rate * coefficient


def rate_point_value(rate):
    """The rate method as a fixed point value: rate per weight unit ÷ 100 points per weight.

    With base points = weight × 100 (§2.2), points × this value = weight × rate (§3).
    """
    return np.asarray(rate, dtype=float) / 100.0


def fund_part_of_standard(standard, patient_paid):
    """§3: the fund pays the DRG standard minus the patient's share billed by item."""
    return standard - patient_paid
