"""Import of the DRG tables that Chinese cities publish into the project's catalogue format.

A city table (CSV in UTF-8 with or without BOM, GBK/GB18030 or UTF-16, comma- or tab-separated;
an Excel workbook; or Parquet; read by :func:`sim.inputs.extract.read_extract`) names its columns in
Chinese and differs from city to city; :func:`import_city_table` recognises the columns by
their headers (code, name, relative weight, basic/stable/whole-group-review flags, level
coefficients, payment standards) and, where no header matches, by their content (a column of
group codes such as ``AB12``; one numeric column of weights within 0.05–60), derives each
group's ADRG family, MDC and severity rank from its code (POLICY_RULES §0), and returns a table
that :func:`sim.inputs.catalogue.validate_catalogue` accepts, together with an :class:`ImportReport`
that says what was read, what was left out and why. Nothing is guessed: rates, outlier
thresholds and sub-grade coefficients are reported and ignored; payment standards are kept as
published (``payment_standard[_<level>][_<scheme>]``) and the base rate they imply per level
(standard ÷ weight) is reported; a group without a usable weight (empty, 0, or the weight-1
placeholder some cities give unstable groups) is imported with an empty weight, i.e. unpriced
(§2.2). A table of standard scores (标准分值) without weights is refused: see
:data:`SCORES_ONLY`. :func:`write_source_card` records the provenance next to the written
catalogue, with how a file other than a UTF-8 CSV was read (format, encoding, sheet).
"""

from __future__ import annotations

import importlib.metadata
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from sim.errors import InputError, show
from sim.inputs.catalogue import file_sha256, validate_catalogue, write_catalogue
from sim.inputs.extract import Extract, check_encoding, read_extract
from sim.store import write_files_atomically

CODE_HEADERS = ("DRG编码", "分组编码", "DRG组编码", "病组编码", "DRG分组编码", "DRG")
NAME_HEADERS = ("DRG名称", "分组名称", "DRG组名称", "病组名称", "DRG分组名称")
WEIGHT_HEADERS = ("RW", "权重", "初始权重", "相对权重")
LEVELS = {"一": "primary", "二": "secondary", "三": "tertiary"}
SCHEMES = {"职工": "employee", "居民": "resident"}

# Recognition by content, for columns whose header says nothing (POLICY_RULES §0 code shape):
# a group code is a letter and three or four letters or digits, at least one a digit (AB12,
# ES31, FM19A); a weight column holds numbers of which (nearly) all positive ones lie within
# 0.05–60, not all whole numbers. "Mostly" is 90% of the non-empty cells.
CODE_SHAPE = r"(?=.*\d)[A-Za-z][A-Za-z0-9]{3,4}"
WEIGHT_RANGE = (0.05, 60.0)
MOSTLY = 0.9
SCORES_ONLY = ("standard scores (标准分值) and no relative weight: scores are points on a "
               "city's own scale, and turning them into weights needs the score of the average "
               "case, which the table does not give; drgsim's catalogue holds weights, and its "
               "DIP method (§8) computes scores from mean costs instead of taking given ones")
YES, NO = "是", "否"

# Split characters (the 4th, and for five-character local codes the 5th, character of a code)
# scored from least to most severe (POLICY_RULES §0). CHS-DRG digits: 9 unsplit = 5 without
# CC < 3 with CC < 1 with MCC; other digits (local age, length-of-stay or outcome splits) keep
# their numeric order, a lower digit counting as more severe. Local letters: A most severe, each
# later letter less severe, Z unsplit; next to digits a letter ranks above the without-CC level
# (5, 9) and below every digit that marks complications (4, 3, 2, 1), so that Suzhou's
# "A = with MCC or CC" outranks its sibling 5 and its "B = without MCC" ranks below sibling 1.
UNSPLIT_SCORE = 400
SPLIT_SCORES = {str(digit): 100 * (9 - digit) for digit in range(9)} | {"9": UNSPLIT_SCORE}
SPLIT_SCORES |= {letter: 499 - index for index, letter in enumerate(string.ascii_uppercase[:25])}
SPLIT_SCORES |= {"Z": UNSPLIT_SCORE}
CHS_SPLIT_CHARACTERS = "1359"

# A group code starts with its MDC letter; 0000, 0 or 000P (未入组, ungrouped) do not.
GROUP_CODE = r"[A-Za-z][A-Za-z0-9]*"

# Flag columns: header pattern → (meaning, {flag: values that set it}, values known, strict).
# A flag is "basic" (basic_group), "unstable" (stable = False) or "review" (whole_group_review).
# A value outside the known ones is an error in a strict (是/否) column and a note otherwise.
YES_NO = frozenset({YES, NO, ""})
GROUP_TYPES = frozenset({"普通组", "普通病组", "基础组", "基础病组", "不稳定组", "不稳定病组",
                         "未覆盖组", "未覆盖病组", ""})
GROUP_MARKS = frozenset({"基础组", "正常组", ""})
FLAG_RULES = (
    (r"基础病组", "basic_group (是 = basic group, POLICY_RULES §2.2, §2.4)",
     {"basic": {YES}}, YES_NO, True),
    (r"同等费率病组", "basic_group (是 = same rate at every level, POLICY_RULES §2.4)",
     {"basic": {YES}}, YES_NO, True),
    (r"病组标识", "basic_group (基础组 = basic group, POLICY_RULES §2.2)",
     {"basic": {"基础组"}}, GROUP_MARKS, False),
    (r"病组类型", "basic_group and stable (基础组/基础病组 = basic; 不稳定组/不稳定病组/未覆盖组 "
     "= not stable; POLICY_RULES §2.2)",
     {"basic": {"基础组", "基础病组"},
      "unstable": {"不稳定组", "不稳定病组", "未覆盖组", "未覆盖病组"}},
     GROUP_TYPES, False),
    (r"稳定(组)?(（.*）)?", "stable (否 = unstable group, POLICY_RULES §2.2)",
     {"unstable": {NO}}, YES_NO, True),
    (r"单议病组", "whole_group_review (是 = group paid by reviewed cost, POLICY_RULES §2.5)",
     {"review": {YES}}, YES_NO, True),
)
COEFFICIENT_RULES = (r"([一二三])级医院系数", r"等级系数（([一二三])级.*）")

