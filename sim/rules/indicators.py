"""Evaluation indicators of a hospital (rule §6), computed from integer-coded case arrays."""

from __future__ import annotations

import numpy as np


def _per(index, values, size):
    return np.bincount(index, weights=values, minlength=size)


def case_mix_index(hospital, base_points, n_hospitals):
    """§6: CMI = Σ_g(base points_g × cases in g) ÷ (cases × 100)."""
    cases = np.bincount(hospital, minlength=n_hospitals)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _per(hospital, base_points, n_hospitals) / (cases * 100.0)


def consumption_index(hospital, group, value, n_hospitals, n_groups):
    """§6: Σ_g(hospital mean in g ÷ region mean in g × hospital cases in g) ÷ hospital cases.

    With ``value`` = cost this is the cost consumption index, with length of stay the time
    consumption index. Σ_g(mean_hg / mean_g × n_hg) = Σ_g(sum_hg / mean_g)."""
    region_sum = _per(group, value, n_groups)
    region_count = np.bincount(group, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        region_mean = region_sum / region_count
        relative = value / region_mean[group]
        cases = np.bincount(hospital, minlength=n_hospitals)
        return _per(hospital, relative, n_hospitals) / cases


def admissions_per_person(hospital, patient, n_hospitals):
    """§6: admissions ÷ distinct patients, per hospital (split admissions raise it)."""
    patients = np.int64(patient.max()) + 1 if len(patient) else 1
    key = np.sort(hospital.astype(np.int64) * patients + patient)
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    persons = np.bincount(key[first] // patients, minlength=n_hospitals)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(hospital, minlength=n_hospitals) / persons


def readmitted_within(patient, admission_day, discharge_day, days=15, planned=None):
    """Whether each case is followed by an admission of the same patient within ``days`` days of
    its discharge (§6 15-day readmission; the index case carries the flag).

    ``planned`` cases (scheduled chemotherapy or radiotherapy, per-diem stays: §6 "excluding
    scheduled chemo/radiotherapy and per-diem cases") are neither readmissions nor index
    discharges: they are left out before the search, so an unplanned admission after a planned
    one still counts against the discharge before them. Cases are ordered by patient, then
    admission day, then discharge day (one sort of a combined integer key)."""
    if planned is not None and np.any(planned):
        keep = np.flatnonzero(~np.asarray(planned, dtype=bool))  # a take, not a mask, per column
        flagged = np.zeros(len(patient), dtype=bool)
        flagged[keep] = readmitted_within(patient[keep], admission_day[keep],
                                          discharge_day[keep], days)
        return flagged
    n = len(patient)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = _whole_day_order(patient, admission_day, discharge_day)
    if order is None:
        order = _day_order(patient, admission_day, discharge_day)
    in_order = patient[order]
    same_patient = in_order[1:] == in_order[:-1]
    gap = admission_day[order[1:]] - discharge_day[order[:-1]]
    flagged = np.zeros(n, dtype=bool)
    flagged[order[:-1]] = same_patient & (gap >= 0) & (gap <= days)
    return flagged


def _day_order(patient, admission_day, discharge_day) -> np.ndarray:
    """The cases by patient, admission day, discharge day (ties in row order), in general."""
    admission = admission_day - admission_day.min()
    discharge = discharge_day - discharge_day.min()
    span = np.int64(max(admission.max(), discharge.max()) + 1)
    key = (patient.astype(np.int64) * span + admission) * span + discharge
    if key.dtype.kind == "f":  # days held as floats: whole numbers as integers
        whole = key.astype(np.int64)
        key = whole if np.array_equal(whole, key) else key
    if patient.max() >= np.iinfo(np.int64).max // (span * span):  # pragma: no cover - huge ids
        return np.lexsort((discharge_day, admission_day, patient))
    if key.dtype.kind in "iu" and key.min() >= 0:
        return _sorted_rows(key)
    return np.argsort(key, kind="stable")  # days with fractions


def _whole_day_order(patient, admission_day, discharge_day) -> np.ndarray | None:
    """:func:`_day_order` for integer patient codes and whole days (the model's days are whole
    floats), with the key built in place in integers (issue 13: at province scale each
    temporary of the general form is a fresh 50 MB); None where it does not apply: fractions
    of days, or keys too wide to be exact in floats (so that both give the same order)."""
    if patient.dtype.kind not in "iu":
        return None
    first_admission, first_discharge = admission_day.min(), discharge_day.min()
    width = max(admission_day.max() - first_admission, discharge_day.max() - first_discharge)
    if not np.isfinite(width):
        return None
    span = int(width + 1)
    if max(abs(int(patient.min())), abs(int(patient.max()))) + 1 >= (1 << 53) // (span * span):
        return None
    key = _whole(admission_day, first_admission)
    if key is None:
        return None
    discharge = _whole(discharge_day, first_discharge)
    if discharge is None:
        return None
    key += patient.astype(np.int64, copy=False) * np.int64(span)
    key *= span
    key += discharge
    if key.min() >= 0:
        return _sorted_rows(key)
    return np.argsort(key, kind="stable")


def _whole(day: np.ndarray, first) -> np.ndarray | None:
    """Days since ``first`` as a new int64 array, or None if a day has a fraction."""
    if day.dtype.kind not in "iuf":
        return None
    whole = day.astype(np.int64)
    if day.dtype.kind == "f" and not np.array_equal(whole, day):
        return None
    whole -= np.int64(first)
    return whole


def _sorted_rows(key: np.ndarray) -> np.ndarray:
    """Row numbers in the order of the non-negative integer ``key``, ties in row order. A key
    already in a few sorted runs (the model's year: a month's cases, then its follow-ups) is
    sorted by numpy's stable sort, which merges the runs; else the row number is packed below
    the key and plain integers are sorted (numpy's SIMD sort, ~3× an argsort); keys too wide to
    pack take the stable sort as well. All three give the same order."""
    n = len(key)
    bits = max(int(n - 1).bit_length(), 1)  # for the row numbers
    if np.count_nonzero(key[1:] < key[:-1]) <= n >> 10 or key.max() >= (1 << (63 - bits)):
        return np.argsort(key, kind="stable")
    packed = key << bits
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    return packed & ((1 << bits) - 1)


def share(hospital, mask, n_hospitals, among=None):
    """Share of a hospital's cases where ``mask`` holds (low/high-multiple shares, readmissions);
    ``among`` restricts the cases counted (e.g. the unplanned ones for readmissions, §6)."""
    counted = np.ones(len(hospital), dtype=bool) if among is None else np.asarray(among, bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.bincount(hospital, weights=(mask & counted).astype(float),
                            minlength=n_hospitals)
                / np.bincount(hospital, weights=counted.astype(float), minlength=n_hospitals))


def self_pay_ratio(hospital, self_pay, cost, n_hospitals):
    """§6: out-of-policy self-paid cost ÷ total cost."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _per(hospital, self_pay, n_hospitals) / _per(hospital, cost, n_hospitals)
