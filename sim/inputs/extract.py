"""Tables as bureaus export them: file formats, encodings, column names, value forms, problems.

A bureau's extract reaches drgsim as it left the bureau's system. This module turns it into an
Arrow table whose columns carry drgsim's names, and parses the values people write:

- **Formats**: CSV (comma- or tab-separated), Parquet, and Excel (``.xlsx``, ``.xlsm``, ``.xls``;
  the first sheet that holds data). Excel cells are read with their types: date cells become
  dates, whole numbers lose their ``.0``, and in date columns a serial day number (``45356``) is
  the date Excel shows.
- **Encodings** of text files: UTF-8 with or without BOM, UTF-16 with BOM, and GB18030 (which
  contains GBK and GB2312). Detected in that order (BOM; else UTF-8 if every byte decodes; else
  GB18030), or given (``--encoding``). The encoding used is reported for the run record.
- **Column names**: drgsim's own names, the common Chinese names of settlement-list extracts and
  the field codes of the national medical-insurance platform (see the ``aliases`` each reader
  passes), compared after Unicode NFKC folding (full-width forms), without spaces, case, ``_`` or a
  trailing unit such as ``(元)``. Where two columns of a file mean the same thing the preferred
  one (earlier in the alias list) is read and the other is reported; a user's mapping
  (``--columns MAP.yaml``: ``{drgsim_name: header in the file}``) overrides everything.
- **Values**: amounts with thousands separators, full-width digits, ``¥`` or ``元``
  (:func:`parse_amounts`); dates as ``YYYY-MM-DD``, ``YYYY/M/D``, ``YYYY.M.D``, ``YYYYMMDD``,
  ``YYYY年M月D日``, with or without a time of day, and Excel date cells (:func:`parse_dates`);
  yes/no in English or Chinese (:func:`parse_flags`).
- **All problems at once**: row checks do not stop at the first bad row; they record every bad
  row in :class:`Problems`, which either raises one summary (:class:`TableProblems`: counts by
  kind and the first problem in full) or hands the bad rows back to be set aside.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from sim.errors import InputError, check_input_file, show
from sim.inputs.catalogue import unique_names

PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # day 0 of Excel's 1900 date system (after its 1900 leap bug)
EXCEL_LAST_SERIAL = 2_958_465      # 9999-12-31
TRUE_WORDS = ("true", "1", "yes", "y", "t", "是", "有", "真")
FALSE_WORDS = ("false", "0", "no", "n", "f", "", "否", "无", "假")
DETECTED = ("utf-8", "gb18030")
EPOCH = np.datetime64("1970-01-01", "D")


# --------------------------------------------------------------------------- reading


@dataclass
class Extract:
    """A table read from a file, with drgsim's column names, and how it was read."""

    table: pa.Table
    file: str
    kind: str                       # csv | parquet | excel
    encoding: str | None = None     # text files: the codec used
    encoding_detected: bool = False
    delimiter: str | None = None
    sheet: str | None = None
    first_data_row: int = 2         # CSV line / Excel row of the first data row
    columns: dict[str, str] = field(default_factory=dict)  # drgsim name → header in the file
    notes: list[str] = field(default_factory=list)         # warnings, one line each

    def where(self, row: int) -> str:
        """``row N`` with the line (CSV) or sheet row (Excel) a person would look at."""
        place = f"row {row + 1}"
        if self.kind == "csv":
            return f"{place} (line {row + self.first_data_row})"
        if self.kind == "excel":
            return f"{place} (sheet {self.sheet!r} row {row + self.first_data_row})"
        return place

    def column_label(self, name: str) -> str:
        """A column as the user knows it: ``医疗总费用 (cost)`` where the file names it so."""
        header = self.columns.get(name)
        return name if header is None or header == name else f"{header} ({name})"

    def record(self) -> dict:
        """How the file was read, for the run record."""
        entry = {"format": self.kind, "columns": dict(self.columns)}
        if self.encoding:
            entry["encoding"] = self.encoding
            entry["encoding_detected"] = self.encoding_detected
        if self.delimiter and self.delimiter != ",":
            entry["delimiter"] = self.delimiter
        if self.sheet is not None:
            entry["sheet"] = self.sheet
        return entry


