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


def reviewed_cost_points(cost, unreasonable_cost, rate):
    """Points that pay a whole-group-review case its reviewed cost under the rate method:
    (cost − unreasonable cost) ÷ rate × 100, so that points × rate ÷ 100 = reviewed cost.

    §3 has no review; this is the policy's choice ``rate.whole_group_at_reviewed_cost`` (a
    bureau that reviews new-technology or unstable groups under a rate pays what its experts
    approve, §2.5's "cost − unreasonable cost"), not §2.5's points ÷ the mean cost of all cases,
    which belong to a floating point value. 0 where the rate is 0.
    """
    rate = np.asarray(rate, dtype=float)
    reviewed = np.asarray(cost, dtype=float) - np.asarray(unreasonable_cost, dtype=float)
    return np.divide(reviewed * 100.0, rate, out=np.zeros(np.broadcast(reviewed, rate).shape),
                     where=rate > 0)
