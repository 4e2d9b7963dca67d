"""Approximate Bayesian computation with a local-linear regression adjustment (issue 12).

The estimator of ``drgsim calibrate behaviour`` (docs/DESIGN.md, "Behaviour calibration"), as
pure functions of a design and its simulated statistics, so that it can be tested on a simulator
whose answer is known:

1. **Distance.** Each design point ``i`` drawn from the prior has simulated statistics ``s_i``
   (one per fitted target). ``z_i = (s_i − y) / σ`` with ``y`` the published values and ``σ``
   the total standard deviation of each target (the published uncertainty and the simulation
   noise of the mean of the replications, in quadrature); the distance is ``|z_i|``.
2. **Rejection.** The ``accept`` share of points nearest to ``y`` is kept, weighted by the
   Epanechnikov kernel ``1 − (d_i / h)²`` with ``h`` just beyond the largest kept distance.
3. **Regression adjustment** (Beaumont, Zhang & Balding 2002, Genetics 162:2025–2035). On the
   kept points, each parameter in logit space (its place between the prior bounds, so that the
   adjusted values stay inside them) is regressed on ``z`` by weighted least squares;
   ``φ*_i = φ_i − z_iᵀβ`` moves every kept point to where it would be had it reproduced the
   targets exactly. The adjusted points with their weights are the posterior ensemble.

Diagnostics: a parameter whose posterior spread (unit scale) is more than
:data:`FLAT_RATIO` of the prior's is *not informed* by the targets (the objective is flat along
it); one whose posterior median lies within :data:`BOUND_MARGIN` of a prior bound sits *at a
bound* (the prior range may be too narrow, or the model cannot reach the targets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLAT_RATIO = 0.8        # posterior sd ÷ prior sd above which the targets do not inform a parameter
BOUND_MARGIN = 0.05     # posterior median this close (unit scale) to a prior bound: at the bound
SHIFT_MAX = 0.2         # unit-scale move of the median by the adjustment worth a warning …
R2_MIN = 0.3            # … when the regression that made it explains less than this
EDGE = 1e-6             # unit values are kept this far inside (0, 1) before the logit
PRIOR_SD = 1 / np.sqrt(12)  # sd of a uniform on the unit interval


class DegenerateFit(ValueError):
    """The design cannot inform the parameters (too few points, or statistics that never move)."""


@dataclass
class AbcResult:
    kept: np.ndarray          # indices of the kept design points, nearest first
    distance: np.ndarray      # their distances |z|
    weight: np.ndarray        # their kernel weights (sum 1)
    unit: np.ndarray          # their adjusted positions on the unit scale (kept × parameters)
    unit_raw: np.ndarray      # their positions before the adjustment
    beta: np.ndarray          # regression coefficients (parameters × targets), logit scale
    r2: np.ndarray            # weighted R² of each parameter's regression


def logit(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, EDGE, 1 - EDGE)
    return np.log(u / (1 - u))


def expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def standardised(stats: np.ndarray, observed: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``(s − y) / σ`` per point and target."""
    return (np.asarray(stats, float) - np.asarray(observed, float)) / np.asarray(sd, float)