# Units a header may carry after its name, e.g. 医疗总费用(元): compared without them, and checked
# by the reader of each column (an amount in 万元 is not an amount in 元). Any other bracketed
# text is part of the name (基金支付(统筹) is not 基金支付(大病)).
UNITS = ("元", "人民币元", "万元", "千元", "天", "日", "次", "%", "yuan", "rmb", "cny", "days",
         "day")


def _split_unit(name: str) -> tuple[str, str]:
    key = unicodedata.normalize("NFKC", str(name)).strip().lower()
    key = re.sub(r"[\s_\-]+", "", key)
    found = re.search(r"[(\[]([^()\[\]]*)[)\]]$", key)
    if found and found[1] in UNITS and found.start() > 0:
        return key[: found.start()], found[1]
    return key, ""


def header_key(name: str) -> str:
    """A header as compared with the aliases: NFKC, lower case, no spaces, ``_`` or ``-``, and
    without a trailing unit such as ``(元)`` (see :data:`UNITS`)."""
    return _split_unit(name)[0]


def header_unit(name: str) -> str:
    """The unit a header states in brackets at its end (``元``, ``万元``, ``天`` …), or ``""``."""
    return _split_unit(name)[1]


HEADER_SEARCH_ROWS = 10   # a title or notes above the header: the header is within these rows
HEADER_MIN_NAMES = 3      # a row is the header when it names at least this many known columns


def _header_score(row: list[str], aliases: dict[str, tuple[str, ...]],
                  columns: dict[str, str] | None) -> int:
    keys = {header_key(alias) for name, others in aliases.items() for alias in (name, *others)}
    given = set((columns or {}).values())
    return sum(1 for cell in row if str(cell) in given or header_key(str(cell)) in keys)


def find_header(rows: list[list], aliases: dict[str, tuple[str, ...]],
                columns: dict[str, str] | None) -> int:
    """The row (0-based) that holds the column names: the first of the first
    :data:`HEADER_SEARCH_ROWS` rows naming at least :data:`HEADER_MIN_NAMES` known columns, else
    the first row (titles and notes above the header are skipped)."""
    if not aliases and not columns:
        return 0
    wanted = min(HEADER_MIN_NAMES, len(aliases) or len(columns or {}))
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if _header_score(row, aliases, columns) >= wanted:
            return index
    return 0


def _distinct_names(names: list[str]) -> tuple[list[str], dict[str, list[int]]]:
    """Header names made distinct for reading: an empty one is ``column N``, a repeated one gets
    `` (2)``, `` (3)`` …; and every repeated name with its column numbers (1-based)."""
    seen: dict[str, list[int]] = {}
    result = []
    for position, name in enumerate(names, start=1):
        name = str(name).strip() or f"column {position}"
        seen.setdefault(name, []).append(position)
        count = len(seen[name])
        result.append(name if count == 1 else f"{name} ({count})")
    return result, {name: places for name, places in seen.items() if len(places) > 1}


def _check_repeats(repeated: dict[str, list[int]], mapping: dict[str, str], file: str,
                   where: str) -> list[str]:
    """A repeated header that would be read is an error; one that is not read is a note."""
    notes = []
    for name, places in repeated.items():
        if name in mapping.values():
            raise InputError(file, f"{where}, column {places[1]}",
                             f"column name {show(name)} appears twice (columns "
                             f"{places[0]} and {places[1]})", "each column name once")
        notes.append(f"{file}: column {name!r} appears {len(places)} times (columns "
                     + ", ".join(map(str, places)) + "); not read")
    return notes


def read_extract(path: str | Path, aliases: dict[str, tuple[str, ...]], *, expected: str,
                 encoding: str | None = None, columns: dict[str, str] | None = None,
                 columns_file: str | None = None, date_columns: Iterable[str] = ()) -> Extract:
    """Read a CSV, Parquet or Excel file and give its columns drgsim's names.

    ``aliases`` maps each drgsim name to the other names it may have, most preferred first;
    ``columns`` is a user's mapping (from ``columns_file``) that overrides them.
    """
    path = Path(path)
    file = str(path)
    check_input_file(path, expected)
    suffix = path.suffix.lower()
    if encoding is not None and suffix in PARQUET_SUFFIXES + EXCEL_SUFFIXES:
        encoding = None  # binary formats carry their own encoding
    if suffix in PARQUET_SUFFIXES:
        extract = Extract(_read_parquet(path), file, "parquet")
    elif suffix in EXCEL_SUFFIXES:
        extract = _read_excel(path, aliases, columns, columns_file, set(date_columns))
    else:
        extract = _read_csv(path, encoding, aliases, columns, columns_file)
    if not extract.columns:
        mapping, notes = map_columns(extract.table.column_names, aliases, columns, columns_file,
                                     file)
        extract.columns, extract.notes = mapping, extract.notes + notes
    extract.table = _rename(extract.table, extract.columns)
    return extract


