"""Money in whole cents: round amounts so that their total is exact (largest remainder)."""

from __future__ import annotations

import numpy as np


def to_cents(yuan):
    """Yuan (float) to whole cents (int64), half away from zero."""
    yuan = np.asarray(yuan, dtype=float)
    cents = np.abs(yuan, out=np.empty_like(yuan))  # in place from here: one temporary, not five
    cents *= 100.0
    cents += 0.5
    np.floor(cents, out=cents)
    np.copysign(cents, yuan, out=cents)
    return cents.astype(np.int64)[()]  # [()]: a number for a number, as before


def allocate_cents(amounts, total_cents):
    """Round ``amounts`` (yuan) to cents so that they sum to exactly ``total_cents``.

    Floors every amount, then gives the missing cents to the largest remainders (ties to the
    lower index), so no cent is created or lost by rounding.
    """
    scaled = np.asarray(amounts, dtype=float) * 100.0
    floors = np.floor(scaled)
    cents = floors.astype(np.int64)
    missing = int(total_cents - cents.sum())
    if missing == 0 or len(cents) == 0:
        return cents
    whole, rest = divmod(missing, len(cents))
    cents += whole
    order = np.argsort(-(scaled - floors), kind="stable")
    cents[order[:rest]] += 1
    return cents
