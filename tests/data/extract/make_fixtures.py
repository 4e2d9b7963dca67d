"""Make the messy-extract fixtures from the shipped example year (run from the project root).

``python tests/data/extract/make_fixtures.py`` writes, from the first 600 rows of
``scenarios/examples/cases_2023.csv`` (synthetic, see scenarios/examples/README.md):

- ``clean.csv``: those rows as they are (drgsim's own format);
- ``bureau_gbk.csv``: the same cases as a bureau's settlement-list extract would carry them:
  GBK, CRLF, Chinese headers (some with a unit, e.g. ``医疗总费用(元)``), amounts with thousands
  separators and some in full-width digits, dates as ``2023/3/5``, ``20230305``,
  ``2023年3月5日`` or with a time of day, levels as 三级甲等/三甲/三级乙等/二级/一级, the scheme
  (职工/居民), yes/no as 是/否, review as 无/特病单议, and two extra columns drgsim does not read;
- ``bureau.xlsx``: the same extract as an Excel workbook: real date and datetime cells, a column
  of Excel serial day numbers, amounts as numbers, hospital codes as numbers where they are
  numeric;
- ``columns.yaml``: a ``--columns`` map for ``bureau_renamed.csv``, whose headers drgsim does
  not know.

The fixtures are committed; this script documents how they were made and remakes them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
ROWS = 600
FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")
HEADERS = {
    "case_id": "结算ID", "patient_id": "人员编号", "hospital_id": "医疗机构编码",
    "hospital_level": "医院等级", "drg": "DRG组编码", "cost": "医疗总费用(元)",
    "fund_paid": "基金支付", "patient_paid": "个人支付", "los_days": "住院天数",
    "discharge_date": "出院日期", "admission_date": "入院日期", "self_pay": "全自费金额",
    "unreasonable_cost": "不合理费用", "review": "单议类型", "review_approved": "单议通过",
}
RENAMED = {"case_id": "流水", "cost": "合计金额", "drg": "组"}


def _level(hospital: str, level: str) -> str:
    number = int(hospital.lstrip("H"))
    if level == "tertiary":
        return ["三级甲等", "三甲", "三级乙等"][number % 3]
    return {"secondary": "二级", "primary": "一级"}[level]


def _date(text: str, row: int) -> str:
    day = dt.date.fromisoformat(text)
    forms = [f"{day.year}/{day.month}/{day.day}", day.strftime("%Y%m%d"),
             f"{day.year}年{day.month}月{day.day}日", f"{text} 10:23:00"]
    return forms[row % len(forms)]


def _amount(value: str, row: int) -> str:
    text = f"{float(value):,.2f}"
    return text.translate(FULL_WIDTH) if row % 7 == 0 else text


def main() -> None:
    clean = pd.read_csv(ROOT / "scenarios/examples/cases_2023.csv", dtype=str,
                        keep_default_na=False).head(ROWS)
    clean.to_csv(HERE / "clean.csv", index=False)

    messy = pd.DataFrame({HEADERS[name]: clean[name] for name in HEADERS})
    rows = range(len(clean))
    messy["医院等级"] = [_level(h, lv) for h, lv in
                     zip(clean.hospital_id, clean.hospital_level, strict=True)]
    for name in ("cost", "fund_paid", "patient_paid", "self_pay"):
        messy[HEADERS[name]] = [_amount(v, i) for i, v in zip(rows, clean[name], strict=True)]
    for name in ("discharge_date", "admission_date"):
        messy[HEADERS[name]] = [_date(v, i) for i, v in zip(rows, clean[name], strict=True)]
    messy["单议类型"] = clean.review.map({"none": "无", "special": "特病单议"})
    messy["单议通过"] = clean.review_approved.map({"False": "否", "True": "是"})
    messy.insert(4, "医疗机构名称", "医院" + clean.hospital_id.str.lstrip("H"))
    messy["险种类型"] = ["职工" if i % 3 else "城乡居民" for i in rows]
    messy["主要诊断"] = "I21.0"
    messy["备注"] = ""
    with open(HERE / "bureau_gbk.csv", "w", encoding="gbk", newline="") as handle:
        messy.to_csv(handle, index=False, lineterminator="\r\n")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "结算清单"
    headers = list(HEADERS.values()) + ["入院序号"]
    sheet.append(headers)
    for i, row in clean.iterrows():
        discharge = dt.date.fromisoformat(row.discharge_date)
        admission = dt.date.fromisoformat(row.admission_date)
        cells = {
            "结算ID": row.case_id, "人员编号": row.patient_id,
            "医疗机构编码": int(row.hospital_id.lstrip("H")) + 4400000,
            "医院等级": _level(row.hospital_id, row.hospital_level), "DRG组编码": row.drg,
            "医疗总费用(元)": float(row.cost), "基金支付": float(row.fund_paid),
            "个人支付": float(row.patient_paid), "住院天数": int(row.los_days),
            "出院日期": dt.datetime.combine(discharge, dt.time(9, 30)) if i % 2 else discharge,
            "入院日期": (admission - dt.date(1899, 12, 30)).days if i % 3 == 0 else admission,
            "全自费金额": float(row.self_pay), "不合理费用": float(row.unreasonable_cost),
            "单议类型": {"none": "无", "special": "特病单议"}[row.review],
            "单议通过": row.review_approved == "True", "入院序号": i + 1,
        }
        sheet.append([cells[name] for name in headers])
    book.save(HERE / "bureau.xlsx")

    renamed = clean.rename(columns=RENAMED)
    renamed.to_csv(HERE / "bureau_renamed.csv", index=False)
    (HERE / "columns.yaml").write_text(
        "# --columns for bureau_renamed.csv: drgsim column: header in the file\n"
        + "".join(f"{name}: {header}\n" for name, header in RENAMED.items()), "utf-8")


if __name__ == "__main__":
    main()