# Payment standards (yuan per case: weight × rate × coefficient, POLICY_RULES §3): kept as
# published, one catalogue column per level and scheme named in the header.
PAYMENT_STANDARD = r"(.*)(支付标准|付费标准)(.*)"

# Known columns that a catalogue does not hold: header pattern → reason.
IGNORED_RULES = (
    (r".*(支付标准|付费标准).*", "payment standard of a sub-grade or with a qualifier that the "
     "catalogue's primary/secondary/tertiary levels and employee/resident schemes cannot hold"),
    (r"(基础)?费率(（.*）)?", "rate in yuan per weight unit: a policy parameter "
     "(POLICY_RULES §1.5, §3), not part of a catalogue"),
    (r"等级系数（.*）", "coefficient of a sub-grade (三甲, 三乙, 省三甲 …) that the catalogue's "
     "primary/secondary/tertiary levels cannot hold"),
    (r"[低高]倍(率)?临界值.*", "outlier threshold in yuan: a policy parameter "
     "(POLICY_RULES §2.3), not part of a catalogue"),
    (r"标准分值", "standard points in yuan-like units (a point-method table), not a relative "
     "weight; not converted"),
    (r"中医优势病组", "TCM-advantage group flag: not part of the catalogue format"),
    (r"总量控制病组|总控人次", "volume-control flag or case cap: a policy setting, not part of "
     "a catalogue"),
)
MEAN_COST_HEADER = r"例均费用.*"


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_city_table` read from a city table and what it left out, with reasons.

    ``ignored_rows`` holds (row, code, reason) with rows counted from 1 after the header;
    ``unpriced`` holds (code, reason) for groups imported with an empty weight; each of
    ``notes`` is (remark, codes or families it concerns) about ranks, flag values or repeated
    codes to check; ``base_rates`` holds (catalogue column, figures) for each payment standard:
    the base rate it implies (standard ÷ weight, yuan per weight unit) over the priced groups;
    ``published_rates`` holds (header, figures) of rate columns (费率), which are not imported;
    ``reading`` says how the file was read (format, encoding, delimiter, sheet) when that is not
    the default, a UTF-8 comma-separated CSV file, and is empty otherwise.
    """

    source: str
    rows_read: int
    recognised_columns: tuple[tuple[str, str], ...]
    ignored_columns: tuple[tuple[str, str], ...]
    ignored_rows: tuple[tuple[int, str, str], ...]
    unpriced: tuple[tuple[str, str], ...]
    notes: tuple[tuple[str, tuple[str, ...]], ...]
    groups: int
    unstable: int
    basic_group: int
    whole_group_review: int
    families: int
    base_rates: tuple[tuple[str, dict], ...] = ()
    published_rates: tuple[tuple[str, dict], ...] = ()
    reading: tuple[tuple[str, object], ...] = ()

    @property
    def priced(self) -> int:
        return self.groups - len(self.unpriced)

    def counts(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "ignored_rows": len(self.ignored_rows),
            "groups": self.groups,
            "priced": self.priced,
            "unpriced": len(self.unpriced),
            "unstable": self.unstable,
            "basic_group": self.basic_group,
            "whole_group_review": self.whole_group_review,
            "adrg_families": self.families,
        }

    def lines(self, shown: int = 12) -> list[str]:
        """Human-readable lines for the terminal; long code lists are cut after ``shown`` codes."""
        lines = [
            f"{self.source}: rows read {self.rows_read}, ignored {len(self.ignored_rows)}; "
            f"groups imported {self.groups} (priced {self.priced}, "
            f"unpriced {len(self.unpriced)})",
            f"  ADRG families {self.families}; groups unstable {self.unstable}, "
            f"basic {self.basic_group}, whole-group review {self.whole_group_review}",
            *([f"  read as {_reading_text(dict(self.reading))}"] if self.reading else []),
            "recognised columns:",
            *(f"  {header} → {meaning}" for header, meaning in self.recognised_columns),
        ]
        if self.ignored_columns:
            lines.append("ignored columns:")
            lines += [f"  {header}: {reason}" for header, reason in self.ignored_columns]
        if self.base_rates:
            lines.append("implied base rates (payment standard ÷ weight, yuan per weight unit, "
                         "median over priced groups):")
            lines += [f"  {column}: {_rate_text(figures)}" for column, figures in self.base_rates]
        if self.published_rates:
            lines.append("published rates (not imported):")
            lines += [f"  {header}: ¥{figures['median']:,.2f}"
                      + (f" (¥{figures['min']:,.2f}–¥{figures['max']:,.2f})"
                         if figures["min"] != figures["max"] else "")
                      for header, figures in self.published_rates]
        if self.unpriced:
            lines.append(f"unpriced groups ({len(self.unpriced)}, imported with an empty weight):")
            by_reason: dict[str, list[str]] = {}
            for code, reason in self.unpriced:
                by_reason.setdefault(reason, []).append(code)
            for reason, codes in by_reason.items():
                lines.append(f"  {len(codes)} × {reason}: {_short_list(codes, shown)}")
        if self.ignored_rows:
            lines.append(f"ignored rows ({len(self.ignored_rows)}):")
            lines += [f"  row {row} {code!r}: {reason}"
                      for row, code, reason in self.ignored_rows[:shown]]
            if len(self.ignored_rows) > shown:
                lines.append(f"  … and {len(self.ignored_rows) - shown} more")
        if self.notes:
            lines.append("notes:")
            lines += [f"  {remark}" + (f": {_short_list(list(items), 8)}" if items else "")
                      for remark, items in self.notes]
        return lines


def _reading_text(reading: dict) -> str:
    """``Excel workbook, sheet '2022'`` or ``CSV, encoding gb18030 (detected), tab-separated``."""
    kind = reading.get("format", "csv")
    parts = [{"csv": "CSV", "excel": "Excel workbook", "parquet": "Parquet"}.get(kind, kind)]
    if "sheet" in reading:
        parts.append(f"sheet {reading['sheet']!r}")
    if "encoding" in reading:
        how = "detected" if reading.get("encoding_detected") else "--encoding"
        parts.append(f"encoding {reading['encoding']} ({how})")
    if reading.get("delimiter") == "tab":
        parts.append("tab-separated")
    return ", ".join(parts)


def _rate_text(figures: dict) -> str:
    text = (f"¥{figures['median']:,.2f} over {figures['groups']} groups (5th–95th percentile "
            f"¥{figures['p5']:,.2f}–¥{figures['p95']:,.2f}; "
            f"{figures['within_1_percent']:.0%} within 1% of the median)")
    if "median_per_coefficient" in figures:
        text += (f"; ÷ {figures['coefficient']}: ¥{figures['median_per_coefficient']:,.2f} "
                 f"({figures['within_1_percent_per_coefficient']:.0%} within 1%)")
    return text


def _short_list(codes: list[str], shown: int) -> str:
    text = ", ".join(codes[:shown])
    return text + (f", … and {len(codes) - shown} more" if len(codes) > shown else "")


def _normalise_header(header: object) -> str:
    return str(header).strip().replace("(", "（").replace(")", "）")


def _as_text(table: pd.DataFrame) -> pd.DataFrame:
    """Every cell as a stripped string, missing values as '' (Parquet gives numbers and nulls)."""
    text = table.astype(object).where(table.notna(), "")
    return text.apply(lambda column: column.astype(str).str.strip())


def _single(headers: list[str], candidates: tuple[str, ...], file: str, what: str) -> str | None:
    found = [h for h in headers if h in candidates or h.upper() in candidates]
    if len(found) > 1:
        raise InputError(file, "header", f"two {what} columns {found[0]!r} and {found[1]!r}",
                         f"one of {', '.join(candidates)}")
    return found[0] if found else None


def _payment_standard_column(header: str) -> str | None:
    """The catalogue column of a payment-standard header: ``payment_standard``, then
    ``_<level>`` for 一级/二级/三级 and ``_<scheme>`` for 职工/居民 (支付标准（三级职工） →
    ``payment_standard_tertiary_employee``); None when the header says more (a sub-grade)."""
    match = re.fullmatch(PAYMENT_STANDARD, header)
    if match is None:
        return None
    rest, column = match.group(1) + match.group(3), "payment_standard"
    level = re.search(r"([一二三])级", rest)
    if level:
        rest = rest.replace(level.group(0), "", 1)
        column += "_" + LEVELS[level.group(1)]
    for word, scheme in SCHEMES.items():
        if word in rest:
            rest = rest.replace(word, "", 1)
            column += "_" + scheme
            break
    return column if re.sub(r"[（）\s]|医院|元", "", rest) == "" else None


def _known_by_name(header: str) -> bool:
    """A header that says what its column is (recognised or knowingly ignored)."""
    if header in CODE_HEADERS + NAME_HEADERS + WEIGHT_HEADERS or header.upper() in (
            CODE_HEADERS + WEIGHT_HEADERS):
        return True
    patterns = ([rule[0] for rule in FLAG_RULES] + list(COEFFICIENT_RULES)
                + [rule[0] for rule in IGNORED_RULES] + [MEAN_COST_HEADER])
    return any(re.fullmatch(pattern, header) for pattern in patterns)


def _filled(values: pd.Series) -> pd.Series:
    return values[values != ""]


def _code_share(values: pd.Series) -> float:
    """Share of the non-empty cells shaped like a group code (letter + 3–4 letters/digits)."""
    filled = _filled(values)
    return float(filled.str.fullmatch(CODE_SHAPE).mean()) if len(filled) else 0.0


def _weight_like(values: pd.Series) -> bool:
    """Mostly numbers, not all whole, whose positive values lie mostly within WEIGHT_RANGE."""
    filled = _filled(values)
    numbers = pd.to_numeric(filled, errors="coerce")
    if len(filled) == 0 or numbers.notna().mean() < MOSTLY:
        return False
    positive = numbers[numbers > 0]
    low, high = WEIGHT_RANGE
    return (len(positive) > 0 and not (positive == positive.round()).all()
            and ((positive >= low) & (positive <= high)).mean() >= MOSTLY)


def _name_like(values: pd.Series) -> bool:
    """Mostly text with Chinese characters (group names)."""
    filled = _filled(values)
    return len(filled) > 0 and float(filled.str.contains(r"[\u4e00-\u9fff]").mean()) >= MOSTLY


def _by_content(raw: pd.DataFrame, headers: list[str], test, file: str, what: str,
                expected: str) -> str | None:
    """The one column among ``headers`` whose content passes ``test``; None if none does; an
    error naming the candidates if several do."""
    found = [h for h in headers if test(raw[h])]
    if len(found) > 1:
        raise InputError(file, "header", f"no {what} header, and {len(found)} columns could hold "
                         f"{what}s by their content: " + ", ".join(repr(h) for h in found),
                         expected)
    return found[0] if found else None


def _proportional_to_weight(raw: pd.Series, weights: pd.Series) -> float | None:
    """The constant c when ``raw`` = weight × c in every priced row (within 0.1%), else None."""
    ratio = pd.to_numeric(raw, errors="coerce") / weights.where(weights > 0)
    ratio = ratio.dropna()
    if len(ratio) and (ratio.max() - ratio.min()) <= 0.001 * ratio.median():
        return float(ratio.median())
    return None


def _ignored_reason(header: str) -> str:
    """Why a column is not imported."""
    if re.fullmatch(MEAN_COST_HEADER, header):
        return ("mean cost per case whose basis the table does not state; not imported as "
                "mean_cost")
    for pattern, reason in IGNORED_RULES:
        if re.fullmatch(pattern, header):
            return reason
    return "not recognised"


def _stem(name: str) -> str:
    """A group name without its severity part (the text before the first comma)."""
    return re.split(r"[，,]", name, maxsplit=1)[0].strip()


def _group_rows(raw: pd.DataFrame, code_column: str, name_column: str | None,
                weight_column: str
                ) -> tuple[list[tuple[int, str, str]], pd.DataFrame, list[str]]:
    """One row per group code; report non-group codes and repeated codes.

    Of identical repeated rows the first is kept. Of repeated rows that differ, the one whose
    name (before the severity part) is the name of the other groups of its ADRG family is kept
    when exactly one is (Urumqi 2022 prints intracranial haemorrhage, a BR1 group, as DR13
    beside the real DR13 of DR1, head and neck malignancy); otherwise the first. Returns the
    ignored rows, the kept rows and the codes whose repeated rows differ (for a warning)."""
    codes = raw[code_column]
    is_group = codes.str.fullmatch(GROUP_CODE)
    names = raw[name_column] if name_column is not None else pd.Series("", index=raw.index)
    repeated_codes = codes[is_group & codes.where(is_group).duplicated()].unique()

    def describe(row: int) -> str:
        return f"{names[row]!r}, {raw.loc[row, weight_column] or 'no'} weight"

    ignored, dropped, conflicting = [], set(), []
    for row in raw.index[~is_group]:
        reason = "empty code" if codes[row] == "" else (
            "not a group code (no MDC letter" + (f": {names[row]}" if names[row] else "") + ")")
        ignored.append((int(row), codes[row], reason))
    for code in repeated_codes:
        rows = [int(r) for r in raw.index[codes == code]]
        differ = len({describe(r) for r in rows}) > 1
        family = is_group & (codes.str[:3] == code[:3]) & (codes != code)
        siblings = {_stem(n) for n in names[family]}
        fitting = [r for r in rows if _stem(names[r]) in siblings]
        keep = fitting[0] if differ and len(fitting) == 1 else rows[0]
        if differ:
            conflicting.append(code)
        for row in rows:
            if row == keep:
                continue
            dropped.add(row)
            if not differ:
                reason = f"duplicate code; row {keep} kept"
            elif keep in fitting:
                reason = (f"duplicate code; row {keep} kept, whose name is that of the other "
                          f"{code[:3]} groups ({', '.join(codes[family])}); this row's name "
                          f"{names[row]!r} is not (rows differ: {describe(keep)} kept, "
                          f"{describe(row)} dropped)")
            else:
                reason = (f"duplicate code; row {keep} kept although the rows differ "
                          f"({describe(keep)} kept, {describe(row)} dropped)")
            ignored.append((row, code, reason))
    kept = raw[is_group & ~raw.index.isin(list(dropped))]
    return sorted(ignored), kept, conflicting


def _severity_ranks(codes: pd.Series, families: pd.Series) -> pd.Series:
    """Dense rank of each code inside its ADRG family by its split characters (1 = least severe)."""
    def score(position: int) -> pd.Series:
        return codes.str[position].str.upper().map(SPLIT_SCORES).fillna(UNSPLIT_SCORE)

    key = score(3) * 1000 + score(4)
    return key.groupby(families).rank(method="dense").astype(np.int64)


def _numbers(text: pd.Series, header: str, file: str) -> pd.Series:
    """Numbers of a column whose cells may be empty; an error names the source row and header."""
    numbers = pd.to_numeric(text, errors="coerce")
    bad = (numbers.isna() & (text != "")) | (numbers < 0) | ~np.isfinite(numbers.fillna(0.0))
    if bad.any():
        row = int(text.index[np.flatnonzero(bad.to_numpy())[0]])
        raise InputError(file, f"row {row}, column {header}", f"value {show(text[row])}",
                         "a number ≥ 0 or empty")
    return numbers


def _check_flags(values: pd.Series, header: str, known: frozenset[str], strict: bool,
                 file: str) -> list[tuple[str, tuple[str, ...]]]:
    """Raise for an unknown value in a strict column; otherwise return notes on unknown values."""
    unknown = ~values.isin(known)
    if strict and unknown.any():
        row = int(values.index[np.flatnonzero(unknown.to_numpy())[0]])
        raise InputError(file, f"row {row}, column {header}", f"value {show(values[row])}",
                         "是, 否 or empty")
    counts = values[unknown].value_counts()
    return [(f"{header} value {value!r} is not mapped, read as neither basic nor unstable "
             f"(rows: {count})", ()) for value, count in counts.items()]


def _spread(ratio: pd.Series) -> dict:
    median = float(ratio.median())
    return {"median": round(median, 2), "p5": round(float(ratio.quantile(0.05)), 2),
            "p95": round(float(ratio.quantile(0.95)), 2), "min": round(float(ratio.min()), 2),
            "max": round(float(ratio.max()), 2),
            "within_1_percent": round(float(((ratio - median).abs()
                                             <= 0.01 * median).mean()), 3)}


def _base_rates(table: pd.DataFrame, columns: dict[str, str]) -> list[tuple[str, dict]]:
    """Per payment-standard column: the base rate it implies, standard ÷ weight (yuan per weight
    unit), over priced groups with a standard above 0: median, 5th/95th percentiles, min, max,
    share within 1% of the median; where the catalogue has that level's coefficient, also
    standard ÷ (weight × coefficient) (POLICY_RULES §3: standard = weight × rate × coefficient)."""
    rates = []
    for header, column in columns.items():
        parts = column.split("_")[2:]
        level = next((p for p in parts if p in LEVELS.values()), None)
        scheme = next((p for p in parts if p in SCHEMES.values()), None)
        usable = table[column].gt(0) & table["weight"].gt(0)
        if not usable.any():
            continue
        ratio = table.loc[usable, column] / table.loc[usable, "weight"]
        figures = {"column": header, "level": level or "every level",
                   "scheme": scheme or "every scheme", "groups": int(usable.sum()),
                   **_spread(ratio)}
        coefficient = f"coefficient_{level}"
        if level and coefficient in table.columns:
            with_coefficient = usable & table[coefficient].gt(0)
            if with_coefficient.any():
                per = (table.loc[with_coefficient, column]
                       / (table.loc[with_coefficient, "weight"]
                          * table.loc[with_coefficient, coefficient]))
                spread = _spread(per)
                figures |= {"coefficient": coefficient,
                            "median_per_coefficient": spread["median"],
                            "within_1_percent_per_coefficient": spread["within_1_percent"]}
        rates.append((column, figures))
    return rates


def _published_rates(kept: pd.DataFrame, headers: list[str]) -> list[tuple[str, dict]]:
    """Rate columns (费率, 基础费率 …): the values a city published, for the source card."""
    rates = []
    for header in headers:
        if re.fullmatch(IGNORED_RULES[1][0], header):
            numbers = pd.to_numeric(kept[header], errors="coerce").dropna()
            numbers = numbers[numbers > 0]
            if len(numbers):
                rates.append((header, {"median": round(float(numbers.median()), 2),
                                       "min": round(float(numbers.min()), 2),
                                       "max": round(float(numbers.max()), 2)}))
    return rates


CITY_TABLE = ("a city DRG table with a header line: CSV (UTF-8, GBK/GB18030 or UTF-16), Excel "
              "(.xlsx, .xlsm, .xls) or Parquet")


def read_city_table(path: Path, encoding: str | None = None
                    ) -> tuple[pd.DataFrame, tuple[tuple[str, object], ...], list[str]]:
    """A city table as text cells with its own headers, how it was read, and reading notes.

    The file is read by :func:`sim.inputs.extract.read_extract` (encoding detected or ``encoding``;
    Excel: the first sheet with data, numbers as text such as ``0.8312`` or ``1``; Parquet:
    typed values turned into text). As the importer always did for CSV, lines or sheet rows
    whose cells are all empty are skipped (rows are counted from 1 after the header without
    them), and a column without a header is dropped when it is empty and refused otherwise.
    The reading info is empty for a UTF-8 comma-separated CSV file (so that the source cards of
    such tables stay as they were) and else names the format, encoding, delimiter and sheet.
    """
    file = str(path)
    if encoding is not None:
        check_encoding(encoding)
    try:
        extract = read_extract(path, {}, expected=CITY_TABLE, encoding=encoding)
    except InputError as error:
        if error.problem == "the file is empty":  # whitespace or blank lines only
            raise InputError(error.file, error.where, error.problem,
                             "a header line and one row per case group") from None
        raise
    table = _checked_headers(extract)
    raw = table.to_pandas()
    raw.columns = [_normalise_header(c) for c in raw.columns]
    raw = _as_text(raw)
    if extract.kind != "parquet":
        raw = raw[(raw != "").any(axis=1)]
    raw.index = pd.RangeIndex(1, len(raw) + 1)

    reading: dict[str, object] = {}
    delimiter = "tab" if extract.delimiter == "\t" else extract.delimiter
    if extract.kind != "csv" or extract.encoding != "utf-8" or delimiter != ",":
        reading["format"] = extract.kind
        if extract.sheet is not None:
            reading["sheet"] = extract.sheet
        if extract.encoding is not None:
            reading |= {"encoding": extract.encoding,
                        "encoding_detected": extract.encoding_detected}
        if delimiter not in (None, ","):
            reading["delimiter"] = delimiter
    notes = [note.removeprefix(f"{file}: ") for note in extract.notes]
    return raw, tuple(reading.items()), notes


def _checked_headers(extract: Extract) -> pa.Table:
    """The table without its empty unnamed columns; one line for a column name given twice or
    a column with data but no name.

    A reader may refuse a repeated name itself or read it as ``NAME (2)``, and may give an empty
    name as ``""`` or as ``column N`` (N its position); each is refused or dropped here alike, so
    that the importer's checks do not depend on that choice.
    """
    table, file = extract.table, extract.file
    if extract.kind == "parquet":
        where = "schema"
    elif extract.kind == "excel":
        where = f"sheet {extract.sheet!r} row {extract.first_data_row - 1}"
    else:
        where = f"line {extract.first_data_row - 1}"
    names = [name.strip() for name in table.column_names]
    first = {}
    for position, name in enumerate(names, start=1):
        first.setdefault(name, position)
        repeat = re.fullmatch(r"(.+) \((\d+)\)", name)
        if repeat and first.get(repeat.group(1), position) < position:
            raise InputError(file, f"{where}, column {position}",
                             f"column name {show(repeat.group(1))} appears twice (columns "
                             f"{first[repeat.group(1)]} and {position})", "each column name once")
    if extract.kind == "parquet":
        return table
    for index in reversed(range(table.num_columns)):
        if names[index] not in ("", f"column {index + 1}"):
            continue
        if pc.any(pc.not_equal(pc.utf8_trim_whitespace(table.column(index)), "")).as_py():
            raise InputError(file, f"{where}, column {index + 1}", "a column with data but no "
                             "name", "a name for every column")
        table = table.remove_column(index)
    if table.num_columns == 0:
        raise InputError(file, None, "the file is empty",
                         "a header line and one row per case group")
    return table


def import_city_table(path: str | Path, encoding: str | None = None
                      ) -> tuple[pd.DataFrame, ImportReport]:
    """Read a city DRG table and return it in the catalogue format, with an import report.

    Columns are recognised by their Chinese headers (see ``CODE_HEADERS``, ``NAME_HEADERS``,
    ``WEIGHT_HEADERS``, ``FLAG_RULES``, ``COEFFICIENT_RULES`` and ``PAYMENT_STANDARD``); where no
    header names the code, weight or name column, by content among the columns whose headers
    say nothing (``CODE_SHAPE``, ``WEIGHT_RANGE``, Chinese text), refusing a choice between
    several candidates. The ADRG family is the first three characters of the code, the MDC its
    first letter and the severity rank the dense rank of the split characters inside the family
    (POLICY_RULES §0), for any number of ranks. Rows whose code is not a group code (``0000``,
    ``0``, ``000P`` 未入组 …) and repeated codes are left out and reported (see
    :func:`_group_rows` for which of two differing rows is kept). A group whose weight is
    empty, 0, or 1 in a group flagged unstable or uncovered (a placeholder, as in lanzhou_2023
    and taizhou_2022) keeps an empty weight: it is listed but unpriced (§2.2). Payment standards
    are kept (0 = none, kept empty), and a 例均费用 column that equals weight × a constant in
    every priced row (guangxi) is a payment standard too, not a mean cost.
    The file is read by :func:`read_city_table` (CSV in any encoding that
    :func:`sim.inputs.extract.read_extract` detects or ``encoding`` names, Excel or Parquet).
    Raises :class:`InputError` when the file cannot be read (a bad byte names its line, a
    truncated row its line), the code or weight column is missing or ambiguous, the table has
    standard scores but no weights (:data:`SCORES_ONLY`), or a value is unusable.
    """
    path = Path(path)
    file = str(path)
    raw, reading, reading_notes = read_city_table(path, encoding)
    headers = list(raw.columns)
    found = ", ".join(headers)
    if len(raw) == 0:
        raise InputError(file, None, "the table has no rows", "one row per case group")
    unnamed = [h for h in headers if not _known_by_name(h)]
    by_content: dict[str, str] = {}

    code_column = _single(headers, CODE_HEADERS, file, "code")
    if code_column is None:
        code_column = _by_content(raw, unnamed, lambda v: _code_share(v) >= MOSTLY, file,
                                  "group code", "a column " + " / ".join(CODE_HEADERS))
        if code_column is None:
            raise InputError(file, "header", f"no group code column among: {found} (and none "
                             "whose values are mostly codes such as AB12)",
                             "a column " + " / ".join(CODE_HEADERS))
        share = _code_share(raw[code_column])
        by_content[code_column] = (f"recognised by content: {share:.0%} of its values are "
                                   "group codes")
        unnamed.remove(code_column)
    weight_column = _single(headers, WEIGHT_HEADERS, file, "weight")
    if weight_column is None:
        weight_column = _by_content(raw, unnamed, _weight_like, file, "weight",
                                    "a column named " + " / ".join(WEIGHT_HEADERS)
                                    + " (rename the weight column)")
        if weight_column is None:
            if "标准分值" in headers:
                raise InputError(file, "header", f"only {SCORES_ONLY}",
                                 "a relative-weight column " + " / ".join(WEIGHT_HEADERS))
            raise InputError(file, "header", f"no weight column among: {found} (and none "
                             f"whose values are mostly numbers within {WEIGHT_RANGE[0]:g}–"
                             f"{WEIGHT_RANGE[1]:g})", "a column " + " / ".join(WEIGHT_HEADERS))
        by_content[weight_column] = (f"recognised by content: numbers mostly within "
                                     f"{WEIGHT_RANGE[0]:g}–{WEIGHT_RANGE[1]:g}")
        unnamed.remove(weight_column)
    name_column = _single(headers, NAME_HEADERS, file, "name")
    if name_column is None and unnamed:
        name_column = _by_content(raw, unnamed, _name_like, file, "name",
                                  "a column " + " / ".join(NAME_HEADERS))
        if name_column is not None:
            by_content[name_column] = "recognised by content: Chinese text"

    recognised = {code_column: "code (ADRG = first 3 characters, MDC = first letter, severity "
                               "rank from the split character; POLICY_RULES §0)",
                  weight_column: "weight (relative weight; empty, 0 or unstable placeholder 1 "
                                 "= unpriced; POLICY_RULES §2.2)"}
    if name_column is not None:
        recognised[name_column] = "name"
    for header, how in by_content.items():
        recognised[header] += f" [{how}]"
    flag_columns: list[tuple[str, dict[str, set[str]], frozenset[str], bool]] = []
    coefficient_columns: dict[str, str] = {}
    payment_columns: dict[str, str] = {}
    for header in headers:
        if header in recognised:
            continue
        for pattern, meaning, flags, known, strict in FLAG_RULES:
            if re.fullmatch(pattern, header):
                recognised[header] = meaning
                flag_columns.append((header, flags, known, strict))
                break
        else:
            for pattern in COEFFICIENT_RULES:
                match = re.fullmatch(pattern, header)
                if match:
                    column = "coefficient_" + LEVELS[match.group(1)]
                    if column in coefficient_columns.values():
                        raise InputError(file, "header", f"a second column for {column}: "
                                         f"{header!r}", "one column per level")
                    coefficient_columns[header] = column
                    recognised[header] = (f"{column} (level difference coefficient, "
                                          "POLICY_RULES §2.4)")
                    break
            else:
                column = _payment_standard_column(header)
                if column is not None:
                    if column in payment_columns.values():
                        raise InputError(file, "header", f"a second column for {column}: "
                                         f"{header!r}", "one payment standard column per level "
                                         "and scheme")
                    payment_columns[header] = column
                    recognised[header] = (f"{column} (payment standard in yuan, kept as "
                                          "published; 0 = none; POLICY_RULES §3)")

    ignored_rows, kept, conflicting = _group_rows(raw, code_column, name_column, weight_column)
    if len(kept) == 0:
        raise InputError(file, f"column {code_column}", "no row holds a group code",
                         "codes such as AA19 or ES31")
    names = kept[name_column] if name_column is not None else pd.Series("", index=kept.index)

    # Flags (POLICY_RULES §2.2, §2.4, §2.5).
    notes: list[tuple[str, tuple[str, ...]]] = [(note, ()) for note in reading_notes]
    if conflicting:
        notes.append(("codes given twice with different rows: one row kept, the other left out "
                      "(see ignored rows; check the source)", tuple(conflicting)))
    marks = {flag: pd.Series(False, index=kept.index) for flag in ("basic", "unstable", "review")}
    for header, flags, known, strict in flag_columns:
        values = kept[header]
        notes += _check_flags(values, header, known, strict, file)
        for flag, words in flags.items():
            marks[flag] |= values.isin(words)

    # Weights: unpriced where empty, 0, or the weight-1 placeholder of an unstable group.
    # A cell of words without any digit (beijing: 按项目据实支付, paid by item) states that the
    # group has no weight; a cell with digits that is not a number is an error.
    text = kept[weight_column]
    words = ~text.str.contains(r"\d") & (text != "")
    weights = _numbers(text.where(~words, ""), weight_column, file)
    unpriced_reason = pd.Series("", index=kept.index)
    unpriced_reason[(weights == 1) & marks["unstable"]] = (
        "weight 1 placeholder of a group flagged unstable or uncovered")
    unpriced_reason[weights == 0] = f"{weight_column} 0"
    unpriced_reason[weights.isna()] = f"{weight_column} empty"
    unpriced_reason[words] = f"{weight_column} is text, not a weight: " + text[words]
    weights = weights.where(unpriced_reason == "")

    # A 例均费用 column equal to weight × a constant is a payment standard (guangxi: × 7,990).
    mean_cost_notes = {}
    for header in headers:
        if header in recognised or not re.fullmatch(MEAN_COST_HEADER, header):
            continue
        constant = _proportional_to_weight(kept[header], weights)
        if constant is None:
            continue
        why = (f"equals weight × {constant:,.0f} in every priced row: a payment standard, not "
               "an observed mean cost")
        if "payment_standard" in payment_columns.values():
            mean_cost_notes[header] = why + "; not imported (the table has a payment standard)"
            continue
        payment_columns[header] = "payment_standard"
        recognised[header] = f"payment_standard ({why}; kept as payment_standard, not mean_cost)"

    table = pd.DataFrame({
        "code": kept[code_column],
        "name": names,
        "adrg": kept[code_column].str[:3],
        "mdc": kept[code_column].str[0],
    })
    table["severity_rank"] = _severity_ranks(table["code"], table["adrg"])
    table["weight"] = weights
    table["basic_group"] = marks["basic"]
    table["stable"] = ~marks["unstable"]
    table["whole_group_review"] = marks["review"]
    order = [f"coefficient_{level}" for level in LEVELS.values()]
    for header, column in sorted(coefficient_columns.items(), key=lambda h: order.index(h[1])):
        table[column] = _numbers(kept[header], header, file)
    for header, column in sorted(payment_columns.items(), key=lambda h: _standard_order(h[1])):
        standard = _numbers(kept[header], header, file)
        table[column] = standard.where(standard > 0)
    table = validate_catalogue(table.reset_index(drop=True), file)

    recognised_columns = tuple((h, recognised[h]) for h in headers if h in recognised)
    ignored_columns = tuple(
        (header, mean_cost_notes.get(header) or _ignored_reason(header))
        for header in headers if header not in recognised
    )
    notes += _severity_notes(table)
    report = ImportReport(
        source=path.name,
        rows_read=len(raw),
        recognised_columns=recognised_columns,
        ignored_columns=ignored_columns,
        ignored_rows=tuple(ignored_rows),
        unpriced=tuple(zip(kept.loc[unpriced_reason != "", code_column],
                           unpriced_reason[unpriced_reason != ""], strict=True)),
        notes=tuple(notes),
        groups=len(table),
        unstable=int((~table["stable"]).sum()),
        basic_group=int(table["basic_group"].sum()),
        whole_group_review=int(table["whole_group_review"].sum()),
        families=int(table["adrg"].nunique()),
        base_rates=tuple(_base_rates(table, {h: c for h, c in sorted(
            payment_columns.items(), key=lambda h: _standard_order(h[1]))})),
        published_rates=tuple(_published_rates(kept, [h for h in headers
                                                      if h not in recognised])),
        reading=reading,
    )
    return table, report


def _standard_order(column: str) -> tuple[int, int]:
    """Payment standards ordered by level (none, primary, secondary, tertiary), then scheme."""
    parts = column.split("_")[2:]
    levels, schemes = list(LEVELS.values()), list(SCHEMES.values())
    level = next((levels.index(p) + 1 for p in parts if p in levels), 0)
    scheme = next((schemes.index(p) + 1 for p in parts if p in schemes), 0)
    return level, scheme


def _severity_notes(table: pd.DataFrame) -> list[tuple[str, tuple[str, ...]]]:
    """Notes on ranks that rest on local conventions or that the weights contradict."""
    notes = []
    split = table["code"].str[3:].str.upper()
    local_split = split.str.contains(f"[^{CHS_SPLIT_CHARACTERS}]") & (split != "")
    local = table.loc[local_split, "code"].tolist()
    if local:
        notes.append((
            f"codes with split characters other than the CHS-DRG 1/3/5/9 ({len(local)}), ranked "
            "by the local convention (other digits: lower = more severe; letters: A most "
            "severe … Z unsplit, above 5 and 9, below 1 to 4)", tuple(local)))
    priced = table.dropna(subset=["weight"]).sort_values(["adrg", "severity_rank", "weight"])
    rank_step = priced.groupby("adrg")["severity_rank"].diff()
    weight_step = priced.groupby("adrg")["weight"].diff()
    inverted = priced.loc[(rank_step > 0) & (weight_step < 0), "adrg"].unique().tolist()
    if inverted:
        notes.append((
            "ADRG families where a more severe group weighs less than a less severe sibling "
            f"({len(inverted)})", tuple(inverted)))
    return notes


def drgsim_version() -> str:
    """The installed drgsim version, else the one in the source tree's pyproject.toml."""
    try:
        return importlib.metadata.version("drgsim")
    except importlib.metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        if pyproject.exists():
            return str(tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"])
        return "unknown"


def source_card_path(out_path: str | Path) -> Path:
    """Where the source card of catalogue ``out_path`` goes: ``<out_path>.source.yaml``."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.name + ".source.yaml")


def source_card(report: ImportReport, source_path: str | Path, catalogue_name: str) -> str:
    """The YAML provenance card of a catalogue named ``catalogue_name``.

    The card holds the source file's name and sha256 (and, for a file that is not a UTF-8
    comma-separated CSV, how it was read: ``format``, ``encoding`` and ``encoding_detected``,
    ``delimiter``, Excel ``sheet``), the drgsim version, the counts, the recognised and ignored
    columns, the base rates that the payment standards imply (per level and scheme: median,
    spread and count over the priced groups) and the rates the table publishes, the unpriced
    groups, the ignored rows and the notes. The import date is left out on purpose so that
    re-running an import reproduces the card exactly.
    """
    source_path = Path(source_path)
    digest = file_sha256(source_path)
    card = {
        "source": {"file": source_path.name, "sha256": digest, **dict(report.reading)},
        "catalogue": catalogue_name,
        "converted_by": f"drgsim {drgsim_version()} (sim.inputs.citytables.import_city_table)",
        "counts": report.counts(),
        "recognised_columns": dict(report.recognised_columns),
        "ignored_columns": dict(report.ignored_columns),
    }
    if report.base_rates:
        card["implied_base_rates"] = {
            "how": "payment standard ÷ weight in yuan per weight unit over the priced groups "
                   "with a standard above 0: median, 5th and 95th percentiles, min, max, share "
                   "within 1% of the median; where the level's coefficient is in the catalogue "
                   "also standard ÷ (weight × coefficient) (POLICY_RULES §3)",
            **dict(report.base_rates)}
    if report.published_rates:
        card["published_rates"] = dict(report.published_rates)
    card |= {
        "unpriced_groups": dict(report.unpriced),
        "ignored_rows": [{"row": row, "code": code, "reason": reason}
                         for row, code, reason in report.ignored_rows],
        "notes": [{"note": remark, "codes": list(items)} if items else {"note": remark}
                  for remark, items in report.notes],
    }
    return CARD_HEADER + yaml.safe_dump(card, allow_unicode=True, sort_keys=False, width=100)


# The first lines of every card drgsim writes: they mark the card as drgsim's own (see
# imported_by_drgsim), so they keep the module's name from before sim/ was grouped into rooms.
CARD_HEADER = ("# Source card written by drgsim (sim.citytables.write_source_card): where the "
               "catalogue\n# next to it came from and what the import left out.\n")


def write_source_card(report: ImportReport, source_path: str | Path,
                      out_path: str | Path) -> Path:
    """Write the provenance card of catalogue ``out_path`` (atomically); return its path."""
    path = source_card_path(out_path)
    text = source_card(report, source_path, Path(out_path).name)
    write_files_atomically({path: lambda p: p.write_text(text, encoding="utf-8", newline="\n")},
                           "--out")
    return path


def imported_by_drgsim(catalogue_path: Path) -> bool:
    """A catalogue (or its source card) that ``drgsim catalogue import`` wrote: its card exists,
    starts with drgsim's header and names this catalogue."""
    card = source_card_path(catalogue_path)
    if catalogue_path.name.endswith(".source.yaml"):
        card = catalogue_path
        catalogue_path = catalogue_path.with_name(catalogue_path.name[: -len(".source.yaml")])
    return card_written_by(card, CARD_HEADER, catalogue_path.name)


def card_written_by(card: Path, header: str, catalogue_name: str) -> bool:
    """A source card that starts with ``header`` (the writer's mark) and names the catalogue."""
    try:
        if not card.is_file() or card.stat().st_size > 16 << 20:
            return False
        text = card.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return text.startswith(header) and f"\ncatalogue: {catalogue_name}\n" in text


def write_imported_catalogue(table: pd.DataFrame, report: ImportReport, source_path: Path,
                             out_path: Path) -> None:
    """The catalogue and its source card, both staged and renamed into place together."""
    card_path = source_card_path(out_path)
    card = source_card(report, source_path, out_path.name)
    write_files_atomically({
        out_path: lambda p: write_catalogue(table, p),
        card_path: lambda p: p.write_text(card, encoding="utf-8", newline="\n"),
    }, "--out")
