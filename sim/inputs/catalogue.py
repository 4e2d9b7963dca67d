"""Case-group catalogues: codes, ADRG families, severity ranks, weights and flags.

The project's own catalogue format is one CSV (or Parquet) row per group with the columns

    code, name, adrg, mdc, severity_rank, weight, basic_group, stable, whole_group_review

and, optionally, reference mean costs (``mean_cost`` region-wide, ``mean_cost_<level>``),
per-level difference coefficients (``coefficient_<level>``) and the payment standards a city
published (``payment_standard``, ``payment_standard_<level>``, ``payment_standard_<scheme>`` or
``payment_standard_<level>_<scheme>``, yuan per case; kept for reference, payment rules do not
read them: the policy's rate or point value decides payment). A group whose ``weight`` is empty is
listed but unpriced: cases in it cannot be settled (rule §2.2: weights are set by the province).
``severity_rank`` counts from 1 (least severe) inside the ADRG family; upcoding moves a case to a
sibling with a higher rank (POLICY_RULES §0).

Import of the city tables that bureaus publish lives in :mod:`sim.inputs.citytables`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError, check_input_file, decode_utf8, show

REQUIRED_COLUMNS = (
    "code",
    "name",
    "adrg",
    "mdc",
    "severity_rank",
    "weight",
    "basic_group",
    "stable",
    "whole_group_review",
)
MAX_WEIGHT = 1000.0
FLAG_COLUMNS = ("basic_group", "stable", "whole_group_review")
TRUE_WORDS = {"true", "1", "yes", "y", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "f", ""}


@dataclass(frozen=True)
class Catalogue:
    """A validated catalogue; ``table`` is indexed 0..n-1 and group ids are row positions."""

    table: pd.DataFrame
    source: str
    sha256: str

    @property
    def codes(self) -> np.ndarray:
        return self.table["code"].to_numpy()

    @property
    def weights(self) -> np.ndarray:
        return self.table["weight"].to_numpy(dtype=float)

    @property
    def base_points(self) -> np.ndarray:
        """Base points = weight × 100, kept to 8 decimals (rule §2.2)."""
        return np.round(self.weights * 100.0, 8)

    def levels_with(self, prefix: str) -> list[str]:
        """Levels for which the catalogue carries a ``<prefix>_<level>`` column."""
        return [c[len(prefix) + 1 :] for c in self.table.columns if c.startswith(prefix + "_")]

    def group_ids(self, codes: np.ndarray) -> np.ndarray:
        """Integer group ids of ``codes``; -1 where a code is not in the catalogue."""
        index = pd.Index(self.table["code"])
        return index.get_indexer(pd.Index(codes))

    def family_ids(self) -> np.ndarray:
        """Integer id of each group's ADRG family."""
        return pd.factorize(self.table["adrg"])[0]

    def missing_codes(self, codes) -> list[str]:
        """The codes of ``codes`` (e.g. a list of basic groups) that the catalogue lacks, in
        order and once each."""
        known = set(self.table["code"])
        return [code for code in dict.fromkeys(str(c) for c in codes) if code not in known]


def code_list(codes: list[str], shown: int = 8) -> str:
    """Codes for a one-line message: the first ``shown``, then how many more."""
    text = ", ".join(codes[:shown])
    return text + (f" … and {len(codes) - shown} more" if len(codes) > shown else "")


def _parse_flag(values: pd.Series, column: str, file: str) -> np.ndarray:
    if values.dtype == bool:  # already flags (the bureau's yearly catalogue): nothing to parse
        return values.to_numpy()
    text = values.fillna("").astype(str).str.strip().str.lower()
    good = text.isin(TRUE_WORDS | FALSE_WORDS)
    if not good.all():
        row = int(np.flatnonzero(~good.to_numpy())[0])
        raise InputError(
            file, f"row {row + 1}, column {column}", f"value {show(values.iloc[row])}",
            "true or false",
        )
    return text.isin(TRUE_WORDS).to_numpy()


def _number_column(values: pd.Series, column: str, file: str, allow_empty: bool) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    # text that is not a number, nor empty (none when the column holds numbers already, as the
    # bureau's yearly catalogue does: no text to parse)
    bad = (pd.Series(False, index=values.index) if values.dtype.kind in "fiu" else
           numbers.isna() & values.notna() & (values.astype(str).str.strip() != ""))
    if not allow_empty:
        bad |= numbers.isna()
    bad |= ~np.isfinite(numbers.fillna(0.0)) | (numbers < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            file, f"row {row + 1}, column {column}", f"value {show(values.iloc[row])}",
            "a finite number ≥ 0" + (" or empty" if allow_empty else ""),
        )
    return numbers.to_numpy(dtype=float)


