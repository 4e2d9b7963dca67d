"""Bad input: one clear line, exit code 2, no traceback, no output folder (issue 2, item 6)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import tree

from sim.commands.cli import main

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
                         "row 3 (line 4), column drg: 1 of 9 row(s) have problems (1 unknown "
                         "group code in drg); the first: unknown group code 'XX99'"),
    "group without weight": (lambda f: _set(f, 2, drg="ZZ19"),
                             "column drg: 1 of 9 row(s) have problems (1 group without a weight "
                             "in drg); the first: group without a weight 'ZZ19'"),
    "negative money": (lambda f: _set(f, 1, cost="-9000", fund_paid="-6300",
                                      patient_paid="-2700"),
                       "row 2 (line 3), column cost: 1 of 9 row(s) have problems (1 amount out of "
                       "range in cost, 1 amount out of range in fund_paid, 1 amount out of range "
                       "in patient_paid); the first: amount out of range '-9000'; expected a "
                       "finite amount"),
    "NaN money": (lambda f: _set(f, 1, fund_paid="nan"),
                  "column fund_paid: 1 of 9 row(s) have problems (1 amount out of range in "
                  "fund_paid); the first: amount out of range 'nan'"),
    "infinite money": (lambda f: _set(f, 1, cost="inf"),
                       "column cost: 1 of 9 row(s) have problems (1 amount out of range in "
                       "cost); the first: amount out of range 'inf'"),
    "money not a number": (lambda f: _set(f, 1, cost="9.000,00"),
                           "column cost: 1 of 9 row(s) have problems (1 not a number in cost); "
                           "the first: not a number '9.000,00'"),
    "empty money": (lambda f: _set(f, 1, patient_paid=""),
                    "column patient_paid: 1 of 9 row(s) have problems (1 not a number in "
                    "patient_paid); the first: not a number ''"),
    "fund + patient != cost": (lambda f: _set(f, 1, fund_paid="6300.02"),
                               "row 2 (line 3), column cost: 1 of 9 row(s) have problems "
                               "(1 fund_paid + patient_paid ≠ cost in cost); the first: fund_paid "
                               "+ patient_paid ≠ cost '6300.02 + 2700.00 ≠ 9000.00'"),
    "duplicate case_id": (lambda f: _set(f, 8, case_id="C1"),
                          "row 9 (line 10), column case_id: 1 of 9 row(s) have problems (1 "
                          "duplicate case_id in case_id); the first: duplicate case_id 'C1'"),
    "hospital with two levels": (lambda f: _set(f, 2, hospital_level="tertiary"),
                                 "row 3 (line 4), column hospital_level: 1 of 9 row(s) have "
                                 "problems (1 differs from the hospital's other rows in "
                                 "hospital_level); the first: differs from the hospital's other "
                                 "rows 'H1: tertiary (usually secondary)'"),
    "unknown level": (lambda f: _set(f, 0, hospital_level="quaternary"),
                      "unknown level 'quaternary'; expected one of the policy's levels"),
    "date not on the calendar": (lambda f: _set(f, 4, discharge_date="2023-02-30"),
                                 "row 5 (line 6), column discharge_date: 1 of 9 row(s) have "
                                 "problems (1 not a calendar date in discharge_date); the first: "
                                 "not a calendar date '2023-02-30'"),
    "admission date not on the calendar": (lambda f: _set(f, 4, admission_date="2023-02-29"),
                                           "column admission_date: 1 of 9 row(s) have problems (1 "
                                           "not "
                                           "a calendar date in admission_date)"),
    "cost too large for cents": (lambda f: _set(f, 1, cost="6e21", fund_paid="6e21",
                                                patient_paid="0"),
                                 "row 2 (line 3), column cost: 1 of 9 row(s) have problems "
                                 "(1 amount out of range in cost, 1 amount out of range in "
                                 "fund_paid); the first: amount out of range '6e21'; expected a "
                                 "finite amount in yuan from 0 to 100,000,000"),
    "stay beyond a century": (lambda f: _set(f, 0, los_days="1e300"),
                              "column los_days: 1 of 9 row(s) have problems (1 not a length of "
                              "stay in los_days); the first: not a length of stay '1e300'; "
                              "expected a whole number of days"),
    "misspelt optional column": (lambda f: f.rename(columns={"unreasonable_cost":
                                                             "unreasonable_costs"}),
                                 "header: unknown column 'unreasonable_costs' (did you mean "
                                 "'unreasonable_cost'?)"),
    "misspelt admission date": (lambda f: f.rename(columns={"admission_date": "admision_date"}),
                                "unknown column 'admision_date' (did you mean 'admission_date'?)"),
    "bad date": (lambda f: _set(f, 0, discharge_date="10/01/2023"),
                 "the first: not a date '10/01/2023'; expected a date such as 2024-03-05, "
                 "2024/3/5 or 20240305 (year first)"),
    "admission after discharge": (lambda f: _set(f, 0, admission_date="2023-01-11"),
                                  "admission_date ≤ discharge_date"),
    "bad review": (lambda f: _set(f, 0, review="maybe"), "column review: 1 of 9 row(s) have "
    "problems (1 unknown review in review); the first: unknown review 'maybe'"),
    "bad approval flag": (lambda f: _set(f, 0, review_approved="perhaps"),
                          "column review_approved: 1 of 9 row(s) have problems (1 not yes or no "
                          "in review_approved); the first: not yes or no 'perhaps'; expected true "
                          "or false"),
    "self-pay above patient share": (lambda f: _set(f, 0, self_pay="2500"),
                                     "self_pay ≤ patient_paid"),
    "negative stay": (lambda f: _set(f, 0, los_days="-1"),
                      "column los_days: 1 of 9 row(s) have problems (1 not a length of stay in "
                      "los_days); the first: not a length of stay '-1'"),
    "empty identifier": (lambda f: _set(f, 3, hospital_id=""),
                         "row 4 (line 5), column hospital_id: 1 of 9 row(s) have problems (1 "
                         "empty value in hospital_id)"),
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


def test_bytes_of_no_known_encoding(tmp_path, capsys):
    """GBK is read (see test_extracts.py); bytes that are neither UTF-8 nor GB18030 are named."""
    cases = tmp_path / "cases.csv"
    raw = (DATA / "cases.csv").read_bytes().replace(b"C5,P5", b"C5,P\xff5")
    cases.write_bytes(raw)
    assert _settle(cases, tmp_path / "out") == 2
    line = _one_line_error(capsys)
    assert "line 6: byte 0xff is neither UTF-8 nor GB18030/GBK; expected a UTF-8, GBK/GB18030 " \
        "or UTF-16 file, or --encoding NAME" in line


def test_wrong_encoding_given(tmp_path, capsys):
    cases = tmp_path / "cases.csv"
    text = (DATA / "cases.csv").read_text("utf-8").replace("C5,P5", "C5,病人5")
    cases.write_bytes(text.encode("gbk"))
    assert _settle(cases, tmp_path / "out", "--encoding", "utf-8") == 2
    line = _one_line_error(capsys)
    assert "line 6: byte 0xb2 cannot be read as utf-8 (--encoding utf-8)" in line


def test_missing_file(tmp_path, capsys):
    assert _settle(tmp_path / "nope.csv", tmp_path / "out") == 2
    assert "nope.csv: file not found" in _one_line_error(capsys)


def test_bad_parquet_row_is_named_without_line(tmp_path, capsys):
    frame = _set(_cases(), 4, drg="QQ11")
    cases = tmp_path / "cases.parquet"
    frame.to_parquet(cases)
    assert _settle(cases, tmp_path / "out") == 2
    assert "row 5, column drg: 1 of 9 row(s) have problems (1 unknown group code in drg)" \
        in _one_line_error(capsys)


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
        [sys.executable, "-m", "sim.commands.cli", "settle", str(cases), "--catalogue",
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


# ------------------------------------------------------------------ issue 7: every class
def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def _csv_text() -> str:
    return (DATA / "cases.csv").read_text("utf-8")


def test_duplicated_header_is_refused(tmp_path, refused):
    text = _csv_text().replace("review_approved", "cost", 1)
    cases = _write(tmp_path, "cases.csv", text)
    refused(_settle(cases, tmp_path / "out"), str(cases), "column name 'cost' appears twice",
            "each column name once")
    assert not (tmp_path / "out").exists()


def test_truncated_last_row_is_refused_with_its_line(tmp_path, refused):
    text = _csv_text().rstrip("\n")
    cases = _write(tmp_path, "cases.csv", text[: text.rindex(",2023-03-15")])
    refused(_settle(cases, tmp_path / "out"), "line 10: a truncated row",
            "one field per column on every line")


def test_parquet_list_column_and_damaged_parquet(tmp_path, refused):
    frame = _cases()
    frame["review"] = [["none"]] * len(frame)
    cases = tmp_path / "cases.parquet"
    frame.to_parquet(cases)
    refused(_settle(cases, tmp_path / "out"), "column review: holds values of type list",
            "plain values")
    damaged = tmp_path / "damaged.parquet"
    _cases().to_parquet(damaged)
    damaged.write_bytes(damaged.read_bytes()[:-40])
    refused(_settle(damaged, tmp_path / "out"), "not a readable Parquet file",
            "expected a Parquet file")


def test_no_case_in_the_settled_year(tmp_path, refused):
    cases = tmp_path / "cases.csv"
    _cases().assign(discharge_date="2024-01-02").to_csv(cases, index=False)
    refused(_settle(cases, tmp_path / "out", "--year", "2023"),
            "row 1 (line 2), column discharge_date: date 2024-01-02: no case was discharged in "
            "the settlement year 2023")


def test_money_total_bound(tmp_path, refused, monkeypatch):
    import sim.inputs.cases

    monkeypatch.setattr(sim.inputs.cases, "MAX_TOTAL_YUAN", 100_000.0)
    refused(_settle(DATA / "cases.csv", tmp_path / "out"), "column cost: costs total ¥270,000",
            "at most ¥100,000 in one case table")


def test_plausibility_warnings_do_not_stop_the_settlement(tmp_path, capsys):
    frame = _set(_cases(), 0, los_days="400")            # over a year, and not the dates
    frame = _set(frame, 8, discharge_date="2024-01-02")  # outside the settled year
    frame["ward"] = "A"                                   # not a case-table column
    cases = tmp_path / "cases.csv"
    frame.to_csv(cases, index=False)
    assert _settle(cases, tmp_path / "out", "--year", "2023") == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 5, warnings
    text = "\n".join(warnings)
    # the shipped point policy (Guigang) has separate scheme budgets; this table has no scheme
    assert "the case table has no scheme column: both schemes are settled from one DRG budget" \
        in text
    assert "1 column(s) not read (not case-table columns): 'ward'" in text
    assert "1 case(s) stayed over 365 days (first: row 1 (line 2), 400 days)" in text
    assert "los_days other than discharge_date − admission_date (first: row 1 (line 2)" in text
    assert "1 case(s) discharged outside 2023 left out of the settlement (first: row 9 " \
           "(line 10), 2024-01-02)" in text
    summary = pd.read_json(tmp_path / "out" / "summary.json", typ="series")
    assert summary["cases"] == 8


def test_an_error_after_rows_were_left_out_names_the_original_row(tmp_path, refused):
    frame = _set(_cases(), 0, discharge_date="2022-12-31")
    frame = _set(frame, 5, drg="XX99")
    cases = tmp_path / "cases.csv"
    frame.to_csv(cases, index=False)
    refused(_settle(cases, tmp_path / "out", "--year", "2023"),
            "row 6 (line 7), column drg: 1 of 9 row(s) have problems (1 unknown group code "
            "in drg); the first: unknown group code 'XX99'")


@pytest.mark.parametrize("role", ["cases", "catalogue", "policy", "reform"])
def test_a_folder_given_as_a_file(role, tmp_path, refused):
    folder = tmp_path / "folder"
    folder.mkdir()
    args = {"cases": str(DATA / "cases.csv"), "catalogue": str(DATA / "catalogue.csv"),
            "policy": "point"}
    if role != "reform":
        args[role] = str(folder)
    command = ["settle", args["cases"], "--catalogue", args["catalogue"], "--policy",
               args["policy"], "--out", str(tmp_path / "out")]
    if role == "reform":
        command += ["--reform", str(folder)]
    refused(main(command), str(folder), "is a folder", "a file, not a folder")
    assert not (tmp_path / "out").exists()


def test_a_folder_given_as_region_or_city_table(tmp_path, refused):
    folder = tmp_path / "folder"
    folder.mkdir()
    refused(main(["run", str(folder), "--out", str(tmp_path / "out")]), "is a folder")
    refused(main(["catalogue", "import", str(folder), "--out", str(tmp_path / "c.csv")]),
            "is a folder")
    refused(main(["report", str(tmp_path / "nothing")]), "does not exist")


@pytest.mark.skipif(os.geteuid() == 0, reason="file permissions do not bind root (CI runs as "
                                              "root); the unreadable-file branch needs a user")
def test_an_unreadable_file(tmp_path, refused):
    cases = tmp_path / "cases.csv"
    cases.write_text(_csv_text(), "utf-8")
    cases.chmod(0)
    refused(_settle(cases, tmp_path / "out"), "cannot be read")


def test_empty_files_of_every_kind(tmp_path, refused):
    empty_csv = _write(tmp_path, "empty.csv", "")
    empty_yaml = _write(tmp_path, "empty.yaml", "")
    out = str(tmp_path / "out")
    refused(main(["settle", str(DATA / "cases.csv"), "--catalogue", str(empty_csv), "--policy",
                  "point", "--out", out]), "empty.csv: the file is empty")
    refused(main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                  "--policy", str(empty_yaml), "--out", out]), "empty.yaml: the file is empty")
    refused(main(["run", str(empty_yaml), "--out", out]), "the file is empty")
    refused(main(["catalogue", "import", str(empty_csv), "--out", str(tmp_path / "c.csv")]),
            "the file is empty")


# ------------------------------------------------------------------ catalogues and city tables
CATALOGUE_ERRORS = {
    "weight 0 on a priced group": (lambda t: re.sub(r"(?m)^(FM15(?:,[^,]*){4}),[^,]*,",
                                                    r"\1,0,", t),
                                   "row 3, column weight: weight 0", "a weight above 0"),
    "duplicated header": (lambda t: t.replace("mean_cost,", "weight,", 1),
                          "column name 'weight' appears twice", "each column name once"),
    "truncated last row": (lambda t: t.rstrip("\n")[: t.rstrip("\n").rindex(",")],
                           "a truncated row", "one field per column"),
    "unclosed quote": (lambda t: t + 'ZZ99,"unclosed,ZZ9,Z,1,1,false,true,false\n',
                       "", "expected"),
}


@pytest.mark.parametrize("name", list(CATALOGUE_ERRORS))
def test_bad_catalogue_tables(name, tmp_path, refused):
    mutate, fragment, expected = CATALOGUE_ERRORS[name]
    text = (DATA / "catalogue.csv").read_text("utf-8")
    changed = mutate(text)
    assert changed != text
    catalogue = _write(tmp_path, "catalogue.csv", changed)
    refused(main(["settle", str(DATA / "cases.csv"), "--catalogue", str(catalogue), "--policy",
                  "point", "--out", str(tmp_path / "out")]), str(catalogue), fragment, expected)
    assert not (tmp_path / "out").exists()


CITY = Path(__file__).parents[1] / "scenarios" / "catalogues" / "sources" / "yunnan_2022.csv"


def test_city_table_duplicated_header_and_truncated_row(tmp_path, refused):
    text = CITY.read_text("utf-8-sig")
    header, rest = text.split("\n", 1)
    names = header.split(",")
    doubled = _write(tmp_path, "doubled.csv", ",".join(names + [names[-1]]) + "\n"
                     + "\n".join(line + ",x" for line in rest.splitlines() if line) + "\n")
    refused(main(["catalogue", "import", str(doubled), "--out", str(tmp_path / "a.csv")]),
            f"column name {names[-1]!r} appears twice")
    cut = text.rstrip("\n")
    truncated = _write(tmp_path, "truncated.csv", cut[: cut.rindex(",")])
    refused(main(["catalogue", "import", str(truncated), "--out", str(tmp_path / "b.csv")]),
            "a truncated row")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doubled.csv", "truncated.csv"]


# ------------------------------------------------------------------ YAML
BOMB = ("rationale: &a9 [&a8 [&a7 [&a6 [&a5 [&a4 [&a3 [&a2 [&a1 [&a0 [x,x,x,x,x,x,x,x,x,x]"
        + "".join(f",*a{i}" * 9 + "]" for i in range(9)) + "\n")

YAML_ERRORS = {
    "alias bomb": ("title: bomb\n" + BOMB + "changes: {audit.sample_rate: {2024-01-01: 0.2}}\n",
                   "aliases expand to more than 200,000 values", "a document of plain size"),
    "python tag": ("title: x\nchanges: !!python/object/apply:os.system ['echo hi']\n",
                   "line 2, column 10: the tag '!!python/object/apply:os.system'",
                   "plain YAML without tags"),
    "custom tag": ("title: !secret x\nchanges: {}\n", "the tag '!secret'", "without tags"),
    "tab indentation": ("title: x\nchanges:\n\taudit.sample_rate: 1\n",
                        "line 3, column 1: not valid YAML: found a tab", "spaces for indentation"),
    "bad indentation": ("title: x\nchanges:\n  a: 1\n b: 2\n", "line 4, column 2: not valid YAML",
                        "consistent indentation"),
    "unclosed bracket": ("title: x\nchanges: {audit.sample_rate: {2024-01-01: 0.2}\n",
                         "line 3, column 1: not valid YAML: found the end of the file",
                         "expected ',' or '}'"),
    "unclosed quote": ('title: "x\nchanges: {}\n', "not valid YAML: found the end of the file "
                       "inside quoted text", "a closing quote"),
    "colon in a value": ("title: a: b\n", "line 1, column 9: not valid YAML: found ':' inside a "
                         "value", "quote text that contains"),
    "undefined alias": ("title: *t\n", "the alias *t with no anchor", "an anchor &t"),
    "self-containing alias": ("title: x\nchanges: &c {a: *c}\n", "an alias that contains itself",
                              "aliases (*name) that refer to earlier"),
    "too deep": ("title: x\nchanges: " + "[" * 70 + "]" * 70 + "\n", "nesting deeper than 64",
                 "at most 64 levels"),
    "duplicate key": ("title: x\ntitle: y\n", "line 2: duplicate key 'title'", "each key once"),
    "two documents": ("title: x\n---\ntitle: y\n", "found a second document",
                      "a single YAML document"),
    "not UTF-8": ("title: 标题\n".encode("gbk"), "line 1: byte 0xb1 is not UTF-8",
                  "a UTF-8 encoded YAML file"),
    "title over several lines": ("title: |\n  one\n  two\nchanges: {audit.sample_rate: "
                                 "{2024-01-01: 0.2}}\n", "title: value", "a one-line title"),
    "rationale too long": ("title: x\nrationale: " + "y" * 30_000 + "\nchanges: "
                           "{audit.sample_rate: {2024-01-01: 0.2}}\n", "rationale: 30,002",
                           "at most 20,000 characters"),
}


@pytest.mark.parametrize("name", list(YAML_ERRORS))
def test_bad_yaml_in_a_reform(name, tmp_path, refused):
    body, fragment, expected = YAML_ERRORS[name]
    reform = tmp_path / "reform.yaml"
    reform.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    refused(main(["params", "point", "--reform", str(reform)]), str(reform), fragment, expected)


def test_alias_bomb_in_a_policy_and_a_region_is_refused_quickly(tmp_path, refused):
    import time

    policy = _write(tmp_path, "policy.yaml", "title: bomb\nmethod: point\n" + BOMB.replace(
        "rationale", "description"))
    region = _write(tmp_path, "region.yaml", "extends: default\n" + BOMB.replace(
        "rationale", "title"))
    started = time.perf_counter()
    refused(main(["params", str(policy)]), "aliases expand to more than")
    refused(main(["run", str(region), "--out", str(tmp_path / "out")]),
            "aliases expand to more than")
    assert time.perf_counter() - started < 5


def test_too_large_yaml_file(tmp_path, refused):
    big = tmp_path / "big.yaml"
    big.write_text("title: x\n" + "# padding\n" * 500_000, "utf-8")
    refused(main(["params", str(big)]), "above the limit of 4,194,304", "at most 4 MiB")


def test_policy_errors_name_the_file_that_extends_the_fragment(tmp_path, refused):
    """A value inherited from a fragment that the extending file makes wrong (here: levels)."""
    import shutil

    for name in ("_common.yaml", "_settlement.yaml", "point.yaml"):
        shutil.copy(Path(__file__).parents[1] / "scenarios" / "policies" / name, tmp_path)
    mine = _write(tmp_path, "mine.yaml", "title: two levels\nextends: point.yaml\n"
                  "levels: [secondary, tertiary]\n")
    line = refused(main(["params", str(mine)]), f"{mine} (value from ")
    assert "which it extends)" in line


def test_extends_must_name_a_file(tmp_path, refused):
    policy = _write(tmp_path, "policy.yaml", "title: x\nmethod: point\nextends: 5\n")
    refused(main(["params", str(policy)]), "extends: value 5", "a policy file name")


# ------------------------------------------------------------------ arguments
ARGUMENTS = {
    "negative seed": (["run", "--seed", "-1"], "argument --seed: value -1",
                      "a whole number from 0"),
    "seed not a number": (["compare", "--reform", "audit_double", "--seed", "x"],
                          "argument --seed: value 'x'", "a seed"),
    "infinite scale": (["run", "--scale", "inf"], "argument --scale: value inf",
                       "at most 100"),
    "scale zero": (["run", "--scale", "0"], "argument --scale: value 0", "a number above 0"),
    "scale too small for the region": (["run", "--scale", "1e-9"],
                                       "--scale: value 1e-09 gives about 0 admissions a year",
                                       "a scale giving 1,000 to 30,000,000 admissions"),
    "years 0": (["run", "--years", "0"], "argument --years: value 0", "from 1 to 50"),
    "years 51": (["compare", "--reform", "audit_double", "--years", "51"],
                 "argument --years: value 51", "from 1 to 50"),
    "start year five digits": (["run", "--start-year", "20233"],
                               "argument --start-year: value 20233", "from 1990 to 2100"),
    "replications 0": (["compare", "--reform", "audit_double", "--replications", "0"],
                       "argument --replications: value 0", "from 1 to 10,000"),
    "replications too many": (["compare", "--reform", "audit_double", "--replications",
                               "10001"], "value 10001", "from 1 to 10,000"),
    "budget negative": (["settle", str(DATA / "cases.csv"), "--catalogue", "guangxi_2022",
                         "--policy", "point", "--out", "x", "--budget", "-5"],
                        "argument --budget: value -5", "an amount in yuan"),
    "unknown option": (["run", "--yeras", "3"], "unrecognized arguments: --yeras",
                       "--help'"),
    "missing required": (["settle", str(DATA / "cases.csv")],
                         "the following arguments are required: --catalogue, --policy, --out",
                         "see 'drgsim settle --help'"),
    "no command": ([], "the following arguments are required: COMMAND", "see 'drgsim --help'"),
    "bad choice": (["compare", "--reform", "audit_double", "--lang", "fr"],
                   "argument --lang: invalid choice: 'fr'", "--help"),
    "unknown shipped name": (["run", "--policy", "pointt"],
                             "pointt: no such file, and no shipped policy of that name",
                             "one of: all_inclusive, dip, ffs, point, pool, rate"),
    "date not on the calendar": (["params", "point", "--date", "2023-02-29"],
                                 "'2023-02-29' is not a calendar date", "a real date"),
}


@pytest.mark.parametrize("name", list(ARGUMENTS))
def test_bad_arguments_are_one_line(name, tmp_path, refused, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv, fragment, expected = ARGUMENTS[name]
    refused(main(argv), fragment, expected)
    assert not list(tmp_path.iterdir())


def test_report_on_a_damaged_comparison(tmp_path, refused):
    folder = tmp_path / "compare"
    folder.mkdir()
    (folder / "run_record.json").write_text('{"written_by": "drgsim", "kind": "compare"}',
                                            "utf-8")
    (folder / "comparison.json").write_text('{"baseline": "point", "scenarios": [', "utf-8")
    before = tree(folder)
    refused(main(["report", str(folder)]), "comparison.json, line 1, column 37: not valid JSON",
            "the comparison.json that drgsim compare wrote")
    (folder / "comparison.json").write_text('{"baseline": 5}', "utf-8")
    refused(main(["report", str(folder)]), "key baseline: value 5")
    (folder / "comparison.json").write_text('{}', "utf-8")
    (folder / "run_record.json").unlink()
    refused(main(["report", str(folder)]), "no comparison.json and drgsim run record here")
    assert [p.name for p in folder.iterdir()] == ["comparison.json"]
    assert "run_record.json" in before


# ------------------------------------------------------------------ found by an adversarial corpus
def test_input_errors_survive_copies_and_pickles():
    """SimPy re-raises ``type(e)(*e.args)``; compare's workers pickle: the line must stay whole."""
    import pickle

    from sim.errors import InputError

    error = InputError("region.yaml", "cost_per_admission.tertiary", "value inf", "a number")
    assert str(type(error)(*error.args)) == str(error) == str(pickle.loads(pickle.dumps(error)))


