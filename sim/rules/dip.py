"""DIP scores from mean costs, with weight inversions corrected (rule §8)."""

from __future__ import annotations

import numpy as np


def dip_scores(group_mean_cost, overall_mean_cost):
    """§8: score of a combination = its mean cost ÷ the overall mean cost × 100."""
    return np.round(np.asarray(group_mean_cost, dtype=float) / overall_mean_cost * 100.0, 8)


def fix_inversions(scores, family, severity_rank):
    """§8: inside a family, a more severe combination never scores below a less severe one.

    Walks each family from least to most severe and carries the running maximum; unknown
    scores (NaN) neither raise nor lower it."""
    scores = np.asarray(scores, dtype=float)
    fixed = scores.copy()
    order = np.lexsort((severity_rank, family))
    running_family, running_max = None, -np.inf
    for index in order:  # groups, not cases: a few hundred iterations
        if family[index] != running_family:
            running_family, running_max = family[index], -np.inf
        if not np.isnan(scores[index]):
            fixed[index] = max(scores[index], running_max)
            running_max = fixed[index]
    return fixed
