"""Import of the DRG tables that Chinese cities publish into the project's catalogue format.

A city table (CSV in UTF-8 with or without BOM, or Parquet) names its columns in Chinese and differs
from city to city; :func:`import_city_table` recognises the columns by their headers (code, name,
relative weight, basic/stable/whole-group-review flags, level coefficients), derives each group's
ADRG family, MDC and severity rank from its code (POLICY_RULES §0), and returns a table that
:func:`sim.catalogue.validate_catalogue` accepts, together with an :class:`ImportReport` that says
what was read, what was left out and why. Nothing is guessed: payment standards, rates, outlier
thresholds and sub-grade coefficients are reported and ignored, and a group without a usable
weight (empty, 0, or the weight-1 placeholder some cities give unstable groups) is imported with
an empty weight, i.e. unpriced (§2.2). :func:`write_source_card` records the provenance next to
the written catalogue.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.catalogue import read_table, validate_catalogue, write_catalogue
from sim.errors import InputError, show
from sim.store import write_files_atomically

CODE_HEADERS = ("DRG编码", "分组编码", "DRG")
NAME_HEADERS = ("DRG名称", "分组名称", "DRG组名称")
WEIGHT_HEADERS = ("RW", "权重", "初始权重")
LEVELS = {"一": "primary", "二": "secondary", "三": "tertiary"}
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

# Known columns that a catalogue does not hold: header pattern → reason.
IGNORED_RULES = (
    (r".*支付标准.*", "payment standard in yuan (weight × rate × coefficient, POLICY_RULES §3): "
     "a policy result, not part of a catalogue"),
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
    ``notes`` is (remark, codes or families it concerns) about ranks or flag values to check.
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
            "recognised columns:",
            *(f"  {header} → {meaning}" for header, meaning in self.recognised_columns),
        ]
        if self.ignored_columns:
            lines.append("ignored columns:")
            lines += [f"  {header}: {reason}" for header, reason in self.ignored_columns]
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


def _ignored_reason(header: str, raw: pd.Series, weights: pd.Series) -> str:
    """Why a column is not imported; a 例均费用 column proportional to the weight says so."""
    if re.fullmatch(MEAN_COST_HEADER, header):
        ratio = pd.to_numeric(raw, errors="coerce") / weights.where(weights > 0)
        ratio = ratio.dropna()
        if len(ratio) and (ratio.max() - ratio.min()) <= 0.001 * ratio.median():
            return (f"equals weight × {ratio.median():,.0f} in every priced row (ratio "
                    f"{ratio.min():,.1f}–{ratio.max():,.1f}): a payment standard, not an "
                    "observed mean cost; not imported as mean_cost")
        return ("mean cost per case whose basis the table does not state; not imported as "
                "mean_cost")
    for pattern, reason in IGNORED_RULES:
        if re.fullmatch(pattern, header):
            return reason
    return "not recognised"


def _group_rows(raw: pd.DataFrame, code_column: str, name_column: str | None,
                weight_column: str) -> tuple[list[tuple[int, str, str]], pd.DataFrame]:
    """Keep the first row of each group code; report non-group codes and repeated codes."""
    codes = raw[code_column]
    is_group = codes.str.fullmatch(GROUP_CODE)
    repeated = is_group & codes.where(is_group).duplicated()
    kept = raw[is_group & ~repeated]
    kept_row = pd.Series(kept.index, index=kept[code_column])

    def describe(row: int) -> str:
        name = raw.loc[row, name_column] if name_column is not None else ""
        return f"{name!r}, {raw.loc[row, weight_column] or 'no'} weight"

    ignored = []
    for row in raw.index[~is_group]:
        name = raw.loc[row, name_column] if name_column is not None else ""
        reason = "empty code" if codes[row] == "" else (
            "not a group code (no MDC letter" + (f": {name}" if name else "") + ")")
        ignored.append((int(row), codes[row], reason))
    for row in raw.index[repeated]:
        first = int(kept_row[codes[row]])
        same = describe(row) == describe(first)
        reason = f"duplicate code; row {first} kept" + (
            "" if same else f" although the rows differ ({describe(first)} kept, "
                            f"{describe(row)} dropped)")
        ignored.append((int(row), codes[row], reason))
    return sorted(ignored), kept


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


def import_city_table(path: str | Path) -> tuple[pd.DataFrame, ImportReport]:
    """Read a city DRG table and return it in the catalogue format, with an import report.

    Columns are recognised by their Chinese headers (see ``CODE_HEADERS``, ``NAME_HEADERS``,
    ``WEIGHT_HEADERS``, ``FLAG_RULES`` and ``COEFFICIENT_RULES``); the ADRG family is the first
    three characters of the code, the MDC its first letter and the severity rank the dense rank of
    the split characters inside the family (POLICY_RULES §0). Rows whose code is not a group code
    (``0000``, ``0``, ``000P`` 未入组 …) and repeated codes are left out and reported. A group whose
    weight is empty, 0, or 1 in a group flagged unstable or uncovered (a placeholder, as in
    lanzhou_2023 and taizhou_2022) keeps an empty weight: it is listed but unpriced (§2.2).
    Raises :class:`InputError` when the code or weight column is missing or a value is unusable.
    """
    path = Path(path)
    file = str(path)
    raw = read_table(path)
    raw.columns = [_normalise_header(c) for c in raw.columns]
    raw = _as_text(raw)
    raw.index = pd.RangeIndex(1, len(raw) + 1)
    headers = list(raw.columns)
    found = ", ".join(headers)
    if len(raw) == 0:
        raise InputError(file, None, "the table has no rows", "one row per case group")

    code_column = _single(headers, CODE_HEADERS, file, "code")
    if code_column is None:
        raise InputError(file, "header", f"no group code column among: {found}",
                         "a column " + " / ".join(CODE_HEADERS))
    weight_column = _single(headers, WEIGHT_HEADERS, file, "weight")
    if weight_column is None:
        hint = " (标准分值 holds standard points, not weights)" if "标准分值" in headers else ""
        raise InputError(file, "header", f"no weight column among: {found}{hint}",
                         "a column " + " / ".join(WEIGHT_HEADERS))
    name_column = _single(headers, NAME_HEADERS, file, "name")

    recognised = {code_column: "code (ADRG = first 3 characters, MDC = first letter, severity "
                               "rank from the split character; POLICY_RULES §0)",
                  weight_column: "weight (relative weight; empty, 0 or unstable placeholder 1 "
                                 "= unpriced; POLICY_RULES §2.2)"}
    if name_column is not None:
        recognised[name_column] = "name"
    flag_columns: list[tuple[str, dict[str, set[str]], frozenset[str], bool]] = []
    coefficient_columns: dict[str, str] = {}
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
    recognised_columns = tuple((h, recognised[h]) for h in headers if h in recognised)

    ignored_rows, kept = _group_rows(raw, code_column, name_column, weight_column)
    if len(kept) == 0:
        raise InputError(file, f"column {code_column}", "no row holds a group code",
                         "codes such as AA19 or ES31")
    names = kept[name_column] if name_column is not None else pd.Series("", index=kept.index)

    # Flags (POLICY_RULES §2.2, §2.4, §2.5).
    notes: list[tuple[str, tuple[str, ...]]] = []
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
    table = validate_catalogue(table.reset_index(drop=True), file)

    ignored_columns = tuple(
        (header, _ignored_reason(header, kept[header], weights))
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
    )
    return table, report


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
        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        if pyproject.exists():
            return str(tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"])
        return "unknown"


def source_card_path(out_path: str | Path) -> Path:
    """Where the source card of catalogue ``out_path`` goes: ``<out_path>.source.yaml``."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.name + ".source.yaml")