def abc_fit(unit: np.ndarray, stats: np.ndarray, observed: np.ndarray, sd: np.ndarray,
            accept: float) -> AbcResult:
    """Rejection and regression adjustment (module text). ``unit``: design points on the unit
    scale of the prior (points × parameters); ``stats``: their simulated statistics (points ×
    targets; a row with a NaN is a failed point and left out)."""
    unit = np.asarray(unit, float)
    stats = np.asarray(stats, float)
    if unit.ndim != 2 or stats.ndim != 2 or len(unit) != len(stats):
        raise ValueError("unit and stats must be 2-D with one row per design point")
    valid = np.flatnonzero(np.isfinite(stats).all(axis=1))
    n_params, n_targets = unit.shape[1], stats.shape[1]
    if len(valid) < n_targets + 3:
        raise DegenerateFit(f"only {len(valid)} design points have every statistic; the fit "
                            f"needs at least {n_targets + 3} (targets + 3): give a larger "
                            "--budget")
    spread = stats[valid].max(axis=0) - stats[valid].min(axis=0)
    if not (spread > 1e-12 * (1 + np.abs(stats[valid]).max(axis=0))).any():
        raise DegenerateFit("no fitted statistic changes across the design: the objective is "
                            "flat (do the parameters reach the fitted targets?)")
    z = standardised(stats[valid], observed, sd)
    distance = np.sqrt((z ** 2).sum(axis=1))
    n_kept = max(int(np.ceil(accept * len(valid))), n_targets + 3)
    order = np.argsort(distance, kind="stable")[:n_kept]
    kept_distance = distance[order]
    h = kept_distance[-1] * 1.05 + 1e-12
    weight = 1 - (kept_distance / h) ** 2
    weight = weight / weight.sum()
    x = np.column_stack([np.ones(n_kept), z[order]])
    phi = logit(unit[valid][order])
    root = np.sqrt(weight)[:, None]
    coefficients, *_ = np.linalg.lstsq(x * root, phi * root, rcond=None)
    beta = coefficients[1:]                               # targets × parameters
    adjusted = phi - z[order] @ beta
    fitted = x @ coefficients
    mean = (weight[:, None] * phi).sum(axis=0)
    total = (weight[:, None] * (phi - mean) ** 2).sum(axis=0)
    residual = (weight[:, None] * (phi - fitted) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(total > 0, 1 - residual / total, 0.0)
    return AbcResult(valid[order], kept_distance, weight, expit(adjusted),
                     unit[valid][order], beta.T.reshape(n_params, n_targets), r2)


def weighted_quantile(values: np.ndarray, weight: np.ndarray, q: float | list) -> np.ndarray:
    """Quantiles of weighted values (the mid-point rule: each value stands at the middle of its
    weight in the cumulative sum)."""
    values = np.asarray(values, float)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weight[order]) - weight[order] / 2
    cumulative = cumulative / weight.sum()
    return np.interp(q, cumulative, values[order])


def weighted_sd(values: np.ndarray, weight: np.ndarray) -> float:
    mean = float((weight * values).sum() / weight.sum())
    return float(np.sqrt((weight * (values - mean) ** 2).sum() / weight.sum()))


def weighted_correlation(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Correlation matrix of the columns of ``values`` under ``weight``."""
    w = weight / weight.sum()
    centred = values - (w[:, None] * values).sum(axis=0)
    covariance = (w[:, None] * centred).T @ centred
    sd = np.sqrt(np.diag(covariance))
    with np.errstate(invalid="ignore", divide="ignore"):
        return covariance / np.outer(sd, sd)


def diagnose(unit: np.ndarray, weight: np.ndarray, unit_raw: np.ndarray | None = None,
             r2: np.ndarray | None = None) -> list[dict]:
    """Per parameter: posterior median and spread on the unit scale, ``informed`` (the spread is
    well below the prior's), ``at_bound`` (``low`` or ``high`` when the median is within
    :data:`BOUND_MARGIN` of it, or an informed posterior's 5th or 95th percentile within half of
    it) and, given the kept points before the adjustment (``unit_raw``) and the regressions'
    R², how far the adjustment moved the median and whether that rests on a weak regression
    (``extrapolated``: moved more than :data:`SHIFT_MAX` with R² under :data:`R2_MIN`)."""
    rows = []
    unit = np.asarray(unit, float)
    for j, column in enumerate(unit.T):
        low, median, high = weighted_quantile(column, weight, [0.05, 0.5, 0.95])
        ratio = weighted_sd(column, weight) / PRIOR_SD
        informed = ratio <= FLAT_RATIO
        at_bound = ("low" if median < BOUND_MARGIN or (informed and low < BOUND_MARGIN / 2)
                    else "high" if median > 1 - BOUND_MARGIN
                    or (informed and high > 1 - BOUND_MARGIN / 2) else None)
        row = {"unit_median": float(median), "sd_ratio": ratio, "informed": informed,
               "at_bound": at_bound}
        if unit_raw is not None:
            raw = np.asarray(unit_raw, float)[:, j]
            row["rejection_median"] = float(weighted_quantile(raw, weight, 0.5))
            row["rejection_sd_ratio"] = weighted_sd(raw, weight) / PRIOR_SD
            shift = abs(row["unit_median"] - row["rejection_median"])
            row["extrapolated"] = bool(shift > SHIFT_MAX and r2 is not None and r2[j] < R2_MIN)
        rows.append(row)
    return rows