def check_encoding(name: str) -> str:
    """The codec name for ``--encoding`` (``gbk``, ``GB18030``, ``utf-16`` …), or one line."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise InputError("--encoding", None, f"unknown encoding {show(name)}",
                         "an encoding such as utf-8, gbk, gb18030 or utf-16") from None
    if info.name == "gbk" or info.name == "gb2312":
        return "gb18030"  # a superset that decodes every GBK and GB2312 file the same way
    return info.name


def _read_parquet(path: Path) -> pa.Table:
    file = str(path)
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
        message = " ".join(str(exc).split())[:160]
        raise InputError(file, None, f"not a readable Parquet file ({message})",
                         "a Parquet file with one row per case (or a CSV file)") from None
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


def decode_text(raw: bytes, file: str, encoding: str | None) -> tuple[str, str, bool]:
    """Text of a file, the codec used and whether it was detected (BOM, UTF-8, else GB18030)."""
    if encoding is not None:
        codec = check_encoding(encoding)
        if codec == "utf-8":
            codec = "utf-8-sig"
        try:
            return raw.decode(codec), codec.removesuffix("-sig"), False
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            shown = codec.removesuffix("-sig")
            given = encoding if encoding.lower().replace("_", "-") == shown \
                else f"{encoding}, read as {shown}"
            raise InputError(file, f"line {line}", f"byte 0x{raw[error.start]:02x} cannot be "
                             f"read as {shown} (--encoding {given})",
                             "the file's own encoding, e.g. --encoding gbk or utf-8") from None
    if raw.startswith(codecs.BOM_UTF8):
        return _decode(raw, "utf-8-sig", file), "utf-8", True
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(raw, "utf-16", file), "utf-16", True
    head = raw[:4096]
    if len(head) >= 4 and head.count(0) * 4 > len(head):  # UTF-16 without a BOM: many NULs,
        odd, even = head[1::2].count(0), head[0::2].count(0)  # on the high byte of ASCII
        codec = "utf-16-le" if odd >= even else "utf-16-be"
        return _decode(raw, codec, file, bom=False), codec, True
    try:
        return raw.decode("utf-8"), "utf-8", True
    except UnicodeDecodeError as utf8_error:
        try:
            return raw.decode("gb18030"), "gb18030", True
        except UnicodeDecodeError:
            line = raw[: utf8_error.start].count(b"\n") + 1
            raise InputError(file, f"line {line}", f"byte 0x{raw[utf8_error.start]:02x} is "
                             "neither UTF-8 nor GB18030/GBK",
                             "a UTF-8, GBK/GB18030 or UTF-16 file, or --encoding NAME") from None


def _decode(raw: bytes, codec: str, file: str, bom: bool = True) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        why = "the file starts with its BOM" if bom else "its NUL bytes look like UTF-16"
        raise InputError(file, f"line {line}", f"byte 0x{raw[error.start]:02x} is not "
                         f"{codec.removesuffix('-sig').upper()} ({why})",
                         "one encoding in the whole file, or --encoding NAME") from None


def _read_csv(path: Path, encoding: str | None, aliases: dict, columns: dict | None,
              columns_file: str | None) -> Extract:
    file = str(path)
    raw = path.read_bytes()
    text, codec, detected = decode_text(raw, file, encoding)
    if codec == "utf-8" and not raw.startswith(codecs.BOM_UTF8):
        data = raw
    else:
        data = text.encode("utf-8")
    head_lines, start = [], 0
    while len(head_lines) < HEADER_SEARCH_ROWS:
        end = text.find("\n", start)
        head_lines.append(text[start:] if end < 0 else text[start:end])
        if end < 0:
            break
        start = end + 1
    del text
    head_lines = [line.rstrip("\r").lstrip("\ufeff") for line in head_lines]
    first = head_lines[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        rows = [next(csv.reader([line], delimiter=delimiter), []) for line in head_lines]
    except csv.Error as error:
        raise InputError(file, "line 1", f"not a readable CSV header ({error})",
                         "a header line of column names ending in LF or CRLF") from None
    header = find_header(rows, aliases, columns)
    if header > 0:
        delimiter = "\t" if "\t" in head_lines[header] and "," not in head_lines[header] \
            else ","
        rows[header] = next(csv.reader([head_lines[header]], delimiter=delimiter), [])
    names, repeated = _distinct_names(rows[header])
    where = f"line {header + 1}"
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(block_size=1 << 24, skip_rows=header + 1,
                                            column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        _explain_csv_failure(file, data, delimiter, exc, header)
        raise AssertionError("unreachable") from None
    mapping, notes = map_columns(names, aliases, columns, columns_file, file)
    notes = _check_repeats(repeated, mapping, file, where) + notes
    if header > 0:
        notes.insert(0, f"{file}: the header is on line {header + 1}; the {header} line(s) "
                     "above it are not read")
    return Extract(table, file, "csv", encoding=codec, encoding_detected=detected,
                   delimiter=delimiter, first_data_row=header + 2, columns=mapping, notes=notes)


def _explain_csv_failure(file: str, data: bytes, delimiter: str, exc: Exception,
                         skip: int = 0) -> None:
    """Turn a reader failure into one line: a row of the wrong length, else quote the reader."""
    message = str(exc).splitlines()[0]
    if "Empty CSV file" in message:
        raise InputError(file, None, "the file is empty", "a header line and one row per case")
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter)
    try:
        for _ in range(skip):
            next(reader, None)
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


def _read_excel(path: Path, aliases: dict, columns: dict | None, columns_file: str | None,
                date_columns: set[str]) -> Extract:
    """The sheet that holds the table; cells typed as Excel stores them, turned into text.

    The sheet is the first whose header (within its first rows, below any title) names known
    columns, else the first sheet with data; the others are named in a note.
    """
    from python_calamine import CalamineWorkbook

    file = str(path)
    try:
        book = CalamineWorkbook.from_path(file)
        sheets = [book.get_sheet_by_name(name) for name in book.sheet_names]
        with_data = [(sheet, sheet.to_python(skip_empty_area=True)) for sheet in sheets
                     if sheet.height > 0 and sheet.width > 0]
    except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
        message = " ".join(str(exc).split())[:160]
        raise InputError(file, None, f"not a readable Excel workbook ({message})",
                         "an .xlsx, .xlsm or .xls workbook (or a CSV or Parquet file)") from None
    with_data = [(sheet, rows) for sheet, rows in with_data
                 if any(cell != "" for row in rows for cell in row)]
    if not with_data:
        raise InputError(file, None, "no sheet holds any cell", "a sheet with a header row")
    wanted = min(HEADER_MIN_NAMES, len(aliases) or len(columns or {}) or 1)
    scored = []
    for sheet, rows in with_data:
        texts = [[_cell_text(cell) for cell in row] for row in rows[:HEADER_SEARCH_ROWS]]
        header = find_header(texts, aliases, columns)
        score = _header_score(texts[header], aliases, columns) if (aliases or columns) else 0
        scored.append((sheet, rows, header, score))
    chosen = next((entry for entry in scored if entry[3] >= wanted), scored[0])
    sheet, rows, header, _ = chosen
    notes = []
    others = [entry[0].name for entry in scored if entry[0] is not sheet]
    if others:
        notes.append(f"{file}: read sheet {sheet.name!r}; other sheet(s) with data not read: "
                     + ", ".join(repr(name) for name in others[:5])
                     + (" …" if len(others) > 5 else ""))
    start_row = (sheet.start or (0, 0))[0] + header
    if header > 0:
        notes.append(f"{file}: sheet {sheet.name!r}: the header is on row {start_row + 1}; the "
                     f"{header} row(s) above it are not read")
    rows = rows[header:]
    header_cells = [_cell_text(cell) for cell in rows[0]]
    while header_cells and header_cells[-1] == "":
        header_cells.pop()
    names, repeated = _distinct_names(header_cells)
    where = f"sheet {sheet.name!r} row {start_row + 1}"
    mapping, more = map_columns(names, aliases, columns, columns_file, file)
    notes += _check_repeats(repeated, mapping, file, where) + more
    dates = {mapping[name] for name in date_columns if name in mapping}
    width = len(names)
    body = rows[1:]
    while body and all(cell == "" for cell in body[-1]):
        body.pop()
    extra = [index for index, row in enumerate(body) if any(cell != "" for cell in row[width:])]
    if extra:
        raise InputError(file, f"sheet {sheet.name!r} row {start_row + extra[0] + 2}",
                         "a value in a column without a header", "a name above every column")
    arrays = []
    for index, name in enumerate(names):
        convert = _date_cell_text if name in dates else _cell_text
        arrays.append(pa.array([convert(row[index]) if index < len(row) else ""
                                for row in body], type=pa.string()))
    table = pa.Table.from_arrays(arrays, names=names)
    return Extract(table, file, "excel", sheet=sheet.name, first_data_row=start_row + 2,
                   columns=mapping, notes=notes)


def _cell_text(cell) -> str:
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() and abs(cell) < 1e15 else repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.strftime("%Y-%m-%d %H:%M:%S")
    return str(cell)


def _date_cell_text(cell) -> str:
    """A date column's cell: a serial day number is the date Excel shows for it."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) \
            and 1 <= cell <= EXCEL_LAST_SERIAL:
        return (EXCEL_EPOCH + dt.timedelta(days=int(cell))).isoformat()
    return _cell_text(cell)


