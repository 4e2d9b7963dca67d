"""Bad input: one clear line, exit code 2, no traceback, no output folder (issue 2, item 6)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

DATA = Path(__file__).parent / "data" / "handmade"


def _cases() -> pd.DataFrame:
    return pd.read_csv(DATA / "cases.csv", dtype=str, keep_default_na=False)


def _set(frame: pd.DataFrame, row: int, **values) -> pd.DataFrame:
    for column, value in values.items():
        frame.loc[row, column] = value
    return frame


MUTATIONS = {
    "missing column": (lambda f: f.drop(columns=["cost"]), "header: missing column 'cost'"),
    "unknown DRG code": (lambda f: _set(f, 2, drg="XX99"),
                         "row 3 (line 4), column drg: unknown group code 'XX99'"),
    "group without weight": (lambda f: _set(f, 2, drg="ZZ19"),
                             "column drg: group 'ZZ19' has 1 case(s) but no weight"),
    "negative money": (lambda f: _set(f, 1, cost="-9000", fund_paid="-6300",
                                      patient_paid="-2700"),
                       "row 2 (line 3), column cost: value -9000.0; expected a finite amount"),
    "NaN money": (lambda f: _set(f, 1, fund_paid="nan"), "column fund_paid: value nan"),
    "infinite money": (lambda f: _set(f, 1, cost="inf"), "column cost: value inf"),
    "money not a number": (lambda f: _set(f, 1, cost="9,000"),
                           "column cost: value '9,000' is not a number"),
    "empty money": (lambda f: _set(f, 1, patient_paid=""),
                    "column patient_paid: value '' is not a number"),
    "fund + patient != cost": (lambda f: _set(f, 1, fund_paid="6300.02"),
                               "row 2 (line 3), column cost: fund_paid 6300.02 + patient_paid "
                               "2700.00 ≠ cost 9000.00"),
    "duplicate case_id": (lambda f: _set(f, 8, case_id="C1"),
                          "row 9 (line 10), column case_id: duplicate case_id 'C1'"),
    "hospital with two levels": (lambda f: _set(f, 2, hospital_level="tertiary"),
                                 "hospital 'H1' is tertiary here but secondary in row 1"),
    "unknown level": (lambda f: _set(f, 0, hospital_level="quaternary"),
                      "unknown level 'quaternary'; expected one of the policy's levels"),
    "date outside the year": (lambda f: _set(f, 8, discharge_date="2024-01-02"),
                              "row 9 (line 10), column discharge_date: date 2024-01-02 is outside "
                              "the settlement year 2023"),
    "bad date": (lambda f: _set(f, 0, discharge_date="2023/01/10"),
                 "value '2023/01/10' is not a date; expected a date written YYYY-MM-DD"),
    "admission after discharge": (lambda f: _set(f, 0, admission_date="2023-01-11"),
                                  "admission_date ≤ discharge_date"),
    "bad review": (lambda f: _set(f, 0, review="maybe"), "column review: value 'maybe'"),
    "bad approval flag": (lambda f: _set(f, 0, review_approved="perhaps"),
                          "column review_approved: value 'perhaps'; expected true or false"),
    "self-pay above patient share": (lambda f: _set(f, 0, self_pay="2500"),
                                     "self_pay ≤ patient_paid"),
    "negative stay": (lambda f: _set(f, 0, los_days="-1"), "column los_days: value -1.0"),
    "empty identifier": (lambda f: _set(f, 3, hospital_id=""),
                         "row 4 (line 5), column hospital_id: empty value"),
    "no cases": (lambda f: f.iloc[0:0], "the file has no cases"),
}


def _settle(cases: Path, out: Path, *extra: str) -> int:
    return main(["settle", str(cases), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(DATA / "policy.yaml"), "--out", str(out), "--quiet", *extra])


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("drgsim: error: ")
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_bad_case_table(name, tmp_path, capsys):
    mutate, expected = MUTATIONS[name]
    cases = tmp_path / "cases.csv"
    mutate(_cases()).to_csv(cases, index=False)
    out = tmp_path / "out"
    assert _settle(cases, out) == 2
    line = _one_line_error(capsys)
    assert str(cases) in line
    assert expected in line
    assert not out.exists()
    assert not list(tmp_path.glob("out.partial-*"))


def test_empty_file(tmp_path, capsys):
    cases = tmp_path / "cases.csv"
    cases.write_bytes(b"")
    assert _settle(cases, tmp_path / "out") == 2
    assert "the file is empty" in _one_line_error(capsys)


def test_wrong_encoding(tmp_path, capsys):
    cases = tmp_path / "cases.csv"
    text = (DATA / "cases.csv").read_text("utf-8").replace("C5,P5", "C5,病人5")
    cases.write_bytes(text.encode("gbk"))
    assert _settle(cases, tmp_path / "out") == 2
    line = _one_line_error(capsys)
    assert "line 6: byte 0xb2 is not UTF-8; expected a UTF-8 encoded CSV file" in line


def test_missing_file(tmp_path, capsys):
    assert _settle(tmp_path / "nope.csv", tmp_path / "out") == 2
    assert "nope.csv: file not found" in _one_line_error(capsys)


def test_bad_parquet_row_is_named_without_line(tmp_path, capsys):
    frame = _set(_cases(), 4, drg="QQ11")
    cases = tmp_path / "cases.parquet"
    frame.to_parquet(cases)
    assert _settle(cases, tmp_path / "out") == 2
    assert "row 5, column drg: unknown group code 'QQ11'" in _one_line_error(capsys)


def test_bad_budget(tmp_path, capsys):
    assert _settle(DATA / "cases.csv", tmp_path / "out", "--budget", "nan") == 2
    assert "--budget: value nan" in _one_line_error(capsys)


def test_bad_catalogue(tmp_path, capsys):
    catalogue = tmp_path / "catalogue.csv"
    text = (DATA / "catalogue.csv").read_text("utf-8").replace("FM15,", "FM13,", 1)
    catalogue.write_text(text, "utf-8")
    code = main(["settle", str(DATA / "cases.csv"), "--catalogue", str(catalogue),
                 "--policy", "point", "--out", str(tmp_path / "out")])
    assert code == 2
    assert "row 3, column code: duplicate group code 'FM13'" in _one_line_error(capsys)


def test_no_traceback_from_the_installed_command(tmp_path):
    """The console entry point itself: one line on stderr, exit code 2."""
    cases = tmp_path / "cases.csv"
    _set(_cases(), 2, drg="XX99").to_csv(cases, index=False)
    result = subprocess.run(
        [sys.executable, "-m", "sim.cli", "settle", str(cases), "--catalogue",
         str(DATA / "catalogue.csv"), "--policy", "point", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_existing_output_survives_a_failed_run(tmp_path, capsys):
    out = tmp_path / "out"
    assert _settle(DATA / "cases.csv", out) == 0
    before = sorted(p.name for p in out.iterdir())
    bad = tmp_path / "bad.csv"
    _set(_cases(), 2, drg="XX99").to_csv(bad, index=False)
    assert _settle(bad, out) == 2
    assert sorted(p.name for p in out.iterdir()) == before
