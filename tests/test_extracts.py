"""Case tables as bureaus export them (issue 8, item 1): encodings, Chinese headers, Excel, value
forms, all problems at once, ``--errors`` and ``--skip-bad-rows``.

The fixtures in ``tests/data/extract`` are one set of 600 synthetic cases in four shapes (see
``make_fixtures.py``); every shape must settle to the same cents as the clean twin.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sim.commands.cli import main
from sim.inputs.cases import level_and_grade
from sim.inputs.extract import header_key, parse_amounts, parse_dates

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data" / "extract"
CATALOGUE = ROOT / "scenarios" / "catalogues" / "guangxi_2022.csv"
ONE_BUDGET = Path(__file__).parent / "data" / "reforms" / "one_budget.yaml"
MONEY = ["cost", "patient_paid", "ffs_fund_paid", "fund_payable", "monthly_prepaid",
         "january_advance", "year_end_payment", "points"]


def _settle(cases: Path, out: Path, *extra: str) -> int:
    # one budget for both schemes: the twins carry a scheme column the plain example lacks
    return main(["settle", str(cases), "--catalogue", str(CATALOGUE), "--policy", "point",
                 "--reform", str(ONE_BUDGET), "--out", str(out), "--quiet", "--no-parquet",
                 *extra])


def _hospitals(out: Path) -> pd.DataFrame:
    table = pd.read_csv(out / "hospital_settlement.csv", dtype={"hospital_id": str})
    return table.sort_values("cases", kind="stable").reset_index(drop=True)


def _record(out: Path) -> dict:
    return json.loads((out / "run_record.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean") / "out"
    assert _settle(DATA / "clean.csv", out) == 0
    return out


def _same_cents(out: Path, clean: Path, ids=None) -> None:
    got, want = _hospitals(out), _hospitals(clean)
    assert len(got) == len(want) == 12
    key = ["cases", "cost"]
    got = got.sort_values(key).reset_index(drop=True)
    want = want.sort_values(key).reset_index(drop=True)
    for column in MONEY:
        np.testing.assert_array_equal(got[column].round(2), want[column].round(2), column)
    if ids is not None:
        assert list(got.hospital_id.map(ids)) == list(want.hospital_id)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    expected = json.loads((clean / "summary.json").read_text("utf-8"))
    assert summary["totals"] == expected["totals"]
    # hospital codes of the Excel twin sort differently, so sums run in another order
    assert summary["annual_point_value"] == pytest.approx(expected["annual_point_value"],
                                                          rel=1e-14)


def test_gbk_extract_with_chinese_headers_settles_to_the_same_cents(clean, tmp_path, capsys):
    out = tmp_path / "out"
    assert _settle(DATA / "bureau_gbk.csv", out) == 0
    _same_cents(out, clean, ids=lambda h: h)
    read = _record(out)["parameters"]["cases_read"]
    assert read["encoding"] == "gb18030" and read["encoding_detected"] is True
    assert read["columns"]["drg"] == "DRG组编码"
    assert read["columns"]["cost"] == "医疗总费用(元)"
    assert read["columns"]["scheme"] == "险种类型"
    warned = capsys.readouterr().err
    assert "'主要诊断', '备注'" in warned  # the columns not read are named
    hospitals = pd.read_csv(out / "hospital_settlement.csv", keep_default_na=False)
    grades = dict(zip(hospitals.hospital_id, hospitals.hospital_grade, strict=True))
    assert grades["H12"] == "A" and grades["H11"] == "B" and grades["H1"] == ""  # 三甲, 三乙
    assert hospitals.hospital_name[hospitals.hospital_id == "H12"].item() == "医院12"
    schemes = pd.read_csv(out / "case_points.csv").scheme
    assert schemes.value_counts().to_dict() == {"employee": 400, "resident": 200}


def test_excel_twin_settles_to_the_same_cents(clean, tmp_path):
    out = tmp_path / "out"
    assert _settle(DATA / "bureau.xlsx", out) == 0
    _same_cents(out, clean, ids=lambda h: f"H{int(h) - 4400000}")
    read = _record(out)["parameters"]["cases_read"]
    assert read["format"] == "excel" and read["sheet"] == "结算清单"


def test_given_encoding_is_used_and_recorded(clean, tmp_path):
    out = tmp_path / "out"
    assert _settle(DATA / "bureau_gbk.csv", out, "--encoding", "GBK") == 0
    read = _record(out)["parameters"]["cases_read"]
    assert read["encoding"] == "gb18030" and read["encoding_detected"] is False


# with a BOM, and UTF-16 without one (detected from a Chinese first header)
@pytest.mark.parametrize("codec", ["utf-16", "utf-8-sig", "utf-16-le", "utf-16-be"])
def test_utf16_and_bom_extracts(codec, clean, tmp_path):
    text = (DATA / "bureau_gbk.csv").read_bytes().decode("gbk")
    cases = tmp_path / "cases.csv"
    cases.write_bytes(text.encode(codec))
    out = tmp_path / "out"
    assert _settle(cases, out) == 0
    _same_cents(out, clean)


def test_tab_separated_extract(clean, tmp_path):
    frame = pd.read_csv(DATA / "clean.csv", dtype=str, keep_default_na=False)
    cases = tmp_path / "cases.txt"
    frame.to_csv(cases, sep="\t", index=False)
    out = tmp_path / "out"
    assert _settle(cases, out) == 0
    _same_cents(out, clean)
    assert _record(out)["parameters"]["cases_read"]["delimiter"] == "\t"


def test_columns_map_names_headers_drgsim_does_not_know(clean, tmp_path):
    out = tmp_path / "out"
    assert _settle(DATA / "bureau_renamed.csv", out, "--columns", str(DATA / "columns.yaml")) == 0
    _same_cents(out, clean)
    record = _record(out)
    assert record["parameters"]["cases_read"]["columns"]["cost"] == "合计金额"
    assert "columns" in record["inputs"]


def test_without_the_map_the_missing_column_says_how_to_name_it(tmp_path, capsys):
    assert _settle(DATA / "bureau_renamed.csv", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "header: missing column 'case_id'" in err and "--columns MAP.yaml" in err


@pytest.mark.parametrize("body, problem", [
    ("cost: 不存在\n", "column '不存在' is not in"),
    ("costs: 合计金额\n", "costs: unknown drgsim column (did you mean 'cost'?)"),
    ("cost: 合计金额\ndrg: 合计金额\n", "column '合计金额' is given for two drgsim columns"),
    ("- cost\n", "not a mapping of column names"),
])
def test_bad_columns_map(body, problem, tmp_path, capsys):
    mapping = tmp_path / "map.yaml"
    mapping.write_text(body, "utf-8")
    assert _settle(DATA / "bureau_renamed.csv", tmp_path / "out", "--columns", str(mapping)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(mapping) in err[0] and problem in err[0], err
    assert not (tmp_path / "out").exists()


def _broken(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """The clean twin with seven bad rows of five kinds."""
    frame = pd.read_csv(DATA / "clean.csv", dtype=str, keep_default_na=False)
    frame.loc[[10, 20, 30], "drg"] = "XX99"
    frame.loc[40, "cost"] = "n/a"
    frame.loc[50, "discharge_date"] = "2023-02-30"
    frame.loc[61] = frame.loc[60]  # the same row twice, as extracts joined twice have
    frame.loc[70, "hospital_level"] = "四级"
    cases = tmp_path / "broken.csv"
    frame.to_csv(cases, index=False)
    return cases, frame


def test_all_problems_at_once_in_one_line_and_every_one_in_the_errors_file(tmp_path, capsys):
    cases, _ = _broken(tmp_path)
    errors = tmp_path / "problems.csv"
    assert _settle(cases, tmp_path / "out", "--errors", str(errors)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "row 11 (line 12), column drg: 7 of 600 row(s) have problems (3 unknown group code " \
        "in drg, " in err[0]
    for kind in ("1 not a number in cost", "1 not a calendar date in discharge_date",
                 "1 duplicate case_id in case_id", "1 unknown level in hospital_level"):
        assert kind in err[0]
    assert f"every problem is in {errors}; --skip-bad-rows settles the other rows" in err[0]
    listed = pd.read_csv(errors, encoding="utf-8-sig", dtype={"value": str},
                         keep_default_na=False)
    assert list(listed.columns) == ["row", "line", "column", "field", "value", "problem",
                                    "expected"]
    assert list(listed.row) == [11, 21, 31, 41, 51, 62, 71]
    assert list(listed.line) == [12, 22, 32, 42, 52, 63, 72]
    assert listed.value.tolist() == ["XX99", "XX99", "XX99", "n/a", "2023-02-30", "C61", "四级"]
    assert not (tmp_path / "out").exists()


def test_skip_bad_rows_settles_every_good_row_and_sets_the_bad_ones_aside(tmp_path, capsys):
    cases, frame = _broken(tmp_path)
    out = tmp_path / "out"
    assert _settle(cases, out, "--skip-bad-rows") == 0
    assert "7 row(s) with problems set aside" in capsys.readouterr().err
    rejected = pd.read_csv(out / "rejected_rows.csv", encoding="utf-8-sig", dtype=str,
                           keep_default_na=False)
    assert rejected.row.astype(int).tolist() == [11, 21, 31, 41, 51, 62, 71]
    assert rejected.drop(columns=["row", "problems"]).reset_index(drop=True).equals(
        frame.iloc[[10, 20, 30, 40, 50, 61, 70]].reset_index(drop=True))
    assert "drg: unknown group code 'XX99'" in rejected.problems[0]
    # no good row lost: the settled cases are exactly the others, settled as a clean file
    good = frame.drop(index=[10, 20, 30, 40, 50, 61, 70])
    clean = tmp_path / "good.csv"
    good.to_csv(clean, index=False)
    assert _settle(clean, tmp_path / "good") == 0
    points = pd.read_csv(out / "case_points.csv")
    assert points.case_id.tolist() == good.case_id.tolist()
    _same_cents_any(out, tmp_path / "good")
    record = _record(out)
    assert record["parameters"]["cases_read"]["rows_set_aside"] == 7
    assert record["parameters"]["skip_bad_rows"] is True
    assert "rejected_rows.csv" in record["outputs"]


def _same_cents_any(out: Path, other: Path) -> None:
    got = pd.read_csv(out / "hospital_settlement.csv")
    want = pd.read_csv(other / "hospital_settlement.csv")
    for column in MONEY:
        np.testing.assert_array_equal(got[column], want[column], column)


def test_errors_file_is_checked_before_the_work_and_never_an_input(tmp_path, capsys):
    cases, _ = _broken(tmp_path)
    assert _settle(cases, tmp_path / "out", "--errors", str(cases)) == 2
    assert "--errors" in capsys.readouterr().err
    mine = tmp_path / "mine.csv"
    mine.write_text("a,b\n1,2\n", "utf-8")
    assert _settle(cases, tmp_path / "out", "--errors", str(mine)) == 2
    assert "was not written by drgsim" in capsys.readouterr().err
    assert mine.read_text("utf-8") == "a,b\n1,2\n"
    inside = tmp_path / "out" / "problems.csv"
    assert _settle(cases, tmp_path / "out", "--errors", str(inside)) == 2


def test_a_clean_table_writes_an_empty_errors_file(tmp_path):
    errors = tmp_path / "problems.csv"
    assert _settle(DATA / "clean.csv", tmp_path / "out", "--errors", str(errors)) == 0
    listed = pd.read_csv(errors, encoding="utf-8-sig")
    assert listed.empty and "problem" in listed.columns
    # a second run may replace the errors file drgsim wrote
    assert _settle(DATA / "clean.csv", tmp_path / "out", "--errors", str(errors)) == 0


def test_unknown_encoding_is_one_line(tmp_path, capsys):
    assert _settle(DATA / "clean.csv", tmp_path / "out", "--encoding", "klingon") == 2
    err = capsys.readouterr().err
    assert "--encoding: unknown encoding 'klingon'" in err


# --------------------------------------------------------------------------- value forms


@pytest.mark.parametrize("text, value", [
    ("1996.34", 1996.34), ("1,996.34", 1996.34), ("1,234,567", 1234567.0),
    ("１，９９６．３４", 1996.34), ("¥1,996.34", 1996.34), ("1996.34元", 1996.34),
    (" 12 ", 12.0), ("1e3", 1000.0),
])
def test_amounts_people_write(text, value):
    values, bad = parse_amounts(pa.chunked_array([pa.array(["0", text])]))
    assert not bad.any() and values[1] == value


@pytest.mark.parametrize("text", ["1.996,34", "12,34", "1,2345", "n/a", "", "1 996"])
def test_amounts_that_are_not_numbers(text):
    _, bad = parse_amounts(pa.chunked_array([pa.array(["0", text])]))
    assert bad.tolist() == [False, True]


@pytest.mark.parametrize("text, iso", [
    ("2024-03-05", "2024-03-05"), ("2024/3/5", "2024-03-05"), ("2024.3.5", "2024-03-05"),
    ("20240305", "2024-03-05"), ("2024年3月5日", "2024-03-05"),
    ("2024-03-05 10:23:00", "2024-03-05"), ("2024/03/05T08:00", "2024-03-05"),
    ("２０２４－０３－０５", "2024-03-05"), ("2024-02-29", "2024-02-29"),
])
def test_dates_people_write(text, iso):
    days, malformed, off = parse_dates(pa.chunked_array([pa.array([text])]))
    assert not malformed.any() and not off.any()
    assert str(np.datetime64("1970-01-01") + int(days[0])) == iso


@pytest.mark.parametrize("text, kind", [
    ("2023-02-29", "off"), ("2024/13/01", "off"), ("2024/4/31", "off"), ("20240230", "off"),
    ("05/03/2024", "malformed"), ("March 5", "malformed"), ("", "malformed"),
    ("2024-3", "malformed"),
])
def test_dates_that_are_refused(text, kind):
    _, malformed, off = parse_dates(pa.chunked_array([pa.array([text])]))
    assert (malformed[0], off[0]) == (kind == "malformed", kind == "off")


@pytest.mark.parametrize("text, level, grade", [
    ("tertiary", "tertiary", ""), ("三级", "tertiary", ""), ("三甲", "tertiary", "A"),
    ("三级甲等", "tertiary", "A"), ("三级乙等", "tertiary", "B"), ("二甲", "secondary", "A"),
    ("二级医院", "secondary", ""), ("3级", "tertiary", ""), ("Ⅲ级", "tertiary", ""),
    ("一级", "primary", ""), ("Secondary", "secondary", ""),
])
def test_levels_in_chinese_with_sub_grades(text, level, grade):
    levels = ("primary", "secondary", "tertiary")
    assert level_and_grade(text, levels) == (levels.index(level), grade)


@pytest.mark.parametrize("text", ["四级", "未定级", "甲等", "三级特", ""])
def test_levels_that_are_none_of_the_policy(text):
    assert level_and_grade(text, ("primary", "secondary", "tertiary"))[0] == -1


def test_headers_compare_without_width_case_spaces_or_units():
    assert header_key("医疗总费用（元）") == header_key("医疗总费用") == "医疗总费用"
    assert header_key("Case ID") == header_key("case_id") == "caseid"
    assert header_key("ＤＲＧ编码") == header_key("drg编码")


# --------------------------------------------------------------------------- review findings


def _clean_frame() -> pd.DataFrame:
    return pd.read_csv(DATA / "clean.csv", dtype=str, keep_default_na=False)


def _write(frame: pd.DataFrame, path: Path, encoding: str = "utf-8") -> Path:
    frame.to_csv(path, index=False, encoding=encoding)
    return path


def test_an_amount_header_in_wan_yuan_is_refused(tmp_path, capsys):
    frame = _clean_frame().rename(columns={"cost": "医疗总费用(万元)"})
    assert _settle(_write(frame, tmp_path / "c.csv"), tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "column 医疗总费用(万元): cost in 万元; expected amounts in yuan (元)" in err


def test_bracketed_qualifiers_are_part_of_the_name_and_file_order_breaks_ties(tmp_path, capsys):
    frame = _clean_frame().rename(columns={"fund_paid": "基金支付(大病)"})
    assert _settle(_write(frame, tmp_path / "c.csv"), tmp_path / "out") == 2
    assert "missing column 'fund_paid'" in capsys.readouterr().err
    frame = _clean_frame().rename(columns={"cost": "总费用"})
    frame.insert(0, "总费用(元)", "1")  # same name with its unit, earlier in the file
    assert _settle(_write(frame, tmp_path / "d.csv"), tmp_path / "out2") == 2
    err = capsys.readouterr().err
    assert "fund_paid + patient_paid ≠ cost" in err  # the first column (1 yuan) was read


def test_hospital_case_numbers_and_record_numbers_are_per_hospital(tmp_path, capsys):
    frame = _clean_frame()
    frame["hospital_number"] = frame.groupby("hospital_id").cumcount().astype(str)
    frame["record"] = frame.groupby("hospital_id").cumcount().mod(50).astype(str)
    frame = frame.drop(columns=["case_id", "patient_id"]).rename(
        columns={"hospital_number": "住院号", "record": "病案号"})
    out = tmp_path / "out"
    assert _settle(_write(frame, tmp_path / "c.csv"), out) == 0
    err = capsys.readouterr().err
    assert "case_id values repeat across hospitals" in err
    assert "patients are told apart within each hospital only" in err
    points = pd.read_csv(out / "case_points.csv", dtype=str)
    assert points[["hospital_id", "case_id"]].duplicated().sum() == 0
    assert points.case_id.duplicated().any()
    assert _record(out)["parameters"]["cases_read"]["patient_scope"] == "hospital"


def test_whole_number_ids_stored_as_floats_stay_whole(tmp_path):
    frame = pd.read_csv(DATA / "clean.csv")
    frame["case_id"] = (2_024_000_000_000 + np.arange(len(frame))).astype(float)
    frame["patient_id"] = frame["case_id"] + 0.0
    cases = tmp_path / "c.parquet"
    frame.to_parquet(cases)
    out = tmp_path / "out"
    assert _settle(cases, out) == 0
    points = pd.read_csv(out / "case_points.csv", dtype=str)
    assert points.case_id[0] == "2024000000000" and points.case_id[1] == "2024000000001"


def test_more_kinds_than_shown_are_counted(tmp_path, capsys):
    frame = _clean_frame()
    for row, (column, value) in enumerate([
            ("drg", "XX99"), ("cost", "x"), ("fund_paid", "x"), ("patient_paid", "x"),
            ("los_days", "-1"), ("discharge_date", "x"), ("admission_date", "x"),
            ("review", "maybe"), ("review_approved", "perhaps")]):
        frame.loc[row * 10, column] = value
    assert _settle(_write(frame, tmp_path / "c.csv"), tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "9 of 600 row(s) have problems" in err
    assert "and 3 more of 3 other kind(s)" in err


def test_a_hospital_split_evenly_between_two_levels_is_not_guessed(tmp_path, capsys):
    frame = _clean_frame()
    rows = frame.index[frame.hospital_id == "H3"]
    frame.loc[rows[: len(rows) // 2], "hospital_level"] = "secondary"
    frame.loc[rows[len(rows) // 2:], "hospital_level"] = "tertiary"
    frame = frame.drop(index=rows[len(rows) // 2 * 2:])
    assert _settle(_write(frame, tmp_path / "c.csv"), tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert f"{len(rows) // 2 * 2:,} as many rows of the hospital say otherwise in " \
        "hospital_level" in err


def test_an_empty_optional_amount_is_zero(clean, tmp_path):
    frame = _clean_frame()
    frame.loc[frame.self_pay.astype(float) == 0, "self_pay"] = ""
    frame.loc[:, "unreasonable_cost"] = ""
    out = tmp_path / "out"
    assert _settle(_write(frame, tmp_path / "c.csv"), out) == 0
    _same_cents(out, clean)


def test_title_lines_above_the_header_are_skipped(clean, tmp_path, capsys):
    text = (DATA / "clean.csv").read_text("utf-8")
    cases = tmp_path / "c.csv"
    cases.write_text("某市医保局 2023年住院结算清单,,\n导出日期: 2024-01-05\n" + text, "utf-8")
    out = tmp_path / "out"
    assert _settle(cases, out) == 0
    _same_cents(out, clean)
    assert "the header is on line 3; the 2 line(s) above it are not read" in \
        capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("title\n" + text.replace("C5,P", "C5x,P").replace(",MS11,", ",XX11,", 1),
                   "utf-8")
    assert _settle(bad, tmp_path / "out2") == 2
    assert "row 1 (line 3), column drg" in capsys.readouterr().err  # lines count the title


def test_excel_with_a_cover_sheet_and_a_title_row(clean, tmp_path, capsys):
    import openpyxl

    frame = _clean_frame()
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表为2023年住院结算数据"])
    sheet = book.create_sheet("数据")
    sheet.append(["2023年结算清单"])
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    cases = tmp_path / "c.xlsx"
    book.save(cases)
    out = tmp_path / "out"
    assert _settle(cases, out) == 0
    _same_cents(out, clean)
    err = capsys.readouterr().err
    assert "read sheet '数据'; other sheet(s) with data not read: '说明'" in err
    assert "the header is on row 2" in err


def test_repeated_headers_not_read_are_a_note_read_ones_an_error(clean, tmp_path, capsys):
    text = (DATA / "clean.csv").read_text("utf-8").splitlines()
    cases = tmp_path / "c.csv"
    cases.write_text("\n".join([text[0] + ",备注,备注"] + [line + ",a,b" for line in text[1:]])
                     + "\n", "utf-8")
    out = tmp_path / "out"
    assert _settle(cases, out) == 0
    assert "column '备注' appears 2 times (columns 16, 17); not read" in capsys.readouterr().err
    cases.write_text("\n".join([text[0] + ",drg"] + [line + ",MS11" for line in text[1:]])
                     + "\n", "utf-8")
    assert _settle(cases, tmp_path / "out2") == 2
    assert "column name 'drg' appears twice (columns 5 and 16)" in capsys.readouterr().err


def test_a_whole_file_problem_is_the_errors_list(tmp_path, capsys):
    frame = _clean_frame().drop(columns=["drg"])
    errors = tmp_path / "problems.csv"
    assert _settle(_write(frame, tmp_path / "c.csv"), tmp_path / "out", "--errors",
                   str(errors)) == 2
    listed = pd.read_csv(errors, encoding="utf-8-sig", keep_default_na=False)
    assert len(listed) == 1 and listed.problem[0] == "missing column 'drg'"


def test_days_from_civil_agrees_with_numpy_over_four_centuries_and_more():
    from sim.inputs.extract import days_from_civil

    days = np.arange(-250_000, 250_000, 7)
    dates = (np.datetime64("1970-01-01") + days).astype("datetime64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    np.testing.assert_array_equal(days_from_civil(year, month, day), days)