# --------------------------------------------------------------------------- column names


def map_columns(names: list[str], aliases: dict[str, tuple[str, ...]],
                columns: dict[str, str] | None, columns_file: str | None,
                file: str) -> tuple[dict[str, str], list[str]]:
    """Which header of the file is each drgsim column: ``{drgsim name: header}``, and notes.

    A user's mapping wins; then drgsim's own name; then the aliases, earlier ones preferred.
    """
    mapping: dict[str, str] = {}
    notes: list[str] = []
    taken: set[str] = set()
    for name, header in (columns or {}).items():
        if header not in names:
            close = difflib.get_close_matches(header, names, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(columns_file, name, f"column {show(header)} is not in {file}{hint}",
                             "a header of the file: " + ", ".join(map(repr, names[:12]))
                             + (" …" if len(names) > 12 else ""))
        mapping[name] = header
        taken.add(header)
    keys = {header: header_key(header) for header in names if header not in taken}
    for name, others in aliases.items():
        if name in mapping:
            continue
        wanted = [header_key(alias) for alias in (name, *others)]
        found = sorted((wanted.index(key), position, header)  # ties: the earlier column
                       for position, (header, key) in enumerate(keys.items())
                       if key in wanted and header not in taken)
        if not found:
            continue
        header = found[0][2]
        mapping[name] = header
        taken.add(header)
        for _, _, other in found[1:]:
            notes.append(f"{file}: column {other!r} also reads as {name}; {header!r} was read "
                         f"(--columns chooses another)")
            taken.add(other)
    return mapping, notes


def _rename(table: pa.Table, mapping: dict[str, str]) -> pa.Table:
    """Mapped headers take drgsim's names; an unmapped header that is a drgsim name is marked."""
    by_header = {header: name for name, header in mapping.items()}
    names = []
    for header in table.column_names:
        if header in by_header:
            names.append(by_header[header])
        elif header in mapping:  # "cost" in the file while --columns reads cost elsewhere
            names.append(f"{header} (not read)")
        else:
            names.append(header)
    return table.rename_columns(names)


def read_column_map(path: str | Path | None, known: Iterable[str]) -> dict[str, str] | None:
    """``--columns MAP.yaml``: ``{drgsim name: header in the file}``."""
    if path is None:
        return None
    from sim.inputs.yamlfile import read_yaml

    file = str(path)
    data = read_yaml(Path(path))
    known = tuple(known)
    if not isinstance(data, dict) or not data:
        raise InputError(file, None, "not a mapping of column names",
                         "a YAML mapping {drgsim column: header in the file}, e.g. "
                         "cost: 医疗总费用")
    for name, header in data.items():
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(file, str(name), f"unknown drgsim column{hint}",
                             "one of " + ", ".join(known))
        if not isinstance(header, (str, int)) or isinstance(header, bool) or str(header) == "":
            raise InputError(file, str(name), f"value {show(header)}",
                             "the header of a column in the file, as text")
    headers = [str(header) for header in data.values()]
    for header in headers:
        if headers.count(header) > 1:
            raise InputError(file, None, f"column {header!r} is given for two drgsim columns",
                             "each header of the file once")
    return {str(name): str(header) for name, header in data.items()}


# --------------------------------------------------------------------------- problems


@dataclass
class Problem:
    kind: str
    column: str
    rows: np.ndarray            # rows of the table as read (0-based)
    values: list[str]           # the value of each row, as the user wrote it
    expected: str


class TableProblems(InputError):
    """Rows with problems: one summary line; ``problems`` lists them all (for ``--errors``)."""

    def __init__(self, file, where=None, problem="", expected=None, problems=None, rows=0,
                 hint=True):
        super().__init__(file, where, problem, expected)
        self.problems: list[Problem] = problems or []
        self.rows = rows
        self.hint = hint
        self.extract: Extract | None = None
        self.errors_file: str | None = None  # where every problem was written (--errors)

    def frame(self) -> pd.DataFrame:
        """Every problem, one row each (see :func:`problems_frame`)."""
        return problems_frame(self.problems, self.extract)

    def __str__(self) -> str:
        listed = (f"every problem is in {self.errors_file}" if self.errors_file
                  else "--errors FILE lists every problem")
        if not self.hint:
            return f"{super().__str__()}; {listed}"
        return f"{super().__str__()}; {listed}; --skip-bad-rows settles the other rows"


class Problems:
    """Row problems of one table, gathered by every check rather than raised at the first."""

    def __init__(self, extract: Extract, rows: int):
        self.extract = extract
        self.n = rows
        self.items: list[Problem] = []
        self.original: np.ndarray | None = None  # table row → row as read (rows left out)
        self.bad = np.zeros(rows, dtype=bool)
        self.bad_in: dict[str, np.ndarray] = {}
        self.year: int | None = None  # the settled year, once known

    def restrict(self, keep: np.ndarray) -> None:
        """Rows were left out (e.g. another year): later rows refer to the kept ones."""
        self.original = keep if self.original is None else self.original[keep]
        self.bad = self.bad[keep]
        self.bad_in = {name: mask[keep] for name, mask in self.bad_in.items()}
        self.n = len(keep)

    def add(self, mask: np.ndarray, column: str, kind: str, expected: str,
            values: Callable[[np.ndarray], Iterable[object]] | np.ndarray) -> None:
        """Rows of ``mask`` have the problem ``kind`` in ``column``; ``values`` gives what they
        hold (an array indexed by row, or a function of the rows)."""
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            return
        found = values(rows) if callable(values) else np.asarray(values)[rows]
        self.items.append(Problem(kind, column, self.rows_as_read(rows),
                                  [str(value) for value in found], expected))
        self.bad[rows] = True
        self.bad_in[column] = self.bad_in.get(column, np.zeros(self.n, bool)) | mask

    def ok(self, *columns: str) -> np.ndarray:
        """Rows whose values in ``columns`` passed the checks so far."""
        mask = np.ones(self.n, dtype=bool)
        for column in columns:
            if column in self.bad_in:
                mask &= ~self.bad_in[column]
        return mask

    def rows_as_read(self, rows: np.ndarray) -> np.ndarray:
        return rows if self.original is None else self.original[rows]

    def bad_rows(self) -> np.ndarray:
        """Every row (as read) with a problem, sorted."""
        if not self.items:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate([item.rows for item in self.items]))

    def summary(self, lead: str = "", hint: bool = True) -> TableProblems:
        """One line: how many rows, by kind, and the first problem in full."""
        extract = self.extract
        bad = self.bad_rows()
        first_row = int(bad[0])
        first = next(item for item in self.items if first_row in set(item.rows.tolist()))
        index = int(np.flatnonzero(first.rows == first_row)[0])
        kinds: dict[str, int] = {}
        for item in self.items:
            label = f"{item.kind} in {item.column}"
            kinds[label] = kinds.get(label, 0) + len(item.rows)
        ordered = sorted(kinds.items(), key=lambda pair: -pair[1])
        counted = ", ".join(f"{count:,} {label}" for label, count in ordered[:6])
        if len(ordered) > 6:
            rest = sum(count for _, count in ordered[6:])
            counted += f" and {rest:,} more of {len(ordered) - 6} other kind(s)"
        total = extract.table.num_rows
        problem = (f"{lead}{len(bad):,} of {total:,} row(s) have problems ({counted}); the first: "
                   f"{first.kind} {show(first.values[index])}")
        error = TableProblems(extract.file, f"{extract.where(first_row)}, column "
                              f"{extract.column_label(first.column)}",
                              problem, first.expected, self.items, len(bad), hint)
        error.extract = extract
        return error