def validate_catalogue(table: pd.DataFrame, file: str) -> pd.DataFrame:
    """Check a catalogue table column by column; return it with clean dtypes."""
    if len(table) == 0:
        raise InputError(file, None, "the catalogue has no rows", "one row per case group")
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            file, "header", f"missing column {missing[0]!r}",
            "columns " + ", ".join(REQUIRED_COLUMNS),
        )
    out = pd.DataFrame(index=pd.RangeIndex(len(table)))
    for column in ("code", "name", "adrg", "mdc"):
        text = table[column].fillna("").astype(str).str.strip()
        if column != "name":
            empty = text == ""
            if empty.any():
                row = int(np.flatnonzero(empty.to_numpy())[0])
                raise InputError(file, f"row {row + 1}, column {column}", "empty value",
                                 "a non-empty code")
        out[column] = text
    duplicated = out["code"].duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(file, f"row {row + 1}, column code",
                         f"duplicate group code {show(out['code'].iloc[row])}", "unique codes")
    rank = pd.to_numeric(table["severity_rank"], errors="coerce")
    bad = rank.isna() | (rank < 1) | (rank != np.floor(rank.fillna(0)))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(file, f"row {row + 1}, column severity_rank",
                         f"value {show(table['severity_rank'].iloc[row])}", "an integer ≥ 1")
    out["severity_rank"] = rank.astype(np.int64)
    out["weight"] = _number_column(table["weight"], "weight", file, allow_empty=True)
    huge = out["weight"] > MAX_WEIGHT
    if huge.any():
        row = int(np.flatnonzero(huge.to_numpy())[0])
        raise InputError(file, f"row {row + 1}, column weight",
                         f"weight {out['weight'].iloc[row]:g}",
                         f"a relative weight up to {MAX_WEIGHT:g} (real tables reach about 60)")
    zero = out["weight"] == 0
    if zero.any():
        row = int(np.flatnonzero(zero.to_numpy())[0])
        raise InputError(file, f"row {row + 1}, column weight", "weight 0",
                         "a weight above 0 for a priced group, or empty for an unpriced one "
                         "(§2.2)")
    for column in FLAG_COLUMNS:
        out[column] = _parse_flag(table[column], column, file)
    optional = [
        c for c in table.columns
        if c in ("mean_cost", "payment_standard")
        or c.startswith(("mean_cost_", "coefficient_", "payment_standard_"))
    ]
    for column in optional:
        out[column] = _number_column(table[column], column, file, allow_empty=True)
    extra = [c for c in table.columns if c not in out.columns]
    if extra:
        raise InputError(
            file, "header", f"unknown column {extra[0]!r}",
            "catalogue columns (" + ", ".join(REQUIRED_COLUMNS)
            + ", mean_cost, mean_cost_<level>, coefficient_<level>, payment_standard, "
            "payment_standard_<level>[_<scheme>])",
        )
    return out


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (UTF-8) or Parquet table as strings/objects, strictly, with clear errors.

    Refused: a missing, empty or unreadable file, a folder, bytes that are not UTF-8, a column
    name given twice, a row with fewer or more fields than the header (a truncated last row), a
    column with data but no name, and nested Parquet columns."""
    file = str(path)
    check_input_file(path, "a CSV (UTF-8) or Parquet table with a header line")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            table = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
            message = " ".join(str(exc).split())[:160]
            raise InputError(file, None, f"not a readable Parquet file ({message})",
                             "a Parquet table (or a UTF-8 CSV file)") from None
        unique_names([str(c) for c in table.columns], file, "schema")
        for column in table.columns:
            nested = table[column].map(lambda v: isinstance(v, list | dict | tuple | np.ndarray))
            if nested.any():
                raise InputError(file, f"column {column}", "holds lists or mappings",
                                 "plain values (text or numbers) in every column")
        return table
    text = decode_utf8(path.read_bytes(), file, "a UTF-8 encoded CSV file")
    if not text.strip():
        raise InputError(file, None, "the file is empty", "a header line and rows")
    return strict_csv(text, file)


def unique_names(names: list[str], file: str, where: str) -> None:
    """Column names once each (pandas would rename a repeated one and drop its data)."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        key = name.strip()
        if key and key in seen:
            raise InputError(file, f"{where}, column {position}",
                             f"column name {show(key)} appears twice (columns {seen[key]} and "
                             f"{position})", "each column name once")
        seen[key] = position


def strict_csv(text: str, file: str) -> pd.DataFrame:
    """Parse CSV text into a frame of strings; every row must have one field per header column
    (trailing empty fields of spreadsheet exports are allowed); blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise InputError(file, f"line {reader.line_num}", f"not readable CSV ({error})",
                         "comma-separated values, quotes closed on the same field") from None
    if not rows:
        raise InputError(file, None, "the file is empty", "a header line and rows")
    header = [name.strip() for name in rows[0][1]]
    while header and header[-1] == "" and all(len(r) < len(header) or not r[len(header) - 1]
                                              .strip() for _, r in rows[1:]):
        header.pop()
    unique_names(header, file, "line 1")
    width = len(header)
    body = []
    for line, row in rows[1:]:
        extra = row[width:]
        if len(row) < width or any(cell.strip() for cell in extra):
            kind = "a truncated row" if len(row) < width else "a row with extra fields"
            raise InputError(file, f"line {line}", f"{kind}: {len(row)} fields, the header has "
                             f"{width}", "one field per column on every line")
        body.append(row[:width])
    for position, name in enumerate(header, start=1):
        if name == "" and any(row[position - 1].strip() for row in body):
            raise InputError(file, f"line 1, column {position}", "a column with data but no "
                             "name", "a name for every column")
    names = [name if name else f"(unnamed {position})" for position, name in
             enumerate(header, start=1)]
    frame = pd.DataFrame(body, columns=names, dtype=str)
    empty = [name for name in names if name.startswith("(unnamed ")]
    return frame.drop(columns=empty)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_catalogue(path: str | Path) -> Catalogue:
    """Load and validate a catalogue in the project's format (CSV or Parquet)."""
    path = Path(path)
    table = read_table(path)
    table = table.replace({"": np.nan}) if path.suffix.lower() == ".csv" else table
    return Catalogue(validate_catalogue(table, str(path)), str(path), file_sha256(path))


def write_catalogue(table: pd.DataFrame, path: str | Path) -> None:
    """Write a catalogue table (validated first) as CSV, atomically."""
    path = Path(path)
    clean = validate_catalogue(table, str(path))
    tmp = path.with_name(path.name + ".tmp")
    try:
        clean.to_csv(tmp, index=False, float_format="%.10g")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