def source_card(report: ImportReport, source_path: str | Path, catalogue_name: str) -> str:
    """The YAML provenance card of a catalogue named ``catalogue_name``.

    The card holds the source file's name and sha256, the drgsim version, the counts, the
    recognised and ignored columns, the unpriced groups, the ignored rows and the notes. The
    import date is left out on purpose so that re-running an import reproduces the card exactly.
    """
    source_path = Path(source_path)
    digest = hashlib.sha256(source_path.read_bytes()).hexdigest()
    card = {
        "source": {"file": source_path.name, "sha256": digest},
        "catalogue": catalogue_name,
        "converted_by": f"drgsim {drgsim_version()} (sim.citytables.import_city_table)",
        "counts": report.counts(),
        "recognised_columns": dict(report.recognised_columns),
        "ignored_columns": dict(report.ignored_columns),
        "unpriced_groups": dict(report.unpriced),
        "ignored_rows": [{"row": row, "code": code, "reason": reason}
                         for row, code, reason in report.ignored_rows],
        "notes": [{"note": remark, "codes": list(items)} if items else {"note": remark}
                  for remark, items in report.notes],
    }
    return CARD_HEADER + yaml.safe_dump(card, allow_unicode=True, sort_keys=False, width=100)


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
    try:
        if not card.is_file() or card.stat().st_size > 16 << 20:
            return False
        text = card.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return text.startswith(CARD_HEADER) and f"\ncatalogue: {catalogue_path.name}\n" in text


def write_imported_catalogue(table: pd.DataFrame, report: ImportReport, source_path: Path,
                             out_path: Path) -> None:
    """The catalogue and its source card, both staged and renamed into place together."""
    card_path = source_card_path(out_path)
    card = source_card(report, source_path, out_path.name)
    write_files_atomically({
        out_path: lambda p: write_catalogue(table, p),
        card_path: lambda p: p.write_text(card, encoding="utf-8", newline="\n"),
    }, "--out")