def problems_frame(problems: list[Problem], extract: Extract | None) -> pd.DataFrame:
    """Every problem as a row: row, line (or sheet row), column, value, problem, expected."""
    frames = []
    offset = extract.first_data_row if extract is not None else 2
    for item in problems:
        header = extract.columns.get(item.column, item.column) if extract else item.column
        frames.append(pd.DataFrame({
            "row": item.rows + 1, "line": item.rows + offset, "column": header,
            "field": item.column, "value": item.values, "problem": item.kind,
            "expected": item.expected}))
    columns = ["row", "line", "column", "field", "value", "problem", "expected"]
    if not frames:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(frames, ignore_index=True).sort_values(["row", "field"], kind="stable")
    if extract is not None and extract.kind == "parquet":
        frame = frame.drop(columns="line")
    elif extract is not None and extract.kind == "excel":
        frame = frame.rename(columns={"line": "sheet_row"})
    return frame.reset_index(drop=True)


def rejected_frame(extract: Extract, rows: np.ndarray, problems: list[Problem]) -> pd.DataFrame:
    """The rejected rows as read (the file's own headers), with their row and problems."""
    raw = extract.table.take(pa.array(rows))
    by_header = {name: header for name, header in extract.columns.items()}
    frame = pd.DataFrame({by_header.get(name, name):
                          pc.cast(raw[name], pa.string()).to_numpy(zero_copy_only=False)
                          for name in raw.column_names})
    reasons: dict[int, list[str]] = {}
    for item in problems:
        for row, value in zip(item.rows.tolist(), item.values, strict=True):
            reasons.setdefault(row, []).append(f"{item.column}: {item.kind} {show(value)}")
    frame.insert(0, "problems", ["; ".join(reasons.get(int(row), [])) for row in rows])
    frame.insert(0, "row", rows + 1)
    return frame


