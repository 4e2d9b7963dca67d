"""The case table: one row per discharge, read as bureaus export it, validated, integer-coded.

Columns (drgsim's names; the Chinese names of settlement-list extracts and the national platform's
field codes in :data:`ALIASES` are read as well, and ``--columns MAP.yaml`` maps any other):

- required: ``case_id, patient_id, hospital_id, hospital_level, drg, cost, fund_paid,
  patient_paid, los_days, discharge_date``;
- optional: ``admission_date, self_pay, unreasonable_cost, review (none|special|whole_group),
  review_approved``; for the all-inclusive price (§5) ``died, transferred_48h,
  rehabilitation_or_tcm``; ``scheme`` (employee/resident, 职工/居民, or the platform's 险种类型
  codes 310/390); ``hospital_name``; ``hospital_grade`` (the sub-grade 甲/乙/丙, also read from a
  level written 三甲, 三级乙等 …); ``deducted_points`` (audit deductions, §2.7) and
  ``paid_by_item`` (cases outside DRG payment, §7); ``per_diem`` (per-diem stays, left out of
  the 15-day readmission rate, §6) and ``day_surgery`` (day surgery and day treatment, 日间手术/
  日间治疗): both paid by their own streams, outside the DRG budget (§2.1); ``other_paid``
  (other payers — serious-illness insurance, medical assistance …; then fund_paid +
  patient_paid + other_paid = cost, and §2.7 counts them with patients' cash).

Files, encodings, headers and value forms are read by :mod:`sim.inputs.extract`: CSV, Parquet or
Excel; UTF-8, GBK/GB18030 or UTF-16; amounts such as ``1,996.34``; dates such as ``2024/3/5`` or
``20240305``; levels such as ``三级``, ``三甲`` or ``tertiary``.

Every row is checked and every problem kept (:class:`~sim.inputs.extract.Problems`): a table with
bad rows is refused with one line that counts them by kind and shows the first in full (file, row,
line, column, value, what was expected), or, with ``skip_bad_rows``, settled without them and the
rejected rows handed back in ``CaseTable.rejected``. Whole-file problems (no header, a missing
column, an undecodable byte, costs above :data:`MAX_TOTAL_YUAN` in total) are one line at once.
Warnings, not errors (``CaseTable.warnings``, one line each): unknown columns (listed, not read),
a column read in place of another that means the same, stays that disagree with the dates, stays
over a year, and discharges outside the settled year, which are left out of it. Strings are
encoded as small integers once here; nothing downstream sees them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sim.errors import InputError
from sim.inputs.catalogue import Catalogue, unique_names
from sim.inputs.extract import (
    Extract,
    Problems,
    as_text,
    day_text,
    encode,
    header_key,
    header_unit,
    map_columns,
    parse_amounts,
    parse_dates,
    parse_flags,
    problems_frame,
    read_column_map,
    read_extract,
    rejected_frame,
)

REQUIRED = ("case_id", "patient_id", "hospital_id", "hospital_level", "drg", "cost",
            "fund_paid", "patient_paid", "los_days", "discharge_date")
OPTIONAL = ("admission_date", "self_pay", "unreasonable_cost", "review", "review_approved",
            "died", "transferred_48h", "rehabilitation_or_tcm", "scheme", "hospital_name",
            "hospital_grade", "deducted_points", "paid_by_item", "per_diem", "day_surgery",
            "other_paid")
KNOWN = REQUIRED + OPTIONAL
MONEY = ("cost", "fund_paid", "patient_paid", "self_pay", "unreasonable_cost", "other_paid")
FLAGS = ("review_approved", "died", "transferred_48h", "rehabilitation_or_tcm", "paid_by_item",
         "per_diem", "day_surgery")
DATES = ("discharge_date", "admission_date")
REVIEWS = ("none", "special", "whole_group")
REVIEW_NONE, REVIEW_SPECIAL, REVIEW_WHOLE_GROUP = range(3)
REVIEW_WORDS = {"": REVIEW_NONE, "none": REVIEW_NONE, "无": REVIEW_NONE, "否": REVIEW_NONE,
                "special": REVIEW_SPECIAL, "特病单议": REVIEW_SPECIAL, "特例单议": REVIEW_SPECIAL,
                "特殊病例单议": REVIEW_SPECIAL, "whole_group": REVIEW_WHOLE_GROUP,
                "整组单议": REVIEW_WHOLE_GROUP, "整组": REVIEW_WHOLE_GROUP}
SCHEMES = ("employee", "resident")
GRADES = {"甲": "A", "乙": "B", "丙": "C", "a": "A", "b": "B", "c": "C"}
CENT = 0.01
EPOCH = np.datetime64("1970-01-01", "D")
MAX_CASE_YUAN = 1e8    # one hundred million yuan per case and amount: far above any real stay
MAX_TOTAL_YUAN = 1e13  # ten trillion yuan of costs in one table: cents stay exact (< 2**53)
MAX_STAY_DAYS = 36_500
LONG_STAY_DAYS = 365
MAX_DEDUCTED_POINTS = 1e7
EXPECTED_FILE = ("a case table (CSV, Parquet or Excel) with a header line and one row per "
                 "discharge")

# Other names of each column, most preferred first: the Chinese names of settlement-list (医保结算
# 清单) extracts and hospital case-mix exports, and the field codes of the national medical
# insurance information platform (国家医保信息平台: setl_id, mdtrt_id, psn_no, fixmedins_code,
# medfee_sumamt, fund_pay_sumamt, hifp_pay, psn_part_amt, psn_cash_pay, fulamt_ownpay_amt,
# insutype, begndate, enddate). Where an extract has both the fund's total (基金支付) and the
# basic pool's part of it (统筹支付), the total is read, because it and the patient's part
# (个人负担) add up to the cost.
ALIASES: dict[str, tuple[str, ...]] = {
    "case_id": ("结算ID", "结算流水号", "清单流水号", "结算清单流水号", "结算编号", "住院流水号",
                "住院号", "就诊ID", "就诊流水号", "就诊号", "病例ID", "病例编号", "setl_id",
                "mdtrt_id"),
    "patient_id": ("人员编号", "个人编号", "个人编码", "参保人编号", "患者ID", "患者编号", "病人ID",
                   "病案号", "身份证号", "证件号码", "psn_no"),
    "hospital_id": ("医疗机构编码", "医疗机构代码", "定点医药机构编号", "定点医疗机构编码",
                    "定点医疗机构编号", "定点医疗机构代码", "医院编码", "医院代码", "机构编码",
                    "机构代码", "fixmedins_code"),
    "hospital_name": ("医疗机构名称", "定点医药机构名称", "定点医疗机构名称", "医院名称",
                      "机构名称", "fixmedins_name"),
    "hospital_level": ("医院等级", "医疗机构等级", "机构等级", "医院级别", "医疗机构级别", "等级",
                       "级别"),
    "hospital_grade": ("医院等次", "等次"),
    "drg": ("DRG编码", "DRG组编码", "病组编码", "DRG分组编码", "DRGs编码", "DRG代码", "DRG组代码",
            "病组代码", "入组编码", "分组编码", "drg_code"),
    "cost": ("总费用", "医疗总费用", "住院总费用", "医疗费总额", "费用总额", "总金额",
             "medfee_sumamt"),
    "fund_paid": ("基金支付", "基金支付总额", "医保基金支付", "fund_pay_sumamt", "统筹支付",
                  "统筹基金支付", "统筹基金支出", "hifp_pay", "医保支付"),
    "patient_paid": ("个人支付", "个人负担", "个人负担总金额", "个人自付", "psn_part_amt",
                     "个人现金支付", "现金支付", "psn_cash_pay"),
    "self_pay": ("自费金额", "全自费金额", "自费费用", "全自费", "fulamt_ownpay_amt"),
    "los_days": ("住院天数", "实际住院天数", "住院日", "los", "act_ipt_days"),
    "admission_date": ("入院日期", "入院时间", "begndate", "adm_time"),
    "discharge_date": ("出院日期", "出院时间", "enddate", "dscg_time"),
    "scheme": ("险种", "险种类型", "参保类型", "医保类型", "参保险种", "insutype"),
    "unreasonable_cost": ("不合理费用", "违规费用", "违规金额"),
    "deducted_points": ("扣减点数", "扣除点数"),
    "paid_by_item": ("按项目付费", "按项目结算"),
    "per_diem": ("按床日付费", "床日付费", "按床日"),
    "day_surgery": ("日间手术", "日间治疗", "日间手术标志", "日间手术病例", "日间治疗(手术)"),
    # other payers (Guigang 第十九条(一): 职工大病保险、居民大病保险、医疗救助、公务员医疗补助…)
    "other_paid": ("其他资金支付", "其他基金支付", "其他支付", "大病保险支付", "医疗救助支付",
                   "公务员医疗补助", "大病保险", "医疗救助"),
    "review": ("单议类型",),
    "review_approved": ("单议通过", "审核通过"),
    "died": ("死亡", "是否死亡"),
}
for _name in KNOWN:
    ALIASES.setdefault(_name, ())
YUAN_UNITS = ("元", "人民币元", "yuan", "rmb", "cny")
DAY_UNITS = ("天", "日", "days", "day")
# numbers each hospital gives its own patients (the same number may be another person elsewhere)
HOSPITAL_PATIENT_NUMBERS = ("病案号", "住院号", "患者ID", "患者编号", "病人ID")
PATIENT_SCOPE_HOSPITAL, PATIENT_SCOPE_REGION = "hospital", "region"
OPTIONAL_ZERO = ("self_pay", "unreasonable_cost", "deducted_points", "other_paid")  # empty = 0


@dataclass
class CaseTable:
    """Validated cases as columns (struct of arrays) plus the code books to read them back."""

    case_id: pa.Array
    patient: np.ndarray        # int, patient code
    hospital: np.ndarray       # int, index into hospital_ids
    level: np.ndarray          # int, index into levels
    group: np.ndarray          # int, row of the catalogue
    cost: np.ndarray
    fund_paid: np.ndarray
    patient_paid: np.ndarray
    self_pay: np.ndarray
    unreasonable_cost: np.ndarray
    length_of_stay: np.ndarray
    admission_day: np.ndarray  # days since 1970-01-01
    discharge_day: np.ndarray
    month: np.ndarray          # 0..11 within the settlement year
    review: np.ndarray         # REVIEW_* codes
    review_approved: np.ndarray
    died: np.ndarray
    transferred_48h: np.ndarray
    rehabilitation_or_tcm: np.ndarray
    hospital_ids: np.ndarray   # str per hospital
    hospital_level: np.ndarray  # level index per hospital
    levels: tuple[str, ...]
    year: int
    source: str
    deducted_points: np.ndarray | None = None  # audit deductions per case (§2.7)
    paid_by_item: np.ndarray | None = None     # cases outside DRG payment (§7 rollout)
    warnings: list[str] = field(default_factory=list)  # plausibility notes, one line each
    scheme: np.ndarray | None = None           # index into SCHEMES, where the table has one
    hospital_names: np.ndarray | None = None   # str per hospital, where the table has them
    hospital_grades: np.ndarray | None = None  # "A"/"B"/"C"/"" per hospital (甲/乙/丙)
    per_diem: np.ndarray | None = None         # per-diem stays (§6: not readmissions)
    day_surgery: np.ndarray | None = None      # day surgery / treatment: its own stream (§2.1)
    other_paid: np.ndarray | None = None       # other payers: 大病保险, 医疗救助 … (§2.7)
    reading: dict = field(default_factory=dict)  # how the file was read (run record)
    rejected: pd.DataFrame | None = None       # rows set aside (skip_bad_rows), as read
    problems: pd.DataFrame | None = None       # their problems, one row each

    def __len__(self) -> int:
        return len(self.cost)

    @property
    def n_hospitals(self) -> int:
        return len(self.hospital_ids)


def load_cases(path: str | Path, catalogue: Catalogue, levels: tuple[str, ...],
               year: int | None = None, *, encoding: str | None = None,
               columns: str | Path | None = None, skip_bad_rows: bool = False) -> CaseTable:
    """Read and validate a case table against a catalogue and a policy's hospital levels.

    ``year`` is the settlement year (by default the most common discharge year); ``encoding``
    overrides detection; ``columns`` is a YAML file ``{drgsim column: header in the file}``;
    ``skip_bad_rows`` sets rows with problems aside instead of refusing the file.
    """
    column_map = read_column_map(columns, KNOWN)
    extract = read_extract(path, ALIASES, expected=EXPECTED_FILE, encoding=encoding,
                           columns=column_map, columns_file=None if columns is None
                           else str(columns), date_columns=DATES)
    return cases_from_extract(extract, catalogue, levels, year, skip_bad_rows)


def validate_cases(table: pa.Table, file: str, catalogue: Catalogue, levels: tuple[str, ...],
                   year: int | None = None, is_csv: bool = False) -> CaseTable:
    """Validate an Arrow table of cases (see :func:`load_cases`) and encode it as columns."""
    unique_names(table.column_names, file, "header")
    mapping, notes = map_columns(table.column_names, ALIASES, None, None, file)
    extract = Extract(table, file, "csv" if is_csv else "parquet", columns=mapping, notes=notes)
    extract.table = table.rename_columns([{h: n for n, h in mapping.items()}.get(h, h)
                                          for h in table.column_names])
    return cases_from_extract(extract, catalogue, levels, year, False)


def cases_from_extract(extract: Extract, catalogue: Catalogue, levels: tuple[str, ...],
                       year: int | None, skip_bad_rows: bool) -> CaseTable:
    """Check every row; refuse with one summary, or set the bad rows aside and check the rest."""
    warnings = _check_header(extract)
    table = extract.table
    if table.num_rows == 0:
        raise InputError(extract.file, None, "the file has no cases", "one row per discharge")
    problems = Problems(extract, table.num_rows)
    cases = _validate(table, extract, problems, catalogue, levels, year, list(warnings))
    if not problems.items:
        assert cases is not None
        return _finish(cases, extract, None)
    if not skip_bad_rows:
        raise problems.summary()
    found = list(problems.items)
    rejected = problems.bad_rows()
    settled_year = problems.year
    for _ in range(3):  # setting rows aside can make a hospital's level or a case_id clash anew
        keep = np.setdiff1d(np.arange(table.num_rows), rejected)
        if len(keep) == 0:
            raise problems.summary("no row can be settled: ", hint=False)
        again = Problems(extract, len(keep))
        again.original = keep
        cases = _validate(table.take(pa.array(keep)), extract, again, catalogue, levels,
                          settled_year, list(warnings))
        if not again.items:
            break
        found += again.items
        rejected = np.union1d(rejected, again.bad_rows())
    else:
        raise again.summary()
    assert cases is not None
    return _finish(cases, extract, (rejected, found))


def _finish(cases: CaseTable, extract: Extract,
            set_aside: tuple[np.ndarray, list] | None) -> CaseTable:
    cases.reading = extract.record()
    cases.reading["patient_scope"] = _patient_scope(extract)
    cases.warnings = list(extract.notes) + cases.warnings
    if set_aside is not None:
        rows, found = set_aside
        cases.rejected = rejected_frame(extract, rows, found)
        cases.problems = problems_frame(found, extract)
        cases.reading["rows_set_aside"] = int(len(rows))
        kinds = cases.problems.groupby(["problem", "column"]).size()
        kinds = kinds.sort_values(ascending=False)
        cases.reading["set_aside_by_problem"] = {f"{kind} in {column}": int(count)
                                                 for (kind, column), count in kinds.items()}
        listed = ", ".join(f"{count:,} {kind} in {column}"
                           for (kind, column), count in list(kinds.items())[:6])
        cases.warnings.append(f"{extract.file}: {len(rows):,} row(s) with problems set aside "
                              f"({listed}); they are in rejected_rows.csv")
    return cases


def _check_header(extract: Extract) -> list[str]:
    """Missing columns are an error; near-misses of drgsim names too; other columns a note."""
    table, file = extract.table, extract.file
    unknown = [name for name in table.column_names if name not in KNOWN]
    for name in unknown:
        close = difflib.get_close_matches(name.strip().lower(), KNOWN, n=1, cutoff=0.75)
        if close and close[0] not in table.column_names and name.isascii():
            raise InputError(file, "header", f"unknown column {name!r} (did you mean "
                             f"{close[0]!r}?)", "the case-table columns " + ", ".join(KNOWN))
    missing = [name for name in REQUIRED if name not in table.column_names]
    if missing:
        name = missing[0]
        others = ", ".join(ALIASES[name][:4])
        read_as = ""
        if extract.encoding not in (None, "utf-8"):
            read_as = f" (read as {extract.encoding}; --encoding gives another)"
        raise InputError(file, "header", f"missing column {name!r}{read_as}",
                         f"a column {name}" + (f" (or {others} …)" if others else "")
                         + ", or --columns MAP.yaml naming it; columns " + ", ".join(REQUIRED))
    for name in (*MONEY, "los_days"):
        header = extract.columns.get(name)
        unit = header_unit(header) if header else ""
        allowed = DAY_UNITS if name == "los_days" else YUAN_UNITS
        if unit and unit not in allowed:
            raise InputError(file, f"column {header}", f"{name} in {unit}",
                             "days (天)" if name == "los_days" else
                             "amounts in yuan (元); convert the column to yuan first")
    notes = []
    if PATIENT_SCOPE_HOSPITAL in _patient_scope(extract):
        notes.append(f"{file}: patient_id is read from {extract.columns['patient_id']!r}, a "
                     "hospital's own number: patients are told apart within each hospital only "
                     "(a readmission to another hospital is not seen)")
    if not unknown:
        return notes
    return notes + [f"{file}: {len(unknown)} column(s) not read (not case-table columns): "
            + ", ".join(repr(name) for name in unknown[:20]) + (" …" if len(unknown) > 20 else "")]


def _patient_scope(extract: Extract) -> str:
    header = extract.columns.get("patient_id")
    local = {header_key(name) for name in HOSPITAL_PATIENT_NUMBERS}
    return PATIENT_SCOPE_HOSPITAL if header is not None and header_key(header) in local \
        else PATIENT_SCOPE_REGION


def _values(text: pa.ChunkedArray):
    """The values of some rows as written, for problem reports."""
    return lambda rows: text.take(pa.array(rows)).to_pylist()


def _written(column: pa.ChunkedArray):
    """Like :func:`_values` for a column not yet turned into text: only the rows asked for are."""
    return lambda rows: as_text(column.take(pa.array(rows))).to_pylist()


def _validate(table: pa.Table, extract: Extract, problems: Problems, catalogue: Catalogue,
              levels: tuple[str, ...], year: int | None,
              warnings: list[str]) -> CaseTable | None:
    """Every check on every row; problems are gathered, the table returned only when clean."""
    file = extract.file
    table, year, discharge_day = _settled_year(table, extract, problems, year, warnings)
    problems.year = year
    n = table.num_rows
    present = set(table.column_names)
    texts = {name: as_text(table[name]) for name in
             ("case_id", "patient_id", "hospital_id", "hospital_level", "drg")}
    for name, text in texts.items():
        empty = pc.equal(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False)
        problems.add(empty, name, "empty value", "a non-empty identifier", _values(text))

    money = {}
    for name in MONEY:
        if name not in present:
            money[name] = np.zeros(n)
            continue
        values, bad = parse_amounts(table[name])
        raw = _written(table[name])
        if name in OPTIONAL_ZERO and bad.any():  # an empty optional amount is none at all
            text = as_text(table[name])
            empty = pc.equal(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False)
            values, bad = np.where(empty, 0.0, values), bad & ~empty
        problems.add(bad, name, "not a number", "an amount in yuan such as 1996.34 or 1,996.34",
                     raw)
        out = ~bad & (~np.isfinite(values) | (values < 0) | (values > MAX_CASE_YUAN))
        problems.add(out, name, "amount out of range",
                     f"a finite amount in yuan from 0 to {MAX_CASE_YUAN:,.0f}", raw)
        money[name] = np.where(bad | out, 0.0, values)
    total = float(money["cost"].sum())
    if total > MAX_TOTAL_YUAN:
        raise InputError(file, "column cost", f"costs total ¥{total:,.0f}",
                         f"at most ¥{MAX_TOTAL_YUAN:,.0f} in one case table")
    ok = problems.ok("cost", "fund_paid", "patient_paid", "other_paid")
    gap = np.abs(money["fund_paid"] + money["patient_paid"] + money["other_paid"]
                 - money["cost"])
    if "other_paid" in present:
        problems.add(ok & (gap > CENT + 1e-6), "cost",
                     "fund_paid + patient_paid + other_paid ≠ cost",
                     "fund_paid + patient_paid + other_paid = cost within one cent",
                     lambda rows: [f"{money['fund_paid'][r]:.2f} + {money['patient_paid'][r]:.2f}"
                                   f" + {money['other_paid'][r]:.2f} ≠ {money['cost'][r]:.2f}"
                                   for r in rows])
    else:
        problems.add(ok & (gap > CENT + 1e-6), "cost", "fund_paid + patient_paid ≠ cost",
                     "fund_paid + patient_paid = cost within one cent (other payers such as "
                     "大病保险 or 医疗救助 in an other_paid column)",
                     lambda rows: [f"{money['fund_paid'][r]:.2f} + "
                                   f"{money['patient_paid'][r]:.2f} ≠ {money['cost'][r]:.2f}"
                                   for r in rows])
    ok = problems.ok("self_pay", "patient_paid")
    problems.add(ok & (money["self_pay"] > money["patient_paid"] + CENT), "self_pay",
                 "self_pay exceeds patient_paid", "self_pay ≤ patient_paid",
                 lambda rows: [f"{money['self_pay'][r]:.2f} > {money['patient_paid'][r]:.2f}"
                               for r in rows])
    ok = problems.ok("unreasonable_cost", "cost")
    problems.add(ok & (money["unreasonable_cost"] > money["cost"] + CENT), "unreasonable_cost",
                 "unreasonable_cost exceeds cost", "unreasonable_cost ≤ cost",
                 lambda rows: [f"{money['unreasonable_cost'][r]:.2f} > {money['cost'][r]:.2f}"
                               for r in rows])

    length_of_stay, bad = parse_amounts(table["los_days"])
    raw = _written(table["los_days"])
    bad |= ~np.isfinite(length_of_stay) | (length_of_stay < 0) \
        | (length_of_stay != np.floor(length_of_stay)) | (length_of_stay > MAX_STAY_DAYS)
    problems.add(bad, "los_days", "not a length of stay",
                 f"a whole number of days from 0 to {MAX_STAY_DAYS:,}", raw)
    length_of_stay = np.where(bad, 0.0, length_of_stay)
    long = length_of_stay > LONG_STAY_DAYS
    if long.any():
        row = _first(long)
        warnings.append(f"{file}: {int(long.sum()):,} case(s) stayed over {LONG_STAY_DAYS} days "
                        f"(first: {_place(extract, problems, row)}, "
                        f"{int(length_of_stay[row])} days); check los_days")

    month = (discharge_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
             - (year - 1970) * 12)
    if "admission_date" in present:
        admission_day, malformed, off = parse_dates(table["admission_date"])
        _date_problems(problems, "admission_date", malformed, off,
                       _written(table["admission_date"]))
        ok = problems.ok("admission_date", "discharge_date")
        problems.add(ok & (admission_day > discharge_day), "admission_date",
                     "after the discharge date", "admission_date ≤ discharge_date",
                     lambda rows: [f"{day_text(admission_day[r])} > {day_text(discharge_day[r])}"
                                   for r in rows])
        # 住院天数 counts nights (discharge − admission); a same-day stay may count as 1
        nights = discharge_day - admission_day
        ok = problems.ok("admission_date", "discharge_date", "los_days")
        disagree = ok & (length_of_stay != nights) & ~((nights == 0) & (length_of_stay == 1))
        if disagree.any():
            row = _first(disagree)
            warnings.append(f"{file}: {int(disagree.sum()):,} case(s) with los_days other than "
                            f"discharge_date − admission_date (first: "
                            f"{_place(extract, problems, row)}, los_days "
                            f"{int(length_of_stay[row])}, dates {int(nights[row])} days apart); "
                            "los_days is used")
        admission_day = np.where(problems.ok("admission_date"), admission_day,
                                 discharge_day - length_of_stay.astype(np.int64))
    else:
        admission_day = discharge_day - length_of_stay.astype(np.int64)

    level, grade = _levels(texts["hospital_level"], levels, problems)
    if "hospital_grade" in present:
        grade = _grades(as_text(table["hospital_grade"]), grade, problems)
    hospital, hospital_ids = encode(texts["hospital_id"], sort=True)
    n_h = len(hospital_ids)
    _one_per_hospital(level, hospital, hospital_ids, problems, "hospital_level",
                      np.asarray(levels, dtype=object), "one level per hospital")
    hospital_level = _per_hospital(level, hospital, n_h, problems.ok("hospital_level"))
    grades = None
    if grade is not None:
        grade_codes, grade_values = encode(pa.chunked_array([pa.array(grade, pa.string())]))
        known = (grade_values != "")[grade_codes]
        _one_per_hospital(np.where(known, grade_codes, -1), hospital, hospital_ids, problems,
                          "hospital_grade", grade_values, "one grade (甲/乙/丙) per hospital")
        index = _per_hospital(grade_codes, hospital, n_h, known & problems.ok("hospital_grade"),
                              empty=-1)
        grades = np.where(index >= 0, grade_values[np.maximum(index, 0)], "").astype(object)

    group_codes, group_values = encode(texts["drg"])
    group_of_value = catalogue.group_ids(group_values)
    nonempty = problems.ok("drg")
    problems.add(nonempty & (group_of_value < 0)[group_codes], "drg", "unknown group code",
                 f"a code of the catalogue {catalogue.source}", _values(texts["drg"]))
    unpriced = (group_of_value >= 0) & np.isnan(catalogue.weights[np.maximum(group_of_value, 0)])
    problems.add(nonempty & unpriced[group_codes], "drg", "group without a weight",
                 f"a priced group (a weight in the catalogue {catalogue.source})",
                 _values(texts["drg"]))
    group = np.maximum(group_of_value, 0)[group_codes]

    case_id = texts["case_id"].combine_chunks()
    if len(pc.unique(case_id)) != n:  # a case is its hospital's case number: unique per hospital
        ids, _ = encode(texts["case_id"])
        pairs = pd.Series(hospital * (int(ids.max()) + 1) + ids)
        duplicated = pairs.duplicated().to_numpy()
        problems.add(duplicated & problems.ok("case_id", "hospital_id"), "case_id",
                     "duplicate case_id", "each case_id once in a hospital",
                     _values(texts["case_id"]))
        if not duplicated.any():
            warnings.append(f"{file}: case_id values repeat across hospitals; a case is "
                            "identified by hospital_id and case_id")
    patient, _ = encode(texts["patient_id"])
    if _patient_scope(extract) == PATIENT_SCOPE_HOSPITAL:
        patient, _ = encode(pa.chunked_array([pa.array(hospital * (int(patient.max()) + 1)
                                                       + patient)]))

    review = np.full(n, REVIEW_NONE, dtype=np.int8)
    if "review" in present:
        codes, values = encode(pc.utf8_lower(pc.utf8_normalize(as_text(table["review"]),
                                                                form="NFKC")))
        mapped = np.array([REVIEW_WORDS.get(value, -1) for value in values], dtype=np.int8)
        problems.add((mapped < 0)[codes], "review", "unknown review",
                     "none, special or whole_group (无, 特病单议, 整组单议)",
                     _written(table["review"]))
        review = np.maximum(mapped, 0)[codes]
    flags = {}
    for name in FLAGS:
        if name not in present:
            flags[name] = np.zeros(n, dtype=bool)
            continue
        flags[name], bad = parse_flags(table[name])
        problems.add(bad, name, "not yes or no", "true or false (1/0, yes/no, 是/否)",
                     _written(table[name]))
    scheme = None
    if "scheme" in present:
        scheme = _schemes(as_text(table["scheme"]), problems)
    deducted = None
    if "deducted_points" in present:
        deducted, bad = parse_amounts(table["deducted_points"])
        empty = pc.equal(pc.utf8_length(as_text(table["deducted_points"])), 0)
        empty = empty.to_numpy(zero_copy_only=False)
        deducted, bad = np.where(empty, 0.0, deducted), bad & ~empty
        bad |= ~bad & (~np.isfinite(deducted) | (deducted < 0) | (deducted > MAX_DEDUCTED_POINTS))
        problems.add(bad, "deducted_points", "not a number of points",
                     f"points from 0 to {MAX_DEDUCTED_POINTS:,.0f}",
                     _written(table["deducted_points"]))
        deducted = np.where(bad, 0.0, deducted)
    names = None
    if "hospital_name" in present:
        names = _hospital_names(as_text(table["hospital_name"]), hospital, n_h)

    if problems.items:
        return None
    return CaseTable(
        case_id=case_id, patient=patient, hospital=hospital, level=level, group=group,
        cost=money["cost"], fund_paid=money["fund_paid"], patient_paid=money["patient_paid"],
        self_pay=money["self_pay"], unreasonable_cost=money["unreasonable_cost"],
        length_of_stay=length_of_stay, admission_day=admission_day,
        discharge_day=discharge_day, month=month, review=review,
        review_approved=flags["review_approved"], died=flags["died"],
        transferred_48h=flags["transferred_48h"],
        rehabilitation_or_tcm=flags["rehabilitation_or_tcm"],
        hospital_ids=hospital_ids, hospital_level=hospital_level, levels=tuple(levels),
        year=int(year), source=file, warnings=warnings, deducted_points=deducted,
        paid_by_item=flags["paid_by_item"] if "paid_by_item" in present else None,
        scheme=scheme, hospital_names=names, hospital_grades=grades,
        per_diem=flags["per_diem"] if "per_diem" in present else None,
        day_surgery=flags["day_surgery"] if "day_surgery" in present else None,
        other_paid=money["other_paid"] if "other_paid" in present else None,
    )


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _place(extract: Extract, problems: Problems, row: int) -> str:
    return extract.where(int(problems.rows_as_read(np.array([row]))[0]))


# --------------------------------------------------------------------------- levels and schemes

_LEVEL_NUMBERS = {"一": 1, "二": 2, "三": 3, "1": 1, "2": 2, "3": 3, "i": 1, "ii": 2, "iii": 3}
_LEVEL_NAMES = {1: "primary", 2: "secondary", 3: "tertiary"}
_LEVEL_TEXT = re.compile(r"^(?P<n>iii|ii|i|[一二三123])级?(?P<grade>[甲乙丙abc])?等?(医院)?$")


def level_and_grade(value: str, levels: tuple[str, ...]) -> tuple[int, str]:
    """A level as written (``tertiary``, ``三级``, ``三甲``, ``三级乙等``, ``3级``, ``Ⅲ级``) as the
    index of one of the policy's levels and its sub-grade (``A``/``B``/``C`` for 甲/乙/丙, or
    empty); ``(-1, "")`` where it is none of them."""
    if value in levels:
        return levels.index(value), ""
    folded = unicodedata.normalize("NFKC", value).strip().lower().replace(" ", "")
    if folded in levels:
        return levels.index(folded), ""
    found = _LEVEL_TEXT.match(folded)
    if found is None:
        return -1, ""
    name = _LEVEL_NAMES[_LEVEL_NUMBERS[found["n"]]]
    if name not in levels:
        return -1, ""
    return levels.index(name), GRADES.get(found["grade"] or "", "")


def _levels(text: pa.ChunkedArray, levels: tuple[str, ...],
            problems: Problems) -> tuple[np.ndarray, np.ndarray | None]:
    codes, values = encode(text)
    parsed = [level_and_grade(str(value), levels) for value in values]
    index = np.array([level for level, _ in parsed], dtype=np.int64)
    grade = np.array([grade for _, grade in parsed], dtype=object)
    problems.add(problems.ok("hospital_level") & (index < 0)[codes], "hospital_level",
                 "unknown level", "one of the policy's levels (" + ", ".join(levels)
                 + "), or 一级/二级/三级 with a sub-grade such as 三甲", _values(text))
    grades = grade[codes] if (grade != "").any() else None
    return np.maximum(index, 0)[codes], grades


def _grades(text: pa.ChunkedArray, from_level: np.ndarray | None,
            problems: Problems) -> np.ndarray:
    codes, values = encode(text)
    folded = [unicodedata.normalize("NFKC", str(v)).strip().lower().removesuffix("等")
              for v in values]
    mapped = np.array([GRADES.get(v, "" if v == "" else None) for v in folded], dtype=object)
    unknown = np.array([m is None for m in mapped])
    problems.add(unknown[codes], "hospital_grade", "unknown sub-grade",
                 "甲, 乙 or 丙 (甲等, A …), or empty", _values(text))
    grade = np.where(unknown, "", mapped)[codes]
    if from_level is not None:
        grade = np.where(grade == "", from_level, grade)
    return grade


def _schemes(text: pa.ChunkedArray, problems: Problems) -> np.ndarray:
    """employee/resident; 职工…/居民…; the platform's 险种类型 310 (职工基本医疗保险) and 390
    (城乡居民基本医疗保险)."""
    codes, values = encode(text)
    mapped = []
    for value in values:
        folded = unicodedata.normalize("NFKC", str(value)).strip().lower()
        if folded in ("employee", "310") or "职工" in folded:
            mapped.append(0)
        elif folded in ("resident", "390") or "居民" in folded:
            mapped.append(1)
        else:
            mapped.append(-1)
    mapped = np.array(mapped, dtype=np.int8)
    problems.add((mapped < 0)[codes], "scheme", "unknown scheme",
                 "employee or resident (职工/居民, or 险种类型 310/390)", _values(text))
    return np.maximum(mapped, 0)[codes]


def _one_per_hospital(code: np.ndarray, hospital: np.ndarray, hospital_ids: np.ndarray,
                      problems: Problems, column: str, names: np.ndarray,
                      expected: str) -> None:
    """Rows whose value differs from the one most rows of their hospital have are problems."""
    ok = problems.ok(column) & (code >= 0)
    if not ok.any():
        return
    n_h, n_codes = len(hospital_ids), int(code.max()) + 1
    counts = np.bincount(hospital[ok] * n_codes + code[ok],
                         minlength=n_h * n_codes).reshape(n_h, n_codes)
    usual = counts.argmax(axis=1)
    tied = (counts == counts.max(axis=1, keepdims=True)).sum(axis=1) > 1
    problems.add(ok & tied[hospital], column, "as many rows of the hospital say otherwise",
                 expected, lambda rows: [f"{hospital_ids[hospital[r]]}: {names[code[r]]}"
                                         for r in rows])
    differs = ok & ~tied[hospital] & (code != usual[hospital])
    problems.add(differs, column, "differs from the hospital's other rows", expected,
                 lambda rows: [f"{hospital_ids[hospital[r]]}: {names[code[r]]} (usually "
                               f"{names[usual[hospital[r]]]})" for r in rows])


def _per_hospital(code: np.ndarray, hospital: np.ndarray, n_h: int, ok: np.ndarray,
                  empty: int = 0) -> np.ndarray:
    per = np.full(n_h, empty, dtype=np.int64)
    per[hospital[ok]] = code[ok]
    return per


def _hospital_names(text: pa.ChunkedArray, hospital: np.ndarray, n_h: int) -> np.ndarray:
    values = text.to_numpy(zero_copy_only=False)
    names = np.full(n_h, "", dtype=object)
    filled = values != ""
    order = np.flatnonzero(filled)[::-1]  # the first non-empty name of each hospital wins
    names[hospital[order]] = values[order]
    return names


# --------------------------------------------------------------------------- the settled year


def _settled_year(table: pa.Table, extract: Extract, problems: Problems, year: int | None,
                  warnings: list[str]) -> tuple[pa.Table, int, np.ndarray]:
    """The settlement year (given, else the most common discharge year) and the table without
    the cases discharged outside it (left out with a warning; ``problems`` keeps their rows)."""
    discharge_day, malformed, off = parse_dates(table["discharge_date"])
    _date_problems(problems, "discharge_date", malformed, off,
                   _written(table["discharge_date"]))
    bad = malformed | off
    years = (discharge_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
             + 1970)
    if year is None:
        if bad.all():
            raise problems.summary()
        distinct, counts = np.unique(years[~bad], return_counts=True)
        year = int(distinct[np.argmax(counts)])
    if not 1990 <= year <= 2100:
        row = _first((years == year) & ~bad)
        raise InputError(extract.file, f"{_place(extract, problems, row)}, column "
                         "discharge_date", f"discharge year {year}",
                         "discharge dates from 1990 to 2100")
    outside = (years != year) & ~bad
    if not outside.any():
        return table, year, np.where(bad, _jan1(year), discharge_day)
    row = _first(outside)
    day = day_text(discharge_day[row])
    if (outside | bad).all():
        raise InputError(extract.file, f"{_place(extract, problems, row)}, column "
                         "discharge_date", f"date {day}: no case was discharged in the "
                         f"settlement year {year}",
                         f"discharge dates from {year}-01-01 to {year}-12-31")
    warnings.append(f"{extract.file}: {int(outside.sum()):,} case(s) discharged outside "
                    f"{year} left out of the settlement (first: "
                    f"{_place(extract, problems, row)}, {day})")
    keep = np.flatnonzero(~outside)
    problems.restrict(keep)
    return table.take(pa.array(keep)), year, np.where(bad, _jan1(year), discharge_day)[keep]


def _date_problems(problems: Problems, column: str, malformed, off, values) -> None:
    problems.add(malformed, column, "not a date",
                 "a date such as 2024-03-05, 2024/3/5 or 20240305 (year first)", values)
    problems.add(off, column, "not a calendar date", "a day that exists on the calendar",
                 values)


def _jan1(year: int) -> int:
    return int((np.datetime64(f"{year}-01-01", "D") - EPOCH).astype(np.int64))


def settlement_year_start(year: int) -> dt.date:
    return dt.date(year, 1, 1)
