"""Specification of the city-table importer (sim.inputs.citytables) and the shipped catalogues."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.commands.cli import main
from sim.errors import InputError
from sim.inputs.catalogue import load_catalogue, validate_catalogue, write_catalogue
from sim.inputs.citytables import import_city_table, source_card_path, write_source_card

CATALOGUES = Path(__file__).resolve().parents[1] / "scenarios" / "catalogues"
SHIPPED = ("guangxi_2022", "yunnan_2022", "suzhou_2022")


def write_csv(folder: Path, header: str, *rows: str, name: str = "city.csv",
              bom: bool = False) -> Path:
    """A hand-made city table, written as UTF-8 (optionally with BOM) like the published ones."""
    path = folder / name
    path.write_text("\n".join((header, *rows)) + "\n", encoding="utf-8-sig" if bom else "utf-8")
    return path


def write_xlsx(path: Path, rows: list[list[str]], sheets: dict[str, list[list]] | None = None
               ) -> Path:
    """A workbook as a bureau saves one: numbers as number cells (``0.8312``, ``118507``), text
    as text (codes such as ``0000`` stay text), empty cells empty; ``sheets`` adds sheets after
    the first."""
    import openpyxl

    def cell(value: str):
        if re.fullmatch(r"-?(0|[1-9]\d*)", value):
            return int(value)
        if re.fullmatch(r"-?(0|[1-9]\d*)\.\d+", value):
            return float(value)
        return value if value != "" else None

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "病组"
    for row in rows:
        sheet.append([cell(value) for value in row])
    for name, more in (sheets or {}).items():
        extra = book.create_sheet(name)
        for row in more:
            extra.append(row)
    book.save(path)
    return path


def ranks(table: pd.DataFrame) -> dict[str, int]:
    return dict(zip(table["code"], table["severity_rank"], strict=True))


# --- severity ranks (POLICY_RULES §0) --------------------------------------------------------


def test_ranks_of_chs_drg_families(tmp_path):
    path = write_csv(
        tmp_path, "DRG编码,DRG名称,RW",
        "ES31,呼吸系统感染，伴严重并发症或合并症,1.2",
        "ES33,呼吸系统感染，伴并发症或合并症,0.9",
        "ES35,呼吸系统感染，不伴并发症或合并症,0.7",
        "GE11,腹股沟及腹疝手术，伴严重并发症或合并症,1.5",
        "GE15,腹股沟及腹疝手术，不伴并发症或合并症,0.8",
        "DT13,中耳炎，伴并发症或合并症,0.5",
        "DT15,中耳炎，不伴并发症或合并症,0.4",
        "AB19,肝移植,20",
    )
    table, _ = import_city_table(path)
    assert ranks(table) == {
        "ES31": 3, "ES33": 2, "ES35": 1,   # 1/3/5
        "GE11": 2, "GE15": 1,              # 1/5
        "DT13": 2, "DT15": 1,              # 3/5
        "AB19": 1,                          # 9 unsplit
    }
    assert table.set_index("code").loc["ES33", ["adrg", "mdc"]].tolist() == ["ES3", "E"]


def test_ranks_of_letter_suffixes(tmp_path):
    path = write_csv(
        tmp_path, "DRG编码,DRG名称,RW",
        "AS06A,伴严重并发症,2.0",
        "AS06B,不伴严重并发症,1.0",
        "KB1A,甲,1.3",
        "KB1B,乙,1.2",
        "KB1C,丙,1.1",
        "A001Z,未细分,3.0",
    )
    table, _ = import_city_table(path)
    # A is the most severe, later letters less severe, Z is unsplit.
    assert ranks(table) == {"AS06A": 2, "AS06B": 1, "KB1A": 3, "KB1B": 2, "KB1C": 1, "A001Z": 1}


def test_ranks_when_letters_and_digits_share_a_family(tmp_path):
    # Suzhou: "A = with MCC or CC" beside 5 (without), "B = without MCC" beside 1 (with MCC);
    # Lanzhou: five-character codes ranked by the split digit, then by the letter.
    path = write_csv(
        tmp_path, "DRG编码,DRG名称,RW",
        "GE1A,腹股沟及腹疝手术，伴严重或一般并发症与合并症,1.14",
        "GE15,腹股沟及腹疝手术，不伴并发症或合并症,1.41",
        "RE11,化学治疗，伴有严重并发症或合并症,1.52",
        "RE1B,化学治疗，不伴严重并发症与合并症,1.17",
        "BV11B,癫痫，伴严重并发症或合并症,1.58",
        "BV12A,癫痫，伴并发症或合并症,0.59",
        "BV13B,癫痫，伴一般并发症或合并症,0.74",
        "BV15A,癫痫，不伴并发症或合并症,0.59",
        "BV15B,癫痫，不伴并发症或合并症,0.70",
        "BQY,与主要诊断无关的手术,0.72",
    )
    table, report = import_city_table(path)
    assert ranks(table) == {
        "GE1A": 2, "GE15": 1, "RE11": 2, "RE1B": 1,
        "BV11B": 5, "BV12A": 4, "BV13B": 3, "BV15A": 2, "BV15B": 1,
        "BQY": 1,
    }
    notes = dict(report.notes)
    local = next(codes for remark, codes in notes.items() if "CHS-DRG 1/3/5/9" in remark)
    assert set(local) == {"GE1A", "RE1B", "BV11B", "BV12A", "BV13B", "BV15A", "BV15B"}
    # GE1A (more severe) weighs less than GE15: reported, not "fixed".
    inverted = next(codes for remark, codes in notes.items() if remark.startswith("ADRG famil"))
    assert "GE1" in inverted


# --- flags and coefficients --------------------------------------------------------------------


def test_basic_group_columns(tmp_path):
    cases = {
        "基础病组": ("是", ""),
        "病组标识": ("基础组", "正常组"),
        "病组类型": ("基础病组", "普通病组"),
        "同等费率病组": ("是", ""),
    }
    for header, (basic, other) in cases.items():
        path = write_csv(tmp_path, f"DRG编码,DRG名称,RW,{header}",
                         f"ES35,甲,0.7,{basic}", f"ES31,乙,1.2,{other}", name=f"{header}.csv")
        table, report = import_city_table(path)
        assert table["basic_group"].tolist() == [True, False], header
        assert header in dict(report.recognised_columns)
    path = write_csv(tmp_path, "DRG编码,DRG名称,RW,病组类型", "ES35,甲,0.7,基础组",
                     name="lanzhou2022.csv")
    assert import_city_table(path)[0]["basic_group"].tolist() == [True]


def test_stable_columns(tmp_path):
    cases = {
        "稳定（玉林）": ("否", "是"),
        "稳定组": ("否", "是"),
        "病组类型": ("不稳定组", "普通组"),
    }
    for header, (unstable, stable) in cases.items():
        path = write_csv(tmp_path, f"DRG编码,DRG名称,RW,{header}",
                         f"AB19,肝移植,29.9,{unstable}", f"ES31,乙,1.2,{stable}",
                         name=f"{header}.csv")
        table, _ = import_city_table(path)
        assert table["stable"].tolist() == [False, True], header
    for kind in ("不稳定病组", "未覆盖组"):
        path = write_csv(tmp_path, "DRG编码,DRG名称,RW,病组类型", f"AB19,肝移植,,{kind}",
                         name="types.csv")
        assert import_city_table(path)[0]["stable"].tolist() == [False], kind


def test_whole_group_review_column(tmp_path):
    path = write_csv(tmp_path, "分组编码,分组名称,RW,单议病组", "AA19,心脏移植,,是", "ES31,乙,1.2,")
    table, report = import_city_table(path)
    assert table["whole_group_review"].tolist() == [True, False]
    assert report.whole_group_review == 1


def test_level_coefficients_and_sub_grades(tmp_path):
    path = write_csv(
        tmp_path,
        "DRG编码,DRG名称,RW,等级系数（省三甲）,等级系数（三甲）,等级系数（三级）,等级系数（二级）,"
        "等级系数（一级及基层）",
        "ES31,乙,1.2,1.1476,1.003,0.8308,0.7487 ,0.58",
    )
    table, report = import_city_table(path)
    row = table.iloc[0]
    assert (row["coefficient_primary"], row["coefficient_secondary"],
            row["coefficient_tertiary"]) == (0.58, 0.7487, 0.8308)
    ignored = dict(report.ignored_columns)
    assert "sub-grade" in ignored["等级系数（三甲）"]
    assert "sub-grade" in ignored["等级系数（省三甲）"]
    assert list(table.columns[-3:]) == [
        "coefficient_primary", "coefficient_secondary", "coefficient_tertiary"]

    path = write_csv(tmp_path, "DRG编码,DRG名称,RW,三级医院系数,一级医院系数,二级医院系数",
                     "ES35,甲,0.7,1.02,1.02,1.02", name="suzhou.csv")
    table, _ = import_city_table(path)
    assert list(table.columns[-3:]) == [
        "coefficient_primary", "coefficient_secondary", "coefficient_tertiary"]


def test_catalogue_columns_exactly(tmp_path):
    path = write_csv(tmp_path, "DRG,DRG名称,RW", "AB19,肝移植,23.8486")
    table, _ = import_city_table(path)
    assert list(table.columns) == ["code", "name", "adrg", "mdc", "severity_rank", "weight",
                                   "basic_group", "stable", "whole_group_review"]
    pd.testing.assert_frame_equal(table, validate_catalogue(table, "check"))


# --- weights: unpriced groups are kept with an empty weight, never guessed (§2.2) -------------


def test_unpriced_rows_are_kept_with_empty_weight(tmp_path):
    path = write_csv(tmp_path, "DRG编码,DRG名称,RW",
                     "AA19,心脏移植,", "AB19,肝移植,0", "AC19,胰肾联合移植, 19.9594 ",
                     "WB19,烧伤伴植皮,按项目据实支付")
    table, report = import_city_table(path)
    assert table["code"].tolist() == ["AA19", "AB19", "AC19", "WB19"]
    assert np.isnan(table["weight"].iloc[[0, 1, 3]]).all()
    assert table["weight"].iloc[2] == 19.9594
    assert dict(report.unpriced) == {"AA19": "RW empty", "AB19": "RW 0",
                                     "WB19": "RW is text, not a weight: 按项目据实支付"}
    assert (report.groups, report.priced) == (4, 1)


def test_weight_one_placeholders_of_unstable_groups_become_unpriced(tmp_path):
    # lanzhou_2023 / taizhou_2022 give unstable or uncovered groups weight 1 as a placeholder.
    path = write_csv(tmp_path, "DRG编码,DRG名称,RW,病组类型",
                     "AB19,肝移植,1,不稳定病组", "SV11A,细菌性疾患,1,未覆盖组",
                     "GE12A,腹股沟疝,1.0000,不稳定组", "IF51,骨科固定装置去除,1,普通病组",
                     "GE12B,腹股沟疝,1.5099,不稳定病组")
    table, report = import_city_table(path)
    weights = dict(zip(table["code"], table["weight"], strict=True))
    assert np.isnan([weights["AB19"], weights["SV11A"], weights["GE12A"]]).all()
    assert weights["IF51"] == 1.0            # a stable group's weight 1 is a real weight
    assert weights["GE12B"] == 1.5099        # an unstable group's real weight is kept
    assert [code for code, _ in report.unpriced] == ["AB19", "SV11A", "GE12A"]
    assert all("placeholder" in reason for _, reason in report.unpriced)

    path = write_csv(tmp_path, "分组编码,分组名称,稳定组,RW,二级医院系数,二级医院支付标准",
                     "AA19,心脏移植,否,1,,0", "KB19,肾上腺手术,是,2.4184,,0", name="taizhou.csv")
    table, report = import_city_table(path)
    assert np.isnan(table["weight"].iloc[0]) and table["weight"].iloc[1] == 2.4184
    assert np.isnan(table["coefficient_secondary"]).all()


# --- rows that are not groups ------------------------------------------------------------------


def test_non_group_codes_and_duplicates_are_ignored_and_reported(tmp_path):
    path = write_csv(tmp_path, "DRG编码,DRG组名称,RW",
                     "0000,未正常分组,0.1027", "000P,MDCP组的未入DRG组病历,0.6397",
                     "0,未入组,0.2", "AB19,肝移植,19.8", "DR13,颅内出血,1.4547",
                     "DR13,头颈恶性肿瘤,0.7128", "AB19,肝移植,19.8")
    table, report = import_city_table(path)
    assert table["code"].tolist() == ["AB19", "DR13"]
    assert table["weight"].tolist() == [19.8, 1.4547]
    ignored = {row: (code, reason) for row, code, reason in report.ignored_rows}
    assert set(ignored) == {1, 2, 3, 6, 7}
    assert ignored[3] == ("0", "not a group code (no MDC letter: 未入组)")
    assert ignored[7][1] == "duplicate code; row 4 kept"
    assert ignored[6][1].startswith("duplicate code; row 5 kept although the rows differ")
    assert report.rows_read == 7 and report.groups == 2


# --- errors ------------------------------------------------------------------------------------


def test_table_without_weight_column_is_an_input_error(tmp_path):
    path = write_csv(tmp_path, "DRG编码,DRG名称,标准分值,等级系数（三甲）",
                     "AH11,有创呼吸机支持,77361.96,1.00000", name="yinchuan.csv")
    with pytest.raises(InputError) as caught:
        import_city_table(path)
    message = str(caught.value)
    assert caught.value.file == str(path) and caught.value.where == "header"
    # refused, with the reason: scores have no stated scale and DIP (§8) takes no given scores
    assert "only standard scores (标准分值) and no relative weight" in message
    assert "score of the average case" in message and "DIP method (§8)" in message
    assert "expected a relative-weight column RW" in message
    assert "\n" not in message


def test_bad_values_are_input_errors(tmp_path):
    cases = {
        "DRG编码,DRG名称,RW\nAB19,肝移植,0.7a\n": "row 1, column RW",
        "DRG编码,DRG名称,RW\nAB19,肝移植,-1\n": "row 1, column RW",
        "DRG编码,DRG名称,RW,基础病组\nAB19,肝移植,1,是\nES35,甲,1,√\n": "row 2, column 基础病组",
        "DRG编码,DRG名称,RW,三级医院系数\nAB19,肝移植,1,x\n": "row 1, column 三级医院系数",
        "DRG名称,RW\n肝移植,1\n": "header",
    }
    for text, where in cases.items():
        path = tmp_path / "bad.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as caught:
            import_city_table(path)
        assert caught.value.where == where, text


# --- reading and reporting ---------------------------------------------------------------------


def test_bom_csv_and_parquet_give_the_same_catalogue(tmp_path):
    rows = ("AA19,心脏移植,,否", "AB19,肝移植 ,29.9565,否", "ES31,乙,1.2,是")
    plain, _ = import_city_table(write_csv(tmp_path, "DRG编码,DRG名称,RW,稳定（玉林）", *rows))
    bom, _ = import_city_table(write_csv(tmp_path, "DRG编码,DRG名称,RW,稳定（玉林）", *rows,
                                         name="bom.csv", bom=True))
    parquet_path = tmp_path / "city.parquet"
    pd.DataFrame({"DRG编码": ["AA19", "AB19", "ES31"], "DRG名称": ["心脏移植", "肝移植", "乙"],
                  "RW": [None, 29.9565, 1.2], "稳定（玉林）": ["否", "否", "是"]}
                 ).to_parquet(parquet_path)
    parquet, _ = import_city_table(parquet_path)
    pd.testing.assert_frame_equal(plain, bom)
    pd.testing.assert_frame_equal(plain, parquet)
    assert plain["name"].tolist() == ["心脏移植", "肝移植", "乙"]


def test_ignored_columns_have_reasons(tmp_path):
    path = write_csv(
        tmp_path,
        "DRG编码,DRG名称,RW,例均费用（玉林）,支付标准（三级）,费率（职工）,低倍临界值（三级）,中医优势病组,备注,"
        "例均费用（其他）,支付标准（三甲）",
        "AB19,肝移植,29.9565,239359.812,1,1,1,,x,5,1",
        "ES31,乙,1.2,9588,1,1,1,是,y,6,1",
    )
    table, report = import_city_table(path)
    recognised = dict(report.recognised_columns)
    ignored = dict(report.ignored_columns)
    # a 例均费用 equal to weight × 7,990 is a payment standard, kept as one, never as mean_cost
    assert "weight × 7,990" in recognised["例均费用（玉林）"]
    assert "kept as payment_standard, not mean_cost" in recognised["例均费用（玉林）"]
    assert recognised["支付标准（三级）"].startswith("payment_standard_tertiary")
    assert "mean_cost" not in table.columns
    assert "basis the table does not state" in ignored["例均费用（其他）"]
    assert "sub-grade" in ignored["支付标准（三甲）"]
    assert "rate" in ignored["费率（职工）"]
    assert "outlier threshold" in ignored["低倍临界值（三级）"]
    assert "TCM" in ignored["中医优势病组"]
    assert ignored["备注"] == "not recognised"


def test_report_lines_name_what_was_read_and_left_out(tmp_path):
    path = write_csv(tmp_path, "DRG编码,DRG名称,RW,支付标准", "0000,未入组,0.2,1",
                     "AA19,心脏移植,,0", "AB19,肝移植,19.8,1")
    _, report = import_city_table(path)
    text = "\n".join(report.lines())
    assert text.startswith("city.csv: rows read 3, ignored 1; groups imported 2 "
                           "(priced 1, unpriced 1)")
    assert "DRG编码 → code" in text and "RW → weight" in text
    assert "支付标准 → payment_standard (payment standard in yuan" in text
    # AB19: standard ¥1 ÷ RW 19.8; AA19's standard 0 is "none" and its weight is empty
    assert "payment_standard: ¥0.05 over 1 groups" in text
    assert "1 × RW empty: AA19" in text
    assert "row 1 '0000': not a group code" in text


# --- shipped catalogues (scenarios/catalogues) ---------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_reimporting_a_shipped_source_gives_the_shipped_catalogue(name, tmp_path):
    table, report = import_city_table(CATALOGUES / "sources" / f"{name}.csv")
    shipped = load_catalogue(CATALOGUES / f"{name}.csv").table
    pd.testing.assert_frame_equal(validate_catalogue(table, name), shipped, check_exact=True)

    out = tmp_path / f"{name}.csv"
    write_catalogue(table, out)
    assert out.read_bytes() == (CATALOGUES / f"{name}.csv").read_bytes()
    card = write_source_card(report, CATALOGUES / "sources" / f"{name}.csv", out)
    assert card == source_card_path(out) == tmp_path / f"{name}.csv.source.yaml"
    assert card.read_text("utf-8") == (CATALOGUES / f"{name}.csv.source.yaml").read_text("utf-8")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_catalogue_and_card_agree(name):
    catalogue = load_catalogue(CATALOGUES / f"{name}.csv")
    card = yaml.safe_load((CATALOGUES / f"{name}.csv.source.yaml").read_text("utf-8"))
    source = CATALOGUES / "sources" / f"{name}.csv"
    assert card["source"] == {"file": source.name,
                              "sha256": hashlib.sha256(source.read_bytes()).hexdigest()}
    assert "date" not in (CATALOGUES / f"{name}.csv.source.yaml").read_text("utf-8")
    table = catalogue.table
    assert card["counts"]["groups"] == len(table)
    assert card["counts"]["priced"] == int(table["weight"].notna().sum())
    assert set(card["unpriced_groups"]) == set(table.loc[table["weight"].isna(), "code"])
    assert (table["severity_rank"] >= 1).all()
    assert (table.groupby("adrg")["severity_rank"].min() == 1).all()


def test_guangxi_counts_match_the_hand_count():
    # Hand count from the raw file with awk over guangxi_2022.csv (columns DRG编码, DRG名称, RW,
    # 例均费用（玉林）, 稳定（玉林）): 984 data rows, all with group codes, no duplicates;
    # RW empty in 5 rows (AA19 AD19 NG19 PB19 PJ19, all 稳定=否), RW 0 in none, weight-1
    # placeholders none (the one RW 1.0000 row, IF51, is 稳定=是) → 979 priced, 5 unpriced;
    # 稳定=否 in 39 rows; 376 distinct first-three-character families.
    _, report = import_city_table(CATALOGUES / "sources" / "guangxi_2022.csv")
    assert (report.rows_read, report.groups, report.priced, len(report.unpriced)) == (
        984, 984, 979, 5)
    assert report.unstable == 39 and report.families == 376 and report.ignored_rows == ()
    assert [code for code, _ in report.unpriced] == ["AA19", "AD19", "NG19", "PB19", "PJ19"]
    assert dict(report.recognised_columns)["例均费用（玉林）"].startswith("payment_standard")
    table = load_catalogue(CATALOGUES / "guangxi_2022.csv").table
    assert "mean_cost" not in table.columns
    ratio = table["payment_standard"] / table["weight"]
    assert ratio.dropna().between(7_988, 7_992).all()   # RW × 7,990 (data/README)
    assert table.loc[table["code"] == "IF51", "weight"].item() == 1.0


def test_suzhou_basic_groups_have_one_coefficient_at_every_level():
    table = load_catalogue(CATALOGUES / "suzhou_2022.csv").table
    basic = table[table["basic_group"]]
    assert len(basic) == 21   # 基础病组 = 是 in 21 rows of suzhou_2022.csv
    levels = basic[["coefficient_primary", "coefficient_secondary", "coefficient_tertiary"]]
    assert (levels.nunique(axis=1) == 1).all()
    others = table[~table["basic_group"]]
    assert (others["coefficient_primary"] < others["coefficient_tertiary"]).all()


def test_suzhou_a_groups_weigh_less_than_their_without_cc_siblings_and_the_card_says_so():
    # Ranks follow the names (A = with MCC or CC > 5 = without), the weights do not: all 91
    # families with an A group are listed in the source card's notes.
    table = load_catalogue(CATALOGUES / "suzhou_2022.csv").table
    families_with_a = set(table.loc[table["code"].str[3] == "A", "adrg"])
    assert len(families_with_a) == 91
    card = yaml.safe_load((CATALOGUES / "suzhou_2022.csv.source.yaml").read_text("utf-8"))
    inverted = next(n["codes"] for n in card["notes"] if n["note"].startswith("ADRG families"))
    assert set(inverted) == families_with_a


def test_yunnan_keeps_its_ambiguous_groups():
    table = load_catalogue(CATALOGUES / "yunnan_2022.csv").table
    qy = table[table["code"].str.endswith("QY")]
    assert len(qy) == 20 and (qy["severity_rank"] == 1).all() and qy["weight"].notna().all()


def test_licence_and_readme_ship_with_the_catalogues():
    assert "Apache License" in (CATALOGUES / "LICENSE").read_text("utf-8")
    readme = (CATALOGUES / "README.md").read_text("utf-8")
    assert "164c3f6c" in readme and "Apache-2.0" in readme
    for name in SHIPPED:
        assert f"`{name}`" in readme


# --- recognition by content (issue 8) -------------------------------------------------------------


def test_code_weight_and_name_columns_are_recognised_by_content(tmp_path):
    # headers that say nothing: 编号 codes, 说明 Chinese names, 数值 weights, 序号 row numbers
    codes = ["AB19", "ES31", "ES33", "ES35", "FM19A", "GB19", "HC29", "IB39", "JA29", "KD19"]
    rows = ["1,0000,未入组,0.2"] + [f"{i + 2},{code},病组{i}，说明,{0.5 + i / 4}"
                                    for i, code in enumerate(codes)]
    table, report = import_city_table(write_csv(tmp_path, "序号,编号,说明,数值", *rows))
    assert table["code"].tolist() == codes
    assert table["weight"].tolist()[:3] == [0.5, 0.75, 1.0]
    assert table["name"].tolist()[0] == "病组0，说明"
    recognised = dict(report.recognised_columns)
    assert recognised["编号"].startswith("code")
    assert "recognised by content: 91% of its values are group codes" in recognised["编号"]
    assert "recognised by content: numbers mostly within 0.05–60" in recognised["数值"]
    assert "recognised by content: Chinese text" in recognised["说明"]
    assert dict(report.ignored_columns) == {"序号": "not recognised"}   # whole numbers: no weight


def test_two_weight_like_columns_without_a_weight_header_are_an_error_naming_both(tmp_path):
    path = write_csv(tmp_path, "DRG编码,DRG名称,数值一,数值二",
                     "AB19,肝移植,19.8,1.1", "ES31,乙,1.2,0.9", "ES35,甲,0.7,0.95")
    with pytest.raises(InputError) as caught:
        import_city_table(path)
    message = str(caught.value)
    assert caught.value.where == "header"
    assert ("no weight header, and 2 columns could hold weights by their content: '数值一', "
            "'数值二'") in message
    assert "rename the weight column" in message and "\n" not in message


def test_no_code_column_by_name_or_content_is_an_error(tmp_path):
    path = write_csv(tmp_path, "名称,RW", "肝移植,19.8", "乙,1.2")
    with pytest.raises(InputError) as caught:
        import_city_table(path)
    assert caught.value.where == "header"
    assert "none whose values are mostly codes such as AB12" in str(caught.value)


def test_code_headers_of_other_cities(tmp_path):
    for header in ("DRG组编码", "病组编码", "DRG分组编码"):
        path = write_csv(tmp_path, f"{header},DRG组名称,RW", "AB19,肝移植,19.8", name="h.csv")
        table, report = import_city_table(path)
        assert table["code"].tolist() == ["AB19"], header
        assert dict(report.recognised_columns)[header].startswith("code ("), header


# --- payment standards and the base rates they imply (issue 8) ------------------------------------


def test_payment_standard_columns_by_level_and_scheme(tmp_path):
    headers = {"支付标准": "payment_standard", "支付标准（三级）": "payment_standard_tertiary",
               "三级医院支付标准": "payment_standard_tertiary",
               "支付标准（二级职工）": "payment_standard_secondary_employee",
               "付费标准（居民）": "payment_standard_resident",
               "一级医院支付标准（元）": "payment_standard_primary"}
    for header, column in headers.items():
        path = write_csv(tmp_path, f"DRG编码,DRG名称,RW,{header}",
                         "AB19,肝移植,20,200000", "AC19,胰肾联合移植,,0", name="p.csv")
        table, report = import_city_table(path)
        assert table[column].tolist()[0] == 200000.0, header
        assert np.isnan(table[column].iloc[1]), header        # 0 = no standard
        assert dict(report.base_rates)[column]["median"] == 10000.0, header
    path = write_csv(tmp_path, "DRG编码,DRG名称,RW,支付标准（三级）,三级医院支付标准",
                     "AB19,肝移植,20,1,1", name="two.csv")
    with pytest.raises(InputError, match="a second column for payment_standard_tertiary"):
        import_city_table(path)


def test_implied_base_rates_per_level_go_into_the_source_card(tmp_path):
    # rate 10,000 × coefficient (0.8 / 1.0 / 1.2) × weight; basic group ES35 at 1.0 everywhere
    path = write_csv(
        tmp_path, "DRG编码,DRG名称,RW,基础病组,一级医院系数,二级医院系数,三级医院系数,"
                  "一级医院支付标准,二级医院支付标准,三级医院支付标准",
        "AB19,肝移植,20,,0.8,1.0,1.2,160000,200000,240000",
        "ES31,乙,1.5,,0.8,1.0,1.2,12000,15000,18000",
        "ES33,丙,1.0,,0.8,1.0,1.2,8000,10000,12000",
        "ES35,甲,0.5,是,1.0,1.0,1.0,5000,5000,5000",
        "GB19,丁,,,,,,0,0,0")
    table, report = import_city_table(path)
    rates = dict(report.base_rates)
    assert list(rates) == ["payment_standard_primary", "payment_standard_secondary",
                           "payment_standard_tertiary"]
    tertiary = rates["payment_standard_tertiary"]
    assert (tertiary["median"], tertiary["groups"], tertiary["min"], tertiary["max"]) == (
        12000.0, 4, 10000.0, 12000.0)
    assert tertiary["within_1_percent"] == 0.75 and tertiary["level"] == "tertiary"
    assert tertiary["median_per_coefficient"] == 10000.0
    assert tertiary["within_1_percent_per_coefficient"] == 1.0
    card = write_source_card(report, path, tmp_path / "cat.csv")
    text = yaml.safe_load(card.read_text("utf-8"))
    assert text["implied_base_rates"]["payment_standard_primary"]["median"] == 8000.0
    assert text["implied_base_rates"]["payment_standard_primary"]["column"] == "一级医院支付标准"
    assert "standard ÷ (weight × coefficient)" in text["implied_base_rates"]["how"]
    assert "\n".join(report.lines()).count("÷ coefficient_") == 3
    written = tmp_path / "cat.csv"
    write_catalogue(table, written)
    reloaded = load_catalogue(written).table
    assert reloaded["payment_standard_secondary"].tolist()[:4] == [200000, 15000, 10000, 5000]


def test_published_rates_are_reported_not_imported(tmp_path):
    path = write_csv(tmp_path, "DRG编码,DRG名称,RW,费率（职工）,费率（居民）",
                     "AB19,肝移植,20,11519,9849", "ES31,乙,1.5,11519,9849")
    table, report = import_city_table(path)
    assert dict(report.published_rates) == {
        "费率（职工）": {"median": 11519.0, "min": 11519.0, "max": 11519.0},
        "费率（居民）": {"median": 9849.0, "min": 9849.0, "max": 9849.0}}
    assert not [c for c in table.columns if "rate" in c]


def test_catalogue_payment_standards_must_be_numbers(tmp_path):
    path = tmp_path / "cat.csv"
    path.write_text("code,name,adrg,mdc,severity_rank,weight,basic_group,stable,"
                    "whole_group_review,payment_standard_tertiary\n"
                    "AB19,肝移植,AB1,A,1,20,false,true,false,-5\n", "utf-8")
    with pytest.raises(InputError) as caught:
        load_catalogue(path)
    assert caught.value.where == "row 1, column payment_standard_tertiary"


# --- repeated codes (Urumqi 2022) -----------------------------------------------------------------


def test_of_two_differing_rows_the_one_named_like_its_family_is_kept(tmp_path):
    # Urumqi 2022 prints BR13 (intracranial haemorrhage) as DR13 between BR11 and BR15; the real
    # DR13 (head and neck malignancy) follows later beside DR11 and DR15.
    path = write_csv(tmp_path, "DRG编码,DRG名称,RW",
                     "BR11,颅内出血性疾患，伴有严重并发症或合并症,1.8094",
                     "DR13,颅内岀血性疾患，伴有并发症或合并症,1.4547",
                     "BR15,颅内出血性疾患，不伴并发症或合并症,0.9182",
                     "DR11,头、颈、耳、鼻、咽、口恶性肿瘤，伴有严重并发症或合并症,2.2381",
                     "DR13,头、颈、耳、鼻、咽、口恶性肿瘤，伴有并发症或合并症,0.7128",
                     "DR15,头、颈、耳、鼻、咽、口恶性肿瘤，不伴并发症或合并症,0.5023")
    table, report = import_city_table(path)
    weights = dict(zip(table["code"], table["weight"], strict=True))
    assert weights["DR13"] == 0.7128 and "BR13" not in weights
    assert [(row, code) for row, code, _ in report.ignored_rows] == [(2, "DR13")]
    reason = report.ignored_rows[0][2]
    assert reason.startswith("duplicate code; row 5 kept, whose name is that of the other DR1 "
                             "groups (DR11, DR15)")
    assert dict(report.notes)["codes given twice with different rows: one row kept, the other "
                              "left out (see ignored rows; check the source)"] == ("DR13",)


# --- encodings and formats bureaus publish in (GBK, UTF-16, Excel) -------------------------------


BEIJING = CATALOGUES / "sources" / "beijing_2022.csv"


def _copies(folder: Path, source: Path) -> dict[str, Path]:
    """The source table as GBK, as UTF-16 (with BOM) and as an Excel workbook with number
    cells: the forms in which cities publish their tables."""
    text = source.read_text("utf-8")
    gbk, utf16 = folder / f"{source.stem}_gbk.csv", folder / f"{source.stem}_utf16.csv"
    gbk.write_bytes(text.encode("gbk"))
    utf16.write_bytes(text.encode("utf-16"))
    rows = list(csv.reader(text.splitlines()))
    return {"gbk": gbk, "utf-16": utf16,
            "xlsx": write_xlsx(folder / f"{source.stem}.xlsx", rows)}


def _card_without_source(path: Path) -> dict:
    card = yaml.safe_load(path.read_text("utf-8"))
    return {key: value for key, value in card.items() if key not in ("source", "catalogue")}


def test_gbk_utf16_and_excel_copies_of_beijing_import_to_the_shipped_catalogue(tmp_path):
    shipped = CATALOGUES / "beijing_2022.csv"
    expected_card = _card_without_source(CATALOGUES / "beijing_2022.csv.source.yaml")
    reading = {"gbk": {"format": "csv", "encoding": "gb18030", "encoding_detected": True},
               "utf-16": {"format": "csv", "encoding": "utf-16", "encoding_detected": True},
               "xlsx": {"format": "excel", "sheet": "病组"}}
    original, _ = import_city_table(BEIJING)
    for form, path in _copies(tmp_path, BEIJING).items():
        table, report = import_city_table(path)
        pd.testing.assert_frame_equal(table, original, check_exact=True)
        out = tmp_path / f"beijing_{form}.csv"
        write_catalogue(table, out)
        assert out.read_bytes() == shipped.read_bytes(), form
        card = write_source_card(report, path, out)
        data = yaml.safe_load(card.read_text("utf-8"))
        assert data["source"] == {"file": path.name,
                                  "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                  **reading[form]}, form
        # everything else on the card is what the UTF-8 original gives
        assert _card_without_source(card) == expected_card, form
        assert "  read as " in "\n".join(report.lines())


def test_a_utf8_csv_source_card_says_nothing_about_reading(tmp_path):
    _, report = import_city_table(BEIJING)
    assert report.reading == ()
    assert not any(line.startswith("  read as") for line in report.lines())
    out = tmp_path / "beijing_2022.csv"
    write_catalogue(import_city_table(BEIJING)[0], out)
    card = yaml.safe_load(write_source_card(report, BEIJING, out).read_text("utf-8"))
    assert set(card["source"]) == {"file", "sha256"}


def test_catalogue_import_command_with_encoding(tmp_path, capsys):
    gbk = _copies(tmp_path, BEIJING)["gbk"]
    out = tmp_path / "beijing.csv"
    assert main(["catalogue", "import", str(gbk), "--encoding", "gbk", "--out", str(out)]) == 0
    assert "read as CSV, encoding gb18030 (--encoding)" in capsys.readouterr().out
    assert out.read_bytes() == (CATALOGUES / "beijing_2022.csv").read_bytes()
    card = yaml.safe_load(source_card_path(out).read_text("utf-8"))
    assert card["source"]["encoding"] == "gb18030"
    assert card["source"]["encoding_detected"] is False
    # the same table read as UTF-8 by mistake: one line naming the file, line and byte
    refused = tmp_path / "refused.csv"
    assert main(["catalogue", "import", str(gbk), "--encoding", "utf-8", "--out",
                 str(refused)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{gbk}, line 1: byte 0xb1" in err
    assert "cannot be read as utf-8 (--encoding utf-8)" in err
    assert not refused.exists()


def test_unknown_encoding_is_one_line(tmp_path, capsys):
    for source in (BEIJING, _copies(tmp_path, BEIJING)["xlsx"]):
        out = tmp_path / "c.csv"
        assert main(["catalogue", "import", str(source), "--encoding", "klingon", "--out",
                     str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "--encoding: unknown encoding 'klingon'; expected an encoding such as" in err
        assert not out.exists() and not source_card_path(out).exists()
    with pytest.raises(InputError) as caught:
        import_city_table(BEIJING, encoding="klingon")
    assert caught.value.file == "--encoding"


def test_a_bad_byte_is_one_line_naming_the_file_and_line(tmp_path, capsys):
    path = tmp_path / "city.csv"
    path.write_bytes("DRG编码,DRG名称,RW\nAB19,肝移植,19.8\n".encode() + b"ES31,\xff,1.2\n")
    with pytest.raises(InputError) as caught:
        import_city_table(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line 3: byte 0xff is neither UTF-8 nor GB18030/GBK")
    assert "\n" not in message
    assert main(["catalogue", "import", str(path), "--out", str(tmp_path / "c.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}, line 3: byte 0xff" in err


def test_excel_cells_numbers_text_and_other_sheets(tmp_path):
    # Numbers arrive as number cells (1 loses its ".0"), a placeholder code 0000 as text, a
    # blank row in between; a second sheet (notes) is not read and the card says so.
    path = write_xlsx(tmp_path / "city.xlsx", [
        ["DRG编码", "DRG名称", "RW", "稳定组", "支付标准"],
        ["0000", "未入组", "", "", ""],
        ["AB19", "肝移植", "19.8", "是", "198000"],
        ["", "", "", "", ""],
        ["ES31", "呼吸系统感染，伴严重并发症或合并症", "1", "否", "10000"],
        ["ES35", "呼吸系统感染，不伴并发症或合并症", "0.8312", "是", "8312.5"],
    ], sheets={"说明": [["本表按2022年数据测算"]]})
    table, report = import_city_table(path)
    assert table["code"].tolist() == ["AB19", "ES31", "ES35"]
    assert table["weight"].tolist()[0] == 19.8 and table["weight"].tolist()[2] == 0.8312
    assert np.isnan(table["weight"].tolist()[1])          # weight-1 placeholder, unstable
    assert table["payment_standard"].tolist() == [198000.0, 10000.0, 8312.5]
    assert report.rows_read == 4
    assert report.ignored_rows == ((1, "0000", "not a group code (no MDC letter: 未入组)"),)
    assert dict(report.reading) == {"format": "excel", "sheet": "病组"}
    sheet_notes = [note for note, _ in report.notes if "'说明'" in note]
    assert len(sheet_notes) == 1 and "not read" in sheet_notes[0]
    assert str(tmp_path) not in sheet_notes[0]            # the card stays free of local paths


def test_csv_shape_checks_are_kept(tmp_path):
    # Blank lines, lines of empty fields and an empty trailing column (spreadsheet exports) are
    # skipped; a truncated row, a repeated header and a column with data but no name are one
    # line each, naming the line.
    table, report = import_city_table(write_csv(
        tmp_path, "DRG编码,DRG名称,RW,", "AB19,肝移植,19.8,", ",,,", "", "ES31,乙,1.2,"))
    assert table["code"].tolist() == ["AB19", "ES31"] and report.rows_read == 2
    assert report.ignored_rows == () and report.reading == ()
    cases = {
        "DRG编码,DRG名称,RW\nAB19,肝移植,19.8\nES31,乙\n":
            ("line 3", "a truncated row"),
        "DRG编码,DRG名称,RW,RW\nAB19,肝移植,19.8,1\n":
            ("line 1, column 4", "column name 'RW' appears twice (columns 3 and 4)"),
        "DRG编码,DRG名称,RW,\nAB19,肝移植,19.8,x\n":
            ("line 1, column 4", "a column with data but no name"),
        " \n\n": (None, "the file is empty"),
    }
    for text, (where, problem) in cases.items():
        path = tmp_path / "bad.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as caught:
            import_city_table(path)
        assert caught.value.where == where, text
        assert caught.value.problem.startswith(problem), text
        assert "\n" not in str(caught.value)


def test_tab_separated_table_is_read_and_recorded(tmp_path):
    path = write_csv(tmp_path, "DRG编码\tDRG名称\tRW", "AB19\t肝移植\t19.8", name="city.tsv")
    table, report = import_city_table(path)
    assert table["weight"].tolist() == [19.8]
    assert dict(report.reading)["delimiter"] == "tab"