# --------------------------------------------------------------------------- values


def as_text(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """A column as trimmed text; missing values (nulls) as empty text."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return pc.fill_null(pc.utf8_trim_whitespace(column), "")
    if pa.types.is_floating(column.type):
        values = column.to_numpy(zero_copy_only=False) if isinstance(column, pa.Array) \
            else column.to_numpy()
        finite = values[np.isfinite(values)]
        if len(finite) and np.all(finite == np.floor(finite)) and np.all(np.abs(finite) < 2**53):
            # whole numbers stored as floats (IDs, codes): 2024000000001, not 2.024000000001e+12
            whole = pc.cast(column, pa.int64(), safe=False)
            text = pc.cast(pc.if_else(pc.is_finite(column), whole, None), pa.string())
            return pc.fill_null(text, "")
        return pc.fill_null(pc.cast(column, pa.string()), "")
    return pc.fill_null(pc.cast(column, pa.string()), "")


def parse_amounts(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Numbers and a mask of values that are not numbers (NaN there).

    Plain numbers are cast directly; others are folded (NFKC: full-width digits) and lose a
    currency sign (``¥``, ``￥``, ``元``) and correctly placed thousands separators
    (``1,996.34``); anything else (``1.996,34``, ``12,34``, ``n/a``) is not a number.
    """
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        bad = pc.is_null(column).to_numpy(zero_copy_only=False)
        return np.where(bad, np.nan, values), bad
    text = as_text(column)
    try:
        values = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
        return values, np.zeros(len(values), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    folded = pc.utf8_trim_whitespace(fold(text))
    if pc.any(pc.match_substring_regex(folded, "[¥$元]")).as_py():
        folded = pc.replace_substring_regex(folded, r"^[¥$]\s*|\s*元$", "")
    grouped = pc.match_substring_regex(folded, r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
    folded = pc.if_else(grouped, pc.replace_substring(folded, ",", ""), folded)
    try:  # the usual case: every value is now a plain number
        values = pc.cast(folded, pa.float64()).to_numpy(zero_copy_only=False)
        return values, np.zeros(len(values), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    valid = pc.match_substring_regex(folded, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    valid = pc.fill_null(valid, False)
    bad = ~valid.to_numpy(zero_copy_only=False)
    cleaned = pc.if_else(valid, folded, "0")
    values = pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False).copy()
    values[bad] = np.nan
    return values, bad


def fold(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """NFKC (full-width digits and punctuation to ASCII), skipped where every value is ASCII."""
    if pc.all(pc.string_is_ascii(text)).as_py() is not False:
        return text
    return pc.utf8_normalize(text, form="NFKC")


# 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日 or 20240305, each optionally with a time of day
_DATE = (r"^(?P<y>\d{4})(?:[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?|(?P<m8>\d{2})"
         r"(?P<d8>\d{2}))(?:[ T].*)?$")


def parse_dates(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01, a mask of values not written as dates and one of dates that are
    not on the calendar.

    Accepted: ``YYYY-MM-DD``, ``YYYY/M/D``, ``YYYY.M.D``, ``YYYYMMDD``, ``YYYY年M月D日``, any of
    them followed by a time of day, and date or timestamp cells. A date must exist on the
    calendar (``2023-02-30`` does not). Day-first forms (``05/03/2024``) are refused: which of
    day and month comes first cannot be told.
    """
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        dates = pc.cast(column, pa.date32()) if pa.types.is_timestamp(column.type) else column
        bad = pc.is_null(dates).to_numpy(zero_copy_only=False)
        days = pc.cast(pc.fill_null(dates, 0), pa.int32()).to_numpy(zero_copy_only=False)
        return days.astype(np.int64), bad, np.zeros(len(bad), dtype=bool)
    text = as_text(column)
    n = len(text)
    lengths = pc.utf8_length(text)
    plain = (pc.min_max(lengths).as_py() == {"min": 10, "max": 10}
             and pc.all(pc.equal(pc.utf8_slice_codeunits(text, 4, 5), "-")).as_py()
             and pc.all(pc.equal(pc.utf8_slice_codeunits(text, 7, 8), "-")).as_py())
    if plain:  # every value YYYY-MM-DD: Arrow's strptime, unless a date is off the calendar
        parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
        if parsed.null_count == 0:
            try:
                written = pc.cast(pc.utf8_slice_codeunits(text, 8, 10), pa.int64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                written = None
            # strptime rolls 2023-02-30 over to 2023-03-02: the day written must be the day read
            if written is not None and not pc.any(pc.not_equal(written, pc.day(parsed))).as_py():
                days = pc.cast(pc.cast(parsed, pa.date32()), pa.int32())
                days = days.to_numpy(zero_copy_only=False).astype(np.int64)
                return days, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    found = pc.extract_regex(pc.utf8_trim_whitespace(fold(text)), _DATE)
    field = [pc.struct_field(found, [i]) for i in range(5)]  # a group not used is ""
    month = pc.if_else(pc.equal(field[1], ""), field[3], field[1])
    day = pc.if_else(pc.equal(field[2], ""), field[4], field[2])
    parts = [pc.cast(part, pa.int64()) for part in (field[0], month, day)]
    malformed = np.zeros(n, dtype=bool)
    for part in parts:
        malformed |= pc.is_null(part).to_numpy(zero_copy_only=False)
    year, month, day = (pc.fill_null(part, 0).to_numpy(zero_copy_only=False).astype(np.int64)
                        for part in parts)
    bad = malformed | (month < 1) | (month > 12) | (day < 1) | (year < 1) | (year > 9999)
    month = np.where(bad, 1, month)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    bad |= day > MONTH_DAYS[month - 1] + (leap & (month == 2))
    days = days_from_civil(year, month, np.where(bad, 1, day))
    return days, malformed, bad & ~malformed


MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates, in integer arithmetic (the
    "days_from_civil" algorithm of H. Hinnant, public domain description)."""
    year = year - (month <= 2)
    era = np.floor_divide(year, 400)
    year_of_era = year - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def parse_flags(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Yes/no values (true/false, 1/0, yes/no, 是/否, empty = no) and a mask of others."""
    if pa.types.is_boolean(column.type):
        return pc.fill_null(column, False).to_numpy(zero_copy_only=False), \
            np.zeros(len(column), dtype=bool)
    text = pc.utf8_lower(fold(as_text(column)))
    codes, values = encode(text)
    known = np.isin(values, TRUE_WORDS + FALSE_WORDS)
    return np.isin(values, TRUE_WORDS)[codes], ~known[codes]


def encode(text: pa.ChunkedArray, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
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


def day_text(day: int) -> str:
    return (EPOCH + int(day)).astype(object).isoformat()