def test_nulls_in_text_columns_and_cr_only_lines(tmp_path, refused, capsys):
    frame = _cases()
    frame["review"] = frame["review"].where(frame.index != 2, None)
    frame["review_approved"] = frame["review_approved"].where(frame.index != 3, None)
    cases = tmp_path / "cases.parquet"
    frame.to_parquet(cases)
    assert _settle(cases, tmp_path / "out") == 0  # a missing review is no review
    capsys.readouterr()
    old_mac = tmp_path / "cr.csv"
    old_mac.write_bytes(_csv_text().replace("\n", "\r").encode("utf-8"))
    refused(_settle(old_mac, tmp_path / "out2"), "line 1: not a readable CSV header",
            "ending in LF or CRLF")


def test_a_start_year_before_the_policy_is_named(tmp_path, refused):
    refused(main(["compare", "--reform", "audit_double", "--start-year", "1995", "--years", "1",
                  "--replications", "2", "--scale", "0.01", "--out", str(tmp_path / "out")]),
            "--start-year: value 1995", "no value in force on 1995-01-01")
    assert not (tmp_path / "out").exists()


def test_infinite_region_numbers_are_refused(tmp_path, refused):
    region = _write(tmp_path, "r.yaml", "extends: default\ncost_per_admission: {tertiary: .inf}\n")
    refused(main(["run", str(region), "--out", str(tmp_path / "out")]),
            "cost_per_admission.tertiary: value inf", "a finite number")
