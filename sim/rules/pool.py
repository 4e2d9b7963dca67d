"""The incentive pool (rule §4)."""

from __future__ import annotations

import numpy as np


def pool_contribution(monthly_allocation, pool_share):
    """§4: the part of a positive monthly allocation put into the pool instead of prepaid."""
    return np.maximum(monthly_allocation, 0.0) * pool_share


def pool_payouts(contributions, incentive_coefficients):
    """§4: the pool shared out at year end in proportion to contribution × incentive coefficient.

    With every coefficient 1 each hospital gets back what it put in; the total paid out always
    equals the total put in.
    """
    shares = (np.asarray(contributions, dtype=float)
              * np.asarray(incentive_coefficients, dtype=float))
    total = shares.sum()
    if total <= 0:
        return np.zeros_like(shares)
    return shares / total * np.sum(contributions)
