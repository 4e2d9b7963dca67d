"""The case table: one row per discharge, read from CSV or Parquet, validated, integer-coded.

Required columns: ``case_id, patient_id, hospital_id, hospital_level, drg, cost, fund_paid,
patient_paid, los_days, discharge_date``; optional: ``admission_date, self_pay,
unreasonable_cost, review (none|special|whole_group), review_approved`` and, for the
all-inclusive price (§5), ``died, transferred_48h, rehabilitation_or_tcm``. Every check raises
one :class:`~sim.errors.InputError` naming the file, the row (1-based; CSV lines are one more
because of the header), the column, the value and what was expected. Strings are encoded as
small integers once here; nothing downstream sees them.

Refused as well: a duplicated header, a truncated or overlong row, a nested (list or struct)
Parquet column, a date that is not on the calendar (``2023-02-30``), an amount above
:data:`MAX_CASE_YUAN` per case or costs above :data:`MAX_TOTAL_YUAN` in total (so that sums in
cents stay exact in int64 and float64), a stay above :data:`MAX_STAY_DAYS`, and an unknown column
whose name is close to a known one ("did you mean"). Warnings, not errors (``CaseTable.warnings``,
one line each): other unknown columns (listed, not read), stays that disagree with the dates,
stays over a year, and discharges outside the settled year, which are left out of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from sim.catalogue import Catalogue, unique_names
from sim.errors import InputError, check_input_file, show

REQUIRED = ("case_id", "patient_id", "hospital_id", "hospital_level", "drg", "cost",
            "fund_paid", "patient_paid", "los_days", "discharge_date")
OPTIONAL = ("admission_date", "self_pay", "unreasonable_cost", "review", "review_approved",
            "died", "transferred_48h", "rehabilitation_or_tcm")
MONEY = ("cost", "fund_paid", "patient_paid", "self_pay", "unreasonable_cost")
FLAGS = ("review_approved", "died", "transferred_48h", "rehabilitation_or_tcm")
REVIEWS = ("none", "special", "whole_group")
REVIEW_NONE, REVIEW_SPECIAL, REVIEW_WHOLE_GROUP = range(3)
TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f", "")
CENT = 0.01
EPOCH = np.datetime64("1970-01-01", "D")
MAX_CASE_YUAN = 1e8    # one hundred million yuan per case and amount: far above any real stay
MAX_TOTAL_YUAN = 1e13  # ten trillion yuan of costs in one table: cents stay exact (< 2**53)
MAX_STAY_DAYS = 36_500
LONG_STAY_DAYS = 365
KNOWN = REQUIRED + OPTIONAL


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
    deducted_points: np.ndarray | None = None  # audit deductions per case (§2.7), model runs
    paid_by_item: np.ndarray | None = None     # cases outside DRG payment (§7 rollout)
    warnings: list[str] = field(default_factory=list)  # plausibility notes, one line each

    def __len__(self) -> int:
        return len(self.cost)

    @property
    def n_hospitals(self) -> int:
        return len(self.hospital_ids)


class _Where:
    """Builds error locations: ``row N (line N+1)`` for CSV, ``row N`` for Parquet."""

    def __init__(self, file: str, csv: bool):
        self.file, self.csv = file, csv
        self.rows: np.ndarray | None = None  # original row of each kept row, once rows are left out

    def place(self, row: int) -> str:
        row = int(self.rows[row]) if self.rows is not None else row
        return f"row {row + 1}" + (f" (line {row + 2})" if self.csv else "")

    def fail(self, row: int, column: str, problem: str, expected: str) -> None:
        raise InputError(self.file, f"{self.place(row)}, column {column}", problem, expected)


def _read_raw(path: Path) -> tuple[pa.Table, bool]:
    file = str(path)
    check_input_file(path, "a CSV or Parquet case table with a header line and one row per case")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            table = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
            message = " ".join(str(exc).split())[:160]
            raise InputError(file, None, f"not a readable Parquet file ({message})",
                             "a Parquet file with one row per case (or a CSV file)") from None
        return _plain_columns(table, file), False
    try:
        names = _csv_header(path)
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=1 << 24),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        return table, True
    except pa.ArrowInvalid as exc:
        _explain_csv_failure(path, exc)
        raise AssertionError("unreachable") from None


def _csv_header(path: Path) -> list[str]:
    with open(path, "rb") as handle:
        first = handle.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), "line 1", f"byte 0x{first[exc.start]:02x} is not UTF-8",
                         "a UTF-8 encoded CSV file") from None
    try:
        names = next(csv.reader([text.rstrip("\r\n")]), [])
    except csv.Error as error:
        raise InputError(str(path), "line 1", f"not a readable CSV header ({error})",
                         "a header line of column names ending in LF or CRLF") from None
    unique_names(names, str(path), "line 1")
    return names


def _plain_columns(table: pa.Table, file: str) -> pa.Table:
    """Parquet: names once each, and plain values (no lists or structs); categories decoded."""
    unique_names(table.column_names, file, "schema")
    for index, column in enumerate(table.columns):
        kind = column.type
        if pa.types.is_dictionary(kind):
            table = table.set_column(index, table.field(index).name,
                                     pc.cast(column, kind.value_type))
        elif pa.types.is_nested(kind) or pa.types.is_binary(kind) \
                or pa.types.is_large_binary(kind):
            raise InputError(file, f"column {table.column_names[index]}",
                             f"holds values of type {kind}",
                             "plain values in every column (text, numbers, dates)")
    return table


def _explain_csv_failure(path: Path, exc: Exception) -> None:
    """Turn a reader failure into one line: find a non-UTF-8 byte, else quote the reader."""
    file = str(path)
    line = 1
    with open(path, "rb") as handle:
        for raw in handle:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InputError(file, f"line {line}",
                                 f"byte 0x{raw[error.start]:02x} is not UTF-8",
                                 "a UTF-8 encoded CSV file") from None
            line += 1
    message = str(exc).splitlines()[0]
    if "Empty CSV file" in message:
        raise InputError(file, None, "the file is empty", "a header line and one row per case")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    kind = ("a truncated row (or an unclosed quote)" if len(row) < len(header)
                            else "a row with extra fields")
                    raise InputError(file, f"line {reader.line_num}",
                                     f"{kind}: {len(row)} fields, the header has {len(header)}",
                                     "one field per column on every line")
        except csv.Error as error:
            raise InputError(file, f"line {reader.line_num}", f"not readable CSV ({error})",
                             "comma-separated values, lines ending in LF or CRLF") from None
    raise InputError(file, None, f"not a readable CSV file ({message})",
                     "comma-separated values with one header line")


def _text(table: pa.Table, name: str) -> pa.ChunkedArray:
    """A column as trimmed text; missing values (nulls) as empty text."""
    column = table[name]
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return pc.fill_null(pc.utf8_trim_whitespace(column), "")
    return pc.fill_null(pc.cast(column, pa.string()), "")


def _numbers(table: pa.Table, name: str, where: _Where) -> np.ndarray:
    column = table[name]
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        if column.null_count:
            row = int(np.flatnonzero(pc.is_null(column).to_numpy(zero_copy_only=False))[0])
            where.fail(row, name, "empty value", "a number")
        return values
    text = _text(table, name)
    try:
        values = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = pd.to_numeric(pd.Series(text.to_numpy(zero_copy_only=False)), errors="coerce")
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        where.fail(row, name, f"value {show(text[row].as_py())} is not a number", "a number")
        raise AssertionError("unreachable") from None
    return values


def _days(table: pa.Table, name: str, where: _Where) -> np.ndarray:
    """Dates as whole days since 1970-01-01."""
    column = table[name]
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        if column.null_count:
            row = int(np.flatnonzero(pc.is_null(column).to_numpy(zero_copy_only=False))[0])
            where.fail(row, name, "empty value", "a date YYYY-MM-DD")
        dates = pc.cast(column, pa.date32()) if pa.types.is_timestamp(column.type) else column
        return pc.cast(dates, pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    text = _text(table, name)
    parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    if parsed.null_count:
        row = int(np.flatnonzero(pc.is_null(parsed).to_numpy(zero_copy_only=False))[0])
        where.fail(row, name, f"value {show(text[row].as_py())} is not a date",
                   "a date written YYYY-MM-DD")
    # strptime rolls 2023-02-30 over to 2023-03-02: the day written must be the day parsed
    lengths = pc.min_max(pc.utf8_length(text)).as_py()
    if lengths["min"] == lengths["max"] == 10:  # zero-padded YYYY-MM-DD: the day is [8:10]
        written_day = pc.cast(pc.utf8_slice_codeunits(text, 8, 10), pa.int64())
    else:
        written = pc.extract_regex(text, r"^\s*\d+-\d+-(?P<day>\d+)")
        written_day = pc.cast(pc.struct_field(written, [0]), pa.int64())
    rolled = pc.fill_null(pc.not_equal(written_day, pc.day(parsed)), True)
    if pc.any(rolled).as_py():
        row = _first(rolled.to_numpy(zero_copy_only=False))
        where.fail(row, name, f"value {show(text[row].as_py())} is not a calendar date",
                   "a real date written YYYY-MM-DD")
    seconds = pc.cast(parsed, pa.int64()).to_numpy(zero_copy_only=False)
    return seconds // 86400


def _codes(text: pa.ChunkedArray, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and the distinct values (in order of first appearance, or sorted)."""
    encoded = pc.dictionary_encode(text).combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    values = encoded.dictionary.to_numpy(zero_copy_only=False)
    if sort:
        order = np.argsort(values, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        codes, values = rank[codes], values[order]
    return codes, values


def _flags(table: pa.Table, name: str, where: _Where, n: int) -> np.ndarray:
    if name not in table.column_names:
        return np.zeros(n, dtype=bool)
    column = table[name]
    if pa.types.is_boolean(column.type):
        return pc.fill_null(column, False).to_numpy(zero_copy_only=False)
    text = pc.utf8_lower(_text(table, name))
    codes, values = _codes(text)
    known = np.isin(values, TRUE_WORDS + FALSE_WORDS)
    if not known.all():
        bad = np.flatnonzero(~known[codes])[0]
        where.fail(int(bad), name, f"value {show(values[codes[bad]])}", "true or false")
    return np.isin(values, TRUE_WORDS)[codes]


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def load_cases(path: str | Path, catalogue: Catalogue, levels: tuple[str, ...],
               year: int | None = None) -> CaseTable:
    """Read and validate a case table against a catalogue and a policy's hospital levels.

    ``year`` is the settlement year; by default the most common discharge year.
    """
    path = Path(path)
    table, is_csv = _read_raw(path)
    return validate_cases(table, str(path), catalogue, levels, year, is_csv)


def validate_cases(table: pa.Table, file: str, catalogue: Catalogue, levels: tuple[str, ...],
                   year: int | None = None, is_csv: bool = False) -> CaseTable:
    """Validate an Arrow table of cases (see :func:`load_cases`) and encode it as columns."""
    where = _Where(file, is_csv)
    unique_names(table.column_names, file, "header")
    warnings: list[str] = []
    unknown = [name for name in table.column_names if name not in KNOWN]
    for name in unknown:
        close = difflib.get_close_matches(name.strip().lower(), KNOWN, n=1, cutoff=0.75)
        if close and close[0] not in table.column_names:
            raise InputError(file, "header", f"unknown column {name!r} (did you mean "
                             f"{close[0]!r}?)", "the case-table columns " + ", ".join(KNOWN))
    missing = [name for name in REQUIRED if name not in table.column_names]
    if missing:
        raise InputError(file, "header", f"missing column {missing[0]!r}",
                         "columns " + ", ".join(REQUIRED))
    if unknown:
        warnings.append(f"{file}: {len(unknown)} column(s) not read (not case-table columns): "
                        + ", ".join(repr(name) for name in unknown[:20])
                        + (" …" if len(unknown) > 20 else ""))
    n = table.num_rows
    if n == 0:
        raise InputError(file, None, "the file has no cases", "one row per discharge")
    table, year, discharge_day = _settled_year(table, where, year, warnings)
    n = table.num_rows

    for name in ("case_id", "patient_id", "hospital_id", "hospital_level", "drg"):
        text = _text(table, name)
        empty = pc.equal(pc.utf8_length(pc.fill_null(text, "")), 0)
        if pc.any(empty).as_py():
            where.fail(_first(empty.to_numpy(zero_copy_only=False)), name, "empty value",
                       "a non-empty identifier")

    money = {}
    for name in MONEY:
        if name not in table.column_names:
            money[name] = np.zeros(n)
            continue
        values = _numbers(table, name, where)
        bad = ~np.isfinite(values) | (values < 0) | (values > MAX_CASE_YUAN)
        if bad.any():
            row = _first(bad)
            where.fail(row, name, f"value {float(values[row])!r}",
                       f"a finite amount in yuan from 0 to {MAX_CASE_YUAN:,.0f}")
        money[name] = values
    total = float(money["cost"].sum())
    if total > MAX_TOTAL_YUAN:
        raise InputError(file, "column cost", f"costs total ¥{total:,.0f}",
                         f"at most ¥{MAX_TOTAL_YUAN:,.0f} in one case table")
    gap = np.abs(money["fund_paid"] + money["patient_paid"] - money["cost"])
    bad = gap > CENT + 1e-6
    if bad.any():
        row = _first(bad)
        where.fail(row, "cost",
                   f"fund_paid {money['fund_paid'][row]:.2f} + patient_paid "
                   f"{money['patient_paid'][row]:.2f} ≠ cost {money['cost'][row]:.2f}",
                   "fund_paid + patient_paid = cost within one cent")
    bad = money["self_pay"] > money["patient_paid"] + CENT
    if bad.any():
        row = _first(bad)
        where.fail(row, "self_pay", f"value {money['self_pay'][row]:.2f} exceeds patient_paid "
                   f"{money['patient_paid'][row]:.2f}", "self_pay ≤ patient_paid")
    bad = money["unreasonable_cost"] > money["cost"] + CENT
    if bad.any():
        row = _first(bad)
        where.fail(row, "unreasonable_cost", f"value {money['unreasonable_cost'][row]:.2f} "
                   f"exceeds cost {money['cost'][row]:.2f}", "unreasonable_cost ≤ cost")

    length_of_stay = _numbers(table, "los_days", where)
    bad = ~np.isfinite(length_of_stay) | (length_of_stay < 0) \
        | (length_of_stay != np.floor(length_of_stay)) | (length_of_stay > MAX_STAY_DAYS)
    if bad.any():
        row = _first(bad)
        where.fail(row, "los_days", f"value {float(length_of_stay[row])!r}",
                   f"a whole number of days from 0 to {MAX_STAY_DAYS:,}")
    long = length_of_stay > LONG_STAY_DAYS
    if long.any():
        warnings.append(f"{file}: {int(long.sum()):,} case(s) stayed over {LONG_STAY_DAYS} days "
                        f"(first: {where.place(_first(long))}, "
                        f"{int(length_of_stay[_first(long)])} days); check los_days")

    month = (discharge_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
             - (year - 1970) * 12)
    if "admission_date" in table.column_names:
        admission_day = _days(table, "admission_date", where)
        bad = admission_day > discharge_day
        if bad.any():
            row = _first(bad)
            where.fail(row, "admission_date",
                       f"date {(EPOCH + admission_day[row]).astype(object).isoformat()} is after "
                       f"the discharge date", "admission_date ≤ discharge_date")
        # 住院天数 counts nights (discharge − admission); a same-day stay may count as 1
        nights = discharge_day - admission_day
        disagree = (length_of_stay != nights) & ~((nights == 0) & (length_of_stay == 1))
        if disagree.any():
            row = _first(disagree)
            warnings.append(f"{file}: {int(disagree.sum()):,} case(s) with los_days other than "
                            f"discharge_date − admission_date (first: {where.place(row)}, "
                            f"los_days {int(length_of_stay[row])}, dates {int(nights[row])} "
                            "days apart); los_days is used")
    else:
        admission_day = discharge_day - length_of_stay.astype(np.int64)

    level_codes, level_values = _codes(_text(table, "hospital_level"))
    known = np.array([value in levels for value in level_values], dtype=bool)
    if not known.all():
        row = _first(~known[level_codes])
        where.fail(row, "hospital_level", f"unknown level {show(level_values[level_codes[row]])}",
                   "one of the policy's levels: " + ", ".join(levels))
    level_index = np.array([levels.index(value) for value in level_values], dtype=np.int64)
    level = level_index[level_codes]

    hospital, hospital_ids = _codes(_text(table, "hospital_id"), sort=True)
    n_levels = len(levels)
    pairs = np.unique(hospital * n_levels + level)
    if len(pairs) > len(hospital_ids):
        per_hospital = np.bincount(pairs // n_levels, minlength=len(hospital_ids))
        culprit = int(np.flatnonzero(per_hospital > 1)[0])
        rows = np.flatnonzero(hospital == culprit)
        second = rows[_first(level[rows] != level[rows[0]])]
        where.fail(int(second), "hospital_level",
                   f"hospital {show(hospital_ids[culprit])} is {levels[level[second]]} here but "
                   f"{levels[level[rows[0]]]} in row {rows[0] + 1}", "one level per hospital")
    hospital_level = np.zeros(len(hospital_ids), dtype=np.int64)
    hospital_level[hospital] = level

    group_codes, group_values = _codes(_text(table, "drg"))
    group_of_value = catalogue.group_ids(group_values)
    if (group_of_value < 0).any():
        row = _first((group_of_value < 0)[group_codes])
        where.fail(row, "drg", f"unknown group code {show(group_values[group_codes[row]])}",
                   f"a code of the catalogue {catalogue.source}")
    group = group_of_value[group_codes]
    unpriced = np.isnan(catalogue.weights[group_of_value])
    if unpriced.any():
        row = _first(unpriced[group_codes])
        count = int(np.sum(group_codes == group_codes[row]))
        where.fail(row, "drg", f"group {show(group_values[group_codes[row]])} has {count} "
                   f"case(s) but no weight in the catalogue {catalogue.source}",
                   "a priced group (a weight in the catalogue)")

    case_id = _text(table, "case_id").combine_chunks()
    if len(pc.unique(case_id)) != n:
        duplicated = pd.Series(case_id.to_numpy(zero_copy_only=False)).duplicated().to_numpy()
        row = _first(duplicated)
        where.fail(row, "case_id", f"duplicate case_id {show(case_id[row].as_py())}",
                   "each case_id once")
    patient, _ = _codes(_text(table, "patient_id"))

    review = np.full(n, REVIEW_NONE, dtype=np.int8)
    if "review" in table.column_names:
        codes, values = _codes(pc.utf8_lower(_text(table, "review")))
        mapping = {"": REVIEW_NONE, **{name: i for i, name in enumerate(REVIEWS)}}
        known = np.array([value in mapping for value in values], dtype=bool)
        if not known.all():
            row = _first(~known[codes])
            where.fail(row, "review", f"value {show(values[codes[row]])}",
                       "none, special or whole_group")
        review = np.array([mapping[value] for value in values], dtype=np.int8)[codes]
    flags = {name: _flags(table, name, where, n) for name in FLAGS}

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
        year=int(year), source=file, warnings=warnings,
    )


def _settled_year(table: pa.Table, where: _Where, year: int | None,
                  warnings: list[str]) -> tuple[pa.Table, int, np.ndarray]:
    """The settlement year (given, else the most common discharge year) and the table without
    the cases discharged outside it (left out with a warning; ``where`` keeps their rows)."""
    discharge_day = _days(table, "discharge_date", where)
    years = (discharge_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
             + 1970)
    if year is None:
        distinct, counts = np.unique(years, return_counts=True)
        year = int(distinct[np.argmax(counts)])
    if not 1990 <= year <= 2100:
        where.fail(_first(years == year), "discharge_date", f"discharge year {year}",
                   "discharge dates from 1990 to 2100")
    outside = years != year
    if not outside.any():
        return table, year, discharge_day
    row = _first(outside)
    day = (EPOCH + discharge_day[row]).astype(object)
    if outside.all():
        where.fail(row, "discharge_date", f"date {day.isoformat()}: no case was discharged in "
                   f"the settlement year {year}", f"discharge dates from {year}-01-01 to "
                   f"{year}-12-31")
    warnings.append(f"{where.file}: {int(outside.sum()):,} case(s) discharged outside "
                    f"{year} left out of the settlement (first: {where.place(row)}, "
                    f"{day.isoformat()})")
    keep = np.flatnonzero(~outside)
    where.rows = keep
    return table.take(pa.array(keep)), year, discharge_day[keep]


def settlement_year_start(year: int) -> dt.date:
    return dt.date(year, 1, 1)
