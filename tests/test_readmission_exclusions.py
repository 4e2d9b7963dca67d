"""§6 15-day readmission rate without scheduled chemo/radiotherapy and per-diem cases (issue 9,
feature h), in ``drgsim settle``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

DATA = Path(__file__).parent / "data" / "handmade"
HEADER = ("case_id,patient_id,hospital_id,hospital_level,drg,cost,fund_paid,patient_paid,"
          "los_days,discharge_date,admission_date,per_diem\n")
# H1, patient P1: ES25 1-5 Jan, RE19 (chemotherapy of a malignancy, ADRG RE1) 10-12 Jan,
# ES25 21-25 Jan. Counting all: 5 -> 10 and 12 -> 21 are readmissions (2 of 3). Without the
# scheduled treatment: 5 -> 21 is 16 days: none of 2 index discharges is readmitted.
# H1, patient P2: ES25 1-3 Feb, then a per-diem stay 5-8 Feb: not a readmission (0 of 1).
# H2, patient P3: ES25 1-3 Mar, ES25 5-8 Mar: 2 days -> a readmission (1 of 2 discharges).
ROWS = """C1,P1,H1,secondary,ES25,8000,5600,2400,4,2023-01-05,2023-01-01,false
C2,P1,H1,secondary,RE19,9000,6300,2700,2,2023-01-12,2023-01-10,false
C3,P1,H1,secondary,ES25,8000,5600,2400,4,2023-01-25,2023-01-21,false
C4,P2,H1,secondary,ES25,8000,5600,2400,2,2023-02-03,2023-02-01,false
C5,P2,H1,secondary,ES25,8000,5600,2400,3,2023-02-08,2023-02-05,true
C6,P3,H2,tertiary,ES25,9000,6300,2700,2,2023-03-03,2023-03-01,false
C7,P3,H2,tertiary,ES25,9000,6300,2700,3,2023-03-08,2023-03-05,false
"""


def _rates(tmp_path: Path, *reform: str) -> dict:
    cases = tmp_path / "cases.csv"
    cases.write_text(HEADER + ROWS, "utf-8")
    extra = []
    if reform:
        path = tmp_path / "reform.yaml"
        path.write_text("title: t\nchanges:\n" + "".join(reform), "utf-8")
        extra = ["--reform", str(path)]
    out = tmp_path / "out"
    assert main(["settle", str(cases), "--catalogue", str(DATA / "catalogue.csv"), "--policy",
                 str(DATA / "policy.yaml"), "--out", str(out), "--quiet", "--no-parquet",
                 *extra]) == 0
    table = pd.read_csv(out / "hospital_indicators.csv")
    return dict(zip(table.hospital_id, table.readmission_15d_rate, strict=True))


def test_scheduled_treatment_and_per_diem_stays_are_left_out(tmp_path):
    # H1: index discharges C1, C3, C4 (C2 chemotherapy, C5 per diem): none readmitted -> 0
    assert _rates(tmp_path) == pytest.approx({"H1": 0.0, "H2": 0.5})


def test_without_the_exclusion_the_chemotherapy_counts(tmp_path):
    # null: only the per-diem stay C5 is left out; H1: C1 (-> C2 after 5 days) and C2 (-> C3
    # after 9 days) readmitted, C3 and C4 not: 2 of 4
    rates = _rates(tmp_path, "  indicators.readmission_excluded_adrgs: {2020-01-01: null}\n")
    assert rates == pytest.approx({"H1": 0.5, "H2": 0.5})


@pytest.mark.parametrize("days", ["integers", "whole floats", "fractions", "sorted runs",
                                  "negative codes"])
def test_readmitted_within_is_the_search_in_patient_day_order(days):
    """One sort of the packed key (issue 13) flags what a sort by patient, admission and
    discharge day flags, for days held as integers, as whole floats (the model's) or not, for
    cases already in a few sorted runs (the model's year: a month's cases, then its follow-ups)
    and for negative patient codes."""
    import numpy as np

    from sim.rules.indicators import readmitted_within

    rng = np.random.default_rng(7)
    n = 20_000
    patient = rng.integers(-3_000 if days == "negative codes" else 0, 6_000, n)
    admission = rng.integers(19_000, 19_400, n)
    discharge = admission + rng.integers(0, 30, n)
    if days == "sorted runs":  # four runs, each in patient and day order
        runs = [np.lexsort((discharge[part], admission[part], patient[part])) + part[0]
                for part in np.array_split(np.arange(n), 4)]
        patient, admission, discharge = (column[np.concatenate(runs)]
                                         for column in (patient, admission, discharge))
    if days in ("whole floats", "fractions", "sorted runs"):
        admission, discharge = admission.astype(float), discharge.astype(float)
    if days == "fractions":
        discharge = discharge + 0.5
    order = np.lexsort((discharge, admission, patient))
    expected = np.zeros(n, dtype=bool)
    gap = admission[order][1:] - discharge[order][:-1]
    expected[order[:-1]] = (patient[order][1:] == patient[order][:-1]) & (gap >= 0) & (gap <= 15)
    assert expected.sum() > 100
    np.testing.assert_array_equal(readmitted_within(patient, admission, discharge), expected)
