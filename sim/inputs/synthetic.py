"""Synthetic case years for examples, tests and benchmarks (not a model of behaviour).

Costs follow the catalogue's weights: cost = weight × base cost × level factor × lognormal noise,
with a few cost outliers; the fund pays a level-dependent share and the patient the rest, so every
row satisfies ``fund_paid + patient_paid = cost`` to the cent. All numbers here are assumptions
chosen to look like a prefecture's year, not estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.inputs.catalogue import Catalogue

LEVELS = ("primary", "secondary", "tertiary")
LEVEL_COST_FACTOR = np.array([0.75, 1.0, 1.25])  # assumed, cf. Suzhou coefficients 0.75/1.02/1.2
LEVEL_FUND_SHARE = np.array([0.85, 0.75, 0.65])  # assumed reimbursement ratios by level
LEVEL_HOSPITAL_SHARE = np.array([0.6, 0.3, 0.1])  # share of hospitals by level (assumed)
LEVEL_VOLUME = np.array([0.2, 1.0, 4.0])          # relative admissions per hospital (assumed)


def synthetic_year(catalogue: Catalogue, n_cases: int, n_hospitals: int, year: int = 2023,
                   seed: int = 0, base_cost: float = 7990.0) -> pd.DataFrame:
    """A year of ``n_cases`` discharges over ``n_hospitals`` hospitals of three levels."""
    rng = np.random.default_rng(seed)
    weights = catalogue.weights
    priced = np.flatnonzero(np.isfinite(weights) & (weights > 0))
    mix = 1.0 / np.sqrt(weights[priced])  # common cheap groups, fewer expensive ones
    group = priced[rng.choice(len(priced), size=n_cases, p=mix / mix.sum())]

    level_of_hospital = np.sort(rng.choice(3, size=n_hospitals, p=LEVEL_HOSPITAL_SHARE))
    level_of_hospital[-1] = 2  # at least one tertiary hospital
    volume = LEVEL_VOLUME[level_of_hospital] * rng.lognormal(0.0, 0.3, n_hospitals)
    hospital = rng.choice(n_hospitals, size=n_cases, p=volume / volume.sum())
    level = level_of_hospital[hospital]

    noise = rng.lognormal(-0.08, 0.4, n_cases)
    outlier = rng.random(n_cases)
    noise = np.where(outlier < 0.02, noise * 4.0, np.where(outlier > 0.97, noise * 0.2, noise))
    cost = np.round(weights[group] * base_cost * LEVEL_COST_FACTOR[level] * noise, 2)
    cost = np.maximum(cost, 50.0)
    fund = np.round(cost * LEVEL_FUND_SHARE[level], 2)
    patient = np.round(cost - fund, 2)
    self_pay = np.round(patient * rng.uniform(0.0, 0.3, n_cases), 2)
    length_of_stay = np.maximum(1, np.round(3 + 6 * weights[group] * noise)).astype(np.int64)

    start = np.datetime64(f"{year}-01-01")
    days = 365 + (year % 4 == 0)
    discharge = start + rng.integers(0, days, n_cases).astype("timedelta64[D]")
    admission = np.maximum(discharge - length_of_stay.astype("timedelta64[D]"),
                           np.datetime64(f"{year - 1}-12-01"))
    patients = max(1, int(n_cases * 0.85))
    review_draw = rng.random(n_cases)
    review = np.where(outlier < 0.02, np.where(review_draw < 0.5, "special", "none"), "none")
    return pd.DataFrame({
        "case_id": np.char.add("C", np.arange(1, n_cases + 1).astype(str)),
        "patient_id": np.char.add("P", rng.integers(1, patients + 1, n_cases).astype(str)),
        "hospital_id": np.char.add("H", (hospital + 1).astype(str)),
        "hospital_level": np.asarray(LEVELS)[level],
        "drg": catalogue.codes[group],
        "cost": cost,
        "fund_paid": fund,
        "patient_paid": patient,
        "los_days": length_of_stay,
        "discharge_date": discharge.astype("datetime64[D]").astype(str),
        "admission_date": admission.astype("datetime64[D]").astype(str),
        "self_pay": self_pay,
        "unreasonable_cost": np.zeros(n_cases),
        "review": review,
        "review_approved": review == "special",
    })
