"""``drgsim calibrate weights``: a catalogue's weights, coefficients and rates from cost data (§1).

Input: a year (or several) of historical cost data, either one row per case (columns ``drg``,
``cost`` and, for coefficients and rates per level, ``hospital_level``; a ``drgsim settle`` case
table or a bureau's settlement-list extract will do — files, encodings, Chinese headers and value
forms are read by :mod:`sim.inputs.extract` as for ``drgsim settle``, other columns are not read) or
aggregated, one row per group and optionally per level (``drg``, ``cases``, ``mean_cost``
[, ``hospital_level``]; 病例数, 例均费用 are read as well). The previous catalogue gives
the groups, their families and flags, and the weights that groups with too few cases keep.
Row problems (amounts, case counts, levels, a group given twice) are gathered, all of them, as by
``drgsim settle``: refused in one line, listed in full with ``--errors FILE.csv``, or with
``--skip-bad-rows`` left out of the calibration and listed in the report and in
``CAT.csv.rejected_rows.csv``. A code outside the catalogue is no problem: an ungroupable record.

What §1 asks, in order (the rules themselves are :mod:`sim.rules.weights`, the same functions the
bureau's yearly revision calls in a model run): records without a group, with an ambiguous (QY)
group or with a code outside the catalogue are left out and the grouping rate reported (a warning
under 95%); each group's cost outliers are trimmed at each level (``--trim``; case-level data
only); weights are
trimmed group means ÷ the trimmed overall mean for groups with at least ``--min-cases`` cases
(and designated groups), the others keep their previous weight and reference mean costs
(flagged); expert overrides replace weights last; coefficients per group × level with the level
order enforced (clamped groups listed); stable means at least the minimum of cases (a group
without cases keeps its flag); weights and coefficients rounded to 8 decimals; a rate per level =
the level's cost ÷ its case mix (a level without priced cases has none: the rates reform gives it
the all-levels rate and says so).

Output, written together and only when complete (``--out CAT.csv``):
``CAT.csv`` the catalogue (the project's format, with last year's reference mean costs; the
previous catalogue's payment standards are dropped: they are its weights × its rates);
``CAT.csv.source.yaml`` its source card (inputs and their sha256, options, counts — the mark
by which a later run knows it may replace these files); ``CAT.csv.rates.yaml`` a reform with the
§1.5 rates per level (``drgsim settle|run --policy rate --reform CAT.csv.rates.yaml``);
``CAT.csv.report.md`` and ``CAT.csv.report.csv`` the report (grouping rate, cases kept and dropped
and why, the weights that moved most, the coefficient table); with ``--skip-bad-rows``,
``CAT.csv.rejected_rows.csv`` (the rows set aside, as read, with their problems).

Why a file and not a folder: a catalogue is an input of other commands, named by path like the
imported ones (``drgsim catalogue import --out CAT.csv``); its companions sit beside it under its
name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from sim.errors import InputError, show
from sim.inputs.catalogue import Catalogue, file_sha256, load_catalogue, write_catalogue
from sim.inputs.citytables import card_written_by, drgsim_version
from sim.inputs.extract import TableProblems
from sim.inputs.policy import DEFAULT_LEVELS
from sim.inputs.yamlfile import read_yaml
from sim.rules import weights as rules
from sim.store import (
    check_errors_file,
    check_output_file,
    git_revision,
    problems_listed,
    write_errors,
    write_files_atomically,
)

MIN_CASES = 30          # §1.2
DECIMALS = 8            # §1.6 (and base points, §2.2)
DEFAULT_TRIM = "sd:3"   # §1.3 common practice, for case-level data
MAX_CASE_YUAN = 1e8     # as sim.inputs.cases: one hundred million yuan per case
MAX_TOTAL_YUAN = 1e13   # ten trillion yuan in one table (cent sums stay exact)
MAX_COUNT = 1e9         # cases in one aggregated row
MAX_OVERRIDE_WEIGHT = 1000.0
RATE_DATE = "2020-01-01"  # the rates fragment is in force from the shipped policies' first date
CASE_COLUMNS = ("drg", "cost")
AGGREGATED_COLUMNS = ("drg", "cases", "mean_cost")
EXPECTED_DATA = ("a CSV, Parquet or Excel table with one row per case (drg, cost[, "
                 "hospital_level]) or per group (drg, cases, mean_cost[, hospital_level])")
CARD_HEADER = ("# Source card written by drgsim calibrate weights (calibration.weights): the "
               "cost data,\n# options and counts behind the catalogue next to it (POLICY_RULES "
               "§1).\n")
SUFFIXES = (".source.yaml", ".rates.yaml", ".report.md", ".report.csv")
REJECTED_SUFFIX = ".rejected_rows.csv"  # only with --skip-bad-rows
REASONS = {1: "no group", 2: "ambiguous (QY) group", 3: "code not in the catalogue"}


# --------------------------------------------------------------------------- outputs
def output_paths(out: Path) -> dict[str, Path]:
    """The catalogue and its companions, named after it."""
    return {"catalogue": out, **{suffix.split(".")[1] + "_" + suffix.split(".")[2]: out.with_name(
        out.name + suffix) for suffix in SUFFIXES + (REJECTED_SUFFIX,)}}


def calibrated_by_drgsim(path: Path) -> bool:
    """A catalogue or companion that this command wrote: the catalogue's source card exists,
    starts with this command's header and names the catalogue."""
    name = path.name
    for suffix in SUFFIXES + (REJECTED_SUFFIX,):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return card_written_by(path.with_name(name + ".source.yaml"), CARD_HEADER, name)


def check_outputs(out: Path, inputs: list[Path]) -> dict[str, Path]:
    """Refuse ``--out`` before any work: every file it names must be new or written by this
    command, none may be an input (see :func:`sim.store.check_output_file`)."""
    if not str(out).strip():
        raise InputError("--out", None, "is empty", "a catalogue path ending in .csv")
    paths = output_paths(out)
    kinds = {"catalogue": (".csv", "catalogue"), "source_yaml": (".yaml", "source card"),
             "rates_yaml": (".yaml", "rates fragment"), "report_md": (".md", "report"),
             "report_csv": (".csv", "report table"),
             "rejected_rows_csv": (".csv", "rejected rows")}
    for key, path in paths.items():
        suffix, what = kinds[key]
        argument = "--out" if key == "catalogue" else f"--out (its {what})"
        check_output_file(path, argument, inputs, suffix, calibrated_by_drgsim, what)
    return paths


# --------------------------------------------------------------------------- reading
@dataclass
class CostData:
    """Rows of cost data as read: one per case, or one per group (and level) with a count.

    With ``--skip-bad-rows`` the rows with problems are left out of the arrays; ``rejected``
    holds them as read and ``problems`` every problem found (both None when nothing was set
    aside)."""

    file: str
    aggregated: bool
    codes: np.ndarray             # text per row
    level: np.ndarray | None      # level index per row; None without hospital_level
    cost: np.ndarray              # per case, or the row's mean cost
    count: np.ndarray             # 1 per case, or the row's case count
    rows: int
    warnings: list[str] = field(default_factory=list)
    reading: dict = field(default_factory=dict)  # how the file was read (format, encoding …)
    rejected: pd.DataFrame | None = None         # rows set aside, as read, with their problems
    problems: pd.DataFrame | None = None         # every problem of the rows set aside


class CostDataProblems(TableProblems):
    """Row problems of cost data: one line, naming this command's ways out."""

    def __str__(self) -> str:
        errors_file = getattr(self, "errors_file", None)
        listed = (f"every problem is in {errors_file}" if errors_file
                  else "--errors FILE lists every problem")
        text = f"{InputError.__str__(self)}; {listed}"
        return text + ("; --skip-bad-rows calibrates from the other rows" if self.hint else "")


def _refusal(summary: TableProblems) -> CostDataProblems:
    error = CostDataProblems(summary.file, summary.where, summary.problem, summary.expected,
                             summary.problems, summary.rows, summary.hint)
    error.extract = summary.extract
    error.errors_file = getattr(summary, "errors_file", None)
    return error


def _aliases() -> dict[str, tuple[str, ...]]:
    """Column names read as this command's columns: the case table's (Chinese headers and the
    national platform's field codes, :data:`sim.inputs.cases.ALIASES`) and those of group tables."""
    from sim.inputs.cases import ALIASES

    return {"drg": ALIASES["drg"], "hospital_level": ALIASES["hospital_level"],
            "cost": ALIASES["cost"],
            "cases": ("病例数", "例数", "出院人次", "出院人数", "病例数量", "count"),
            "mean_cost": ("例均费用", "次均费用", "平均费用", "均次费用", "mean")}


def read_cost_data(path: Path, levels: tuple[str, ...], encoding: str | None = None,
                   columns_path: Path | None = None, skip_bad_rows: bool = False) -> CostData:
    """Read and check cost data (see module docstring). Files, encodings, Chinese headers,
    amounts such as ``1,996.34`` and levels such as ``三级`` are read as for ``drgsim settle``
    (:mod:`sim.inputs.extract`).

    A problem with the file or its header is one line (:class:`InputError`). Row problems are
    gathered, every check on every row (:class:`sim.inputs.extract.Problems`): amounts that are not
    numbers or out of range, case counts that are not whole, unknown levels, a group (and level)
    given twice in a table of group means (every copy: which one is right is unknown). They are
    refused in one line (:class:`CostDataProblems`, whose ``frame()`` lists them all), or with
    ``skip_bad_rows`` left out and handed back in ``rejected`` and ``problems``. A code that is
    not a catalogue group is no problem here: it is an ungroupable record (§1.1, §1.2), counted
    by the calibration."""
    from sim.inputs.cases import level_and_grade
    from sim.inputs.extract import (
        Problems,
        as_text,
        parse_amounts,
        problems_frame,
        read_column_map,
        read_extract,
        rejected_frame,
    )

    file = str(path)
    aliases = _aliases()
    columns = read_column_map(columns_path, aliases)
    extract = read_extract(path, aliases, expected=EXPECTED_DATA, encoding=encoding,
                           columns=columns, columns_file=None if columns_path is None
                           else str(columns_path))
    table = extract.table

    present = set(table.column_names)
    if "drg" not in present:
        raise InputError(file, "header", "missing column 'drg'", EXPECTED_DATA)
    case_level = "cost" in present
    aggregated = {"cases", "mean_cost"} <= present
    if case_level and ({"cases", "mean_cost"} & present):
        raise InputError(file, "header", "both 'cost' (one row per case) and 'cases'/'mean_cost' "
                         "(one row per group)", "one of the two forms, not both")
    if not case_level and not aggregated:
        missing = "cost" if not ({"cases", "mean_cost"} & present) else (
            "mean_cost" if "cases" in present else "cases")
        raise InputError(file, "header", f"missing column {missing!r}", EXPECTED_DATA)
    rows = table.num_rows
    if rows == 0:
        raise InputError(file, None, "the table has no rows", EXPECTED_DATA)
    problems = Problems(extract, rows)
    codes = as_text(table["drg"]).to_numpy(zero_copy_only=False).astype(str)

    def as_written(name: str):
        text = as_text(table[name])
        return lambda found: text.take(pa.array(found)).to_pylist()

    def numbers(name: str, high: float, what: str, whole: bool = False) -> np.ndarray:
        values, bad = parse_amounts(table[name])
        bad = bad | ~np.isfinite(values)  # also 'nan', 'inf'
        problems.add(bad, name, "not a number", f"{what} such as 1996.34 or 1,996.34"
                     if not whole else f"{what} such as 120", as_written(name))
        with np.errstate(invalid="ignore"):
            out = ~bad & ((values < 0) | (values > high))
            if whole:
                out |= ~bad & (values != np.floor(values))
        problems.add(out, name, "not a whole number of cases" if whole else "amount out of range",
                     f"{what} from 0 to {high:,.0f}", as_written(name))
        return np.where(bad | out, 0.0, values)

    level = None
    if "hospital_level" in present:
        text = as_text(table["hospital_level"]).to_numpy(zero_copy_only=False).astype(str)
        distinct, index = np.unique(text, return_inverse=True)
        known = np.array([level_and_grade(str(value), levels)[0] for value in distinct],
                         dtype=np.int64)
        problems.add((known < 0)[index], "hospital_level", "unknown level",
                     "one of the levels " + ", ".join(levels) + ", or 一级/二级/三级",
                     as_written("hospital_level"))
        level = np.maximum(known, 0)[index]
    if case_level:
        cost = numbers("cost", MAX_CASE_YUAN, "a cost in yuan")
        count = np.ones(rows)
    else:
        count = numbers("cases", MAX_COUNT, "a whole number of cases", whole=True)
        cost = numbers("mean_cost", MAX_CASE_YUAN, "a mean cost in yuan")
        key = pd.Series(codes) + "\x00" + (pd.Series(level).astype(str) if level is not None
                                           else "")
        checked = problems.ok("hospital_level")  # a row of an unknown level is no copy
        repeated = checked & key.where(checked).duplicated(keep=False).to_numpy()
        problems.add(repeated, "drg", "duplicate group" + (
            " and level" if level is not None else ""),
            "one row per group" + (" and level" if level is not None else ""), codes)

    rejected = found = None
    if problems.items:
        if not skip_bad_rows:
            raise _refusal(problems.summary())
        bad = problems.bad_rows()
        if len(bad) == rows:
            raise _refusal(problems.summary("no row can be calibrated: ", hint=False))
        rejected = rejected_frame(extract, bad, problems.items)
        found = problems_frame(problems.items, extract)
        good = np.ones(rows, dtype=bool)
        good[bad] = False
        codes, cost, count = codes[good], cost[good], count[good]
        level = None if level is None else level[good]
    total = float(np.sum(cost * count))
    if total > MAX_TOTAL_YUAN:
        raise InputError(file, "column cost" if case_level else "columns cases × mean_cost",
                         f"costs total ¥{total:,.0f}", f"at most ¥{MAX_TOTAL_YUAN:,.0f}")
    reading = extract.record()
    notes = list(extract.notes)
    if found is not None:
        kinds = found.groupby(["problem", "column"]).size().sort_values(ascending=False,
                                                                        kind="stable")
        reading["rows_set_aside"] = int(len(rejected))
        reading["set_aside_by_problem"] = {f"{kind} in {column}": int(number)
                                           for (kind, column), number in kinds.items()}
        listed = ", ".join(f"{number:,} {kind} in {column}"
                           for (kind, column), number in list(kinds.items())[:6])
        notes.append(f"{file}: {len(rejected):,} of {rows:,} row(s) with problems set aside "
                     f"({listed}); listed in the report and in the rejected rows file")
    return CostData(file, not case_level, codes, level, cost, count, len(codes),
                    warnings=notes, reading=reading, rejected=rejected, problems=found)


@dataclass
class Overrides:
    """Expert weights (§1.4) and designated groups priced below the minimum (§1.2)."""

    weight: dict[str, float] = field(default_factory=dict)
    designated: list[str] = field(default_factory=list)
    title: str | None = None


def read_overrides(path: Path, catalogue: Catalogue) -> Overrides:
    """``title`` (optional), ``weights: {code: weight}`` (§1.4) and ``designated: [codes]``
    (§1.2: transplants and other groups priced from their data below the minimum)."""
    file = str(path)
    document = read_yaml(path)
    expected = "title (optional), weights: {group code: weight}, designated: [group codes]"
    if not isinstance(document, dict):
        raise InputError(file, None, f"top level is {show(document)}", expected)
    unknown = [k for k in document if k not in ("title", "weights", "designated")]
    if unknown:
        raise InputError(file, f"key {show(unknown[0])}", "unknown key", expected)
    codes = set(catalogue.codes.tolist())
    weights = document.get("weights") or {}
    if not isinstance(weights, dict):
        raise InputError(file, "weights", f"value {show(weights)}", "a mapping group code: weight")
    result = Overrides(title=document.get("title"))
    for code, value in weights.items():
        code_text = str(code).strip()
        if code_text not in codes:
            raise InputError(file, f"weights, {show(code_text)}", "not a group of the catalogue "
                             f"{catalogue.source}", "a group code of the catalogue")
        if (isinstance(value, bool) or not isinstance(value, int | float) or not
                np.isfinite(value) or not 0 < value <= MAX_OVERRIDE_WEIGHT):
            raise InputError(file, f"weights, {code_text}", f"value {show(value)}",
                             f"a weight above 0 and at most {MAX_OVERRIDE_WEIGHT:g}")
        result.weight[code_text] = float(value)
    designated = document.get("designated") or []
    if not isinstance(designated, list):
        raise InputError(file, "designated", f"value {show(designated)}", "a list of group codes")
    for code in designated:
        code_text = str(code).strip()
        if code_text not in codes:
            raise InputError(file, f"designated, {show(code_text)}", "not a group of the "
                             f"catalogue {catalogue.source}", "a group code of the catalogue")
        result.designated.append(code_text)
    return result


# --------------------------------------------------------------------------- calibration
@dataclass
class WeightCalibration:
    """Everything the command computed, for the files and the summary."""

    table: pd.DataFrame            # the new catalogue
    groups: pd.DataFrame           # the per-group report table
    levels: tuple[str, ...] | None
    rates: dict[str, float]        # §1.5 per level (Σ weights)
    rates_with_coefficients: dict[str, float]  # the same cases, case mix Σ weight × coefficient
    counts: dict[str, int]
    grouping_rate: float
    trim: str
    min_cases: int
    dropped_codes: dict[str, list[tuple[str, int]]]
    warnings: list[str]
    rate_all_levels: float = np.nan  # §1.5 over every level's cases: the rate of a level without
    filled_levels: list[str] = field(default_factory=list)  # levels given the all-levels rate
    dropped_columns: list[str] = field(default_factory=list)  # previous payment standards
    rejected: pd.DataFrame | None = None  # rows set aside (--skip-bad-rows), as read
    skip_bad_rows: bool = False


def calibrate_catalogue(data: CostData, catalogue: Catalogue, min_cases: int,
                        trim: rules.Trim, overrides: Overrides,
                        levels: tuple[str, ...]) -> WeightCalibration:
    """§1 on read data against the previous catalogue (see module docstring)."""
    previous = catalogue.table
    n_groups = len(previous)
    has_levels = data.level is not None
    n_levels = len(levels) if has_levels else 1
    row_level = data.level if has_levels else np.zeros(data.rows, dtype=np.int64)

    distinct, index = np.unique(data.codes.astype(str), return_inverse=True)
    group_of_code = catalogue.group_ids(distinct)
    reason = rules.ungroupable(distinct, group_of_code >= 0)[index]
    group = group_of_code[index]
    grouped = reason == 0
    records = float(data.count.sum())
    grouped_records = float(data.count[grouped].sum())
    rate = float(rules.grouping_rate(grouped_records, records))

    g, lv, cost, count = group[grouped], row_level[grouped], data.cost[grouped], data.count[grouped]
    if data.aggregated:
        cell = g * n_levels + lv
        size = n_groups * n_levels
        sums_count = np.bincount(cell, weights=count, minlength=size).reshape(n_groups, -1)
        sums_cost = np.bincount(cell, weights=count * cost, minlength=size).reshape(n_groups, -1)
        sums = rules.GroupCosts(sums_count, sums_cost, sums_count, sums_cost)
        keep = np.ones(len(g), dtype=bool)
    else:
        keep = trim.keep(g * n_levels + lv, cost, n_groups * n_levels)  # §1.3 by group × level
        sums = rules.group_costs(g, lv, cost, keep, n_groups, n_levels)

    previous_weight = previous["weight"].to_numpy(dtype=float)
    previous_coefficient = np.full((n_groups, n_levels), np.nan)
    if has_levels:
        for column, name in enumerate(levels):
            if f"coefficient_{name}" in previous:
                previous_coefficient[:, column] = previous[f"coefficient_{name}"].to_numpy(float)
    code_row = {code: row for row, code in enumerate(catalogue.codes)}
    override = np.full(n_groups, np.nan)
    for code, value in overrides.weight.items():
        override[code_row[code]] = value
    designated = np.zeros(n_groups, dtype=bool)
    designated[[code_row[code] for code in overrides.designated]] = True

    result = rules.calibrate(*sums, previous_weight=previous_weight,
                             previous_coefficient=previous_coefficient, override_weight=override,
                             designated=designated, min_cases=min_cases, decimals=DECIMALS)

    cases = sums.count.sum(axis=1)
    kept = sums.kept_count.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_cost = sums.cost.sum(axis=1) / cases
        trimmed_mean = sums.kept_cost.sum(axis=1) / kept
        level_mean = sums.cost / sums.count

    # the previous catalogue's payment standards are weight × rate of its weights: not these
    dropped_columns = [c for c in previous.columns
                       if c == "payment_standard" or c.startswith("payment_standard_")]
    table = previous.drop(columns=dropped_columns)
    table["weight"] = result.weight
    # §2.2: stable with at least the minimum of cases; a group without data keeps its flag
    table["stable"] = np.where(cases > 0, cases >= min_cases,
                               previous["stable"].to_numpy(dtype=bool))

    def previous_column(name: str) -> np.ndarray:
        return previous[name].to_numpy(float) if name in previous else np.full(n_groups, np.nan)

    # §1.2, §2.3: reference means from the data only for groups priced from it
    from_data = rules.priced_from_data(cases, min_cases, designated)
    table["mean_cost"] = rules.reference_means(np.round(mean_cost, 2),
                                               previous_column("mean_cost"), from_data)
    if has_levels:
        for column, name in enumerate(levels):
            table[f"mean_cost_{name}"] = rules.reference_means(
                np.round(level_mean[:, column], 2), previous_column(f"mean_cost_{name}"),
                from_data)
            table[f"coefficient_{name}"] = result.coefficient[:, column]

    rates, with_coefficients = {}, {}
    level_names = levels if has_levels else ("all levels",)
    if has_levels:
        cells = np.tile(np.arange(n_levels), n_groups)
        coefficient = np.where(np.isnan(result.coefficient), 1.0, result.coefficient)
        paid_mix = (sums.count * result.weight[:, None] * coefficient).ravel()
        as_paid = rules.rates_by_level(cells, sums.cost.ravel(), paid_mix, n_levels)
    else:
        as_paid = result.rate
    for column, name in enumerate(level_names):
        rates[name] = float(result.rate[column])
        with_coefficients[name] = float(as_paid[column])
    # §1.5 over the cases of every level: what one rate for all levels would be
    rate_all_levels = float(rules.rates_by_level(
        np.zeros(sums.count.size, dtype=np.int64), sums.cost.ravel(),
        (sums.count * result.weight[:, None]).ravel(), 1)[0])
    filled = [name for name, value in rates.items() if has_levels and not np.isfinite(value)]

    status = np.asarray(rules.STATUS_NAMES, dtype=object)[result.status]
    groups = pd.DataFrame({
        "code": previous["code"], "name": previous["name"], "status": status,
        "stable": table["stable"], "cases": cases.astype(np.int64),
        "cases_trimmed": (cases - kept).astype(np.int64),
        "mean_cost": np.round(mean_cost, 2), "trimmed_mean_cost": np.round(trimmed_mean, 2),
        "previous_weight": previous_weight, "weight": result.weight,
        "weight_change": np.round(result.weight - previous_weight, DECIMALS),
        "relative_change": np.round(result.weight / previous_weight - 1, 6),
        "override": override, "designated": designated, "coefficient_clamped": result.clamped,
    })
    if has_levels:
        for column, name in enumerate(levels):
            groups[f"cases_{name}"] = sums.count[:, column].astype(np.int64)
        for column, name in enumerate(levels):
            groups[f"coefficient_{name}"] = result.coefficient[:, column]

    dropped_codes: dict[str, list[tuple[str, int]]] = {}
    for code_reason, name in REASONS.items():
        mask = reason == code_reason
        if mask.any():
            per_code = pd.Series(data.count[mask]).groupby(data.codes[mask].astype(str)).sum()
            top = per_code.sort_values(ascending=False, kind="stable").head(20)
            dropped_codes[name] = [(str(c), int(n)) for c, n in top.items()]
    by_status = np.bincount(result.status, minlength=len(rules.STATUS_NAMES))
    counts = {
        "records": int(records), "grouped": int(grouped_records),
        **{f"dropped_{name.split(' (')[0].replace(' ', '_')}": int(data.count[reason == c].sum())
           for c, name in REASONS.items()},
        "trimmed": int(count[~keep].sum()), "kept": int(count[keep].sum()),
        "cases_in_groups_below_minimum": int(cases[(cases > 0) & ~from_data].sum()),
        "groups": n_groups, "groups_with_cases": int(np.sum(cases > 0)),
        **{f"groups_{name}": int(by_status[code]) for code, name in
           enumerate(rules.STATUS_NAMES)},
        "groups_stable": int(np.sum(table["stable"])),
        "coefficients_clamped": int(np.sum(result.clamped)),
    }
    warnings = []
    if rate < rules.GROUPING_RATE_FLOOR:
        warnings.append(f"only {rate:.1%} of records grouped; §1 asks for at least "
                        f"{rules.GROUPING_RATE_FLOOR:.0%} before weights are trusted")
    if counts["coefficients_clamped"]:
        warnings.append(f"{counts['coefficients_clamped']} group(s) had a lower-level coefficient "
                        "above the level above it; clamped (§1.6), listed in the report")
    below = counts["groups_kept_previous_below_minimum"] + counts["groups_unpriced_below_minimum"]
    if below:
        warnings.append(f"{below} group(s) had fewer than {_n_cases(min_cases)} and kept their "
                        "previous weight and reference mean costs (or stay unpriced), flagged in "
                        "the report (§1.2)")
    if not has_levels:
        warnings.append("no hospital_level column: coefficients not recomputed (the previous "
                        "catalogue's are kept) and one rate for all levels")
    if filled and np.isfinite(rate_all_levels):
        warnings.append(f"no priced cases at level(s) {', '.join(filled)}: no §1.5 rate of "
                        f"their own; the rates reform gives them the all-levels rate "
                        f"¥{rate_all_levels:,.2f} (cost ÷ case mix of every level's cases), "
                        "marked there and in the report")
    return WeightCalibration(table, groups, levels if has_levels else None, rates,
                             with_coefficients, counts, rate,
                             "none (aggregated data)" if data.aggregated else str(trim),
                             min_cases, dropped_codes, warnings, rate_all_levels, filled,
                             dropped_columns)


# --------------------------------------------------------------------------- writing
def _money(value: float) -> float | None:
    return round(float(value), 2) if np.isfinite(value) else None


def _n_cases(number: int) -> str:
    return f"{number:,} case" + ("" if number == 1 else "s")


FILLED_HOW = ("the all-levels rate (cost ÷ case mix, Σ weights, of the cases of every level: "
              "§1.5 with the levels pooled), not a rate of the level's own")
DROPPED_WHY = ("the previous catalogue's payment standards (yuan per case: its weights × its "
               "rates) do not belong to these weights; payment is weight × rate (§3) or points "
               "× point value (§2)")


def source_card(result: WeightCalibration, inputs: dict[str, Path | None], out: Path,
                aggregated: bool, reading: dict | None = None) -> str:
    card = {
        "catalogue": out.name,
        "written_by": f"drgsim {drgsim_version()} (calibration.weights, drgsim calibrate "
                      "weights)",
        "git_revision": git_revision(),
        "inputs": {role: None if path is None else {"file": str(path), "sha256": file_sha256(path)}
                   for role, path in inputs.items()},
        "data_form": "aggregated (one row per group" + (" and level)" if result.levels else ")")
                     if aggregated else "one row per case",
        "reading": reading or {},
        "options": {"min_cases": result.min_cases, "trim": result.trim, "decimals": DECIMALS,
                    "levels": list(result.levels) if result.levels else None,
                    "skip_bad_rows": result.skip_bad_rows},
        "grouping_rate": round(result.grouping_rate, 6),
        "counts": result.counts,
        "rates_per_level": {k: _money(v) for k, v in result.rates.items()},
    }
    if result.filled_levels:
        card["rates_filled"] = {"levels": list(result.filled_levels),
                                "rate": _money(result.rate_all_levels), "how": FILLED_HOW}
    if result.dropped_columns:
        card["columns_dropped"] = {"columns": list(result.dropped_columns), "why": DROPPED_WHY}
    card["companions"] = [out.name + suffix for suffix in SUFFIXES[1:]] + (
        [out.name + REJECTED_SUFFIX] if result.rejected is not None else [])
    return CARD_HEADER + yaml.safe_dump(card, allow_unicode=True, sort_keys=False, width=100)


def rates_fragment(result: WeightCalibration, source: Path, levels: tuple[str, ...]) -> str:
    """A reform (``--reform``) setting the §1.5 rates per level, without coefficients.

    The policy format wants a number for every level, so a level without priced cases gets the
    all-levels rate (:data:`FILLED_HOW`) — the one rate §1.5 gives if the levels are not told
    apart, rather than no file or an average of the other levels' rates, which has no meaning
    in §1.5 — and the file says so, in its rationale and beside the number."""
    if result.levels:
        filled = _money(result.rate_all_levels)
        value: object = {name: filled if name in result.filled_levels else
                         _money(result.rates[name]) for name in levels}
    else:
        value = _money(result.rates["all levels"])
    summary = ("Written by drgsim calibrate weights. These rates already carry each level's "
               "cost, so coefficients are switched off (one rate per level, as Yunnan paid); to "
               "pay coefficients too, keep rate.base_rate null instead (budget-neutral with "
               f"coefficients). In force from {RATE_DATE}, like the shipped policies; edit the "
               "date to phase it in.")
    if result.filled_levels:
        summary += (f" No priced case of level(s) {', '.join(result.filled_levels)} was in "
                    f"{source.name}: their rate is {FILLED_HOW}.")
    document = {
        "title": f"Rates per level from {source.name} (§1.5)",
        "title_zh": f"按{source.name}测算的分级费率（§1.5）",
        "rationale": {
            "baseline": "rate",
            "reference": "POLICY_RULES §1.5 (rate of level L = total cost of level-L cases ÷ "
                         "their CM, Σ weights), §3",
            "summary": summary,
        },
        "changes": {
            "rate.base_rate": {RATE_DATE: value},
            "rate.use_coefficients": {RATE_DATE: False},
        },
    }
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    text = text.replace(f"'{RATE_DATE}'", RATE_DATE)
    lines = text.split("\n")
    at = lines.index("changes:")
    for index in range(at, len(lines)):
        key = lines[index].strip().split(":")[0]
        if key in result.filled_levels:
            lines[index] += "  # no cases at this level: the all-levels rate (see rationale)"
    return "\n".join(lines)


def summary_lines(result: WeightCalibration, out: Path) -> list[str]:
    """What ``drgsim calibrate weights`` prints after the warnings."""
    counts = result.counts
    priced = counts["groups_from_data"] + counts["groups_designated_below_minimum"]
    lines = [f"Calibrated {priced:,} of {counts['groups']:,} groups from {counts['kept']:,} of "
             f"{counts['records']:,} records (grouping rate {result.grouping_rate:.1%}, trimming "
             f"{result.trim}) -> {out}"]
    rates = []
    for name, value in result.rates.items():
        if name in result.filled_levels:
            rates.append(f"{name} none (no priced cases; {out.name}.rates.yaml gives it the "
                         f"all-levels rate ¥{result.rate_all_levels:,.2f})")
        else:
            rates.append(f"{name} ¥{value:,.2f}")
    lines.append("Rates per level (§1.5): " + ", ".join(rates))
    if result.rejected is not None:
        lines.append(f"Rows set aside: {len(result.rejected):,}, in {out}{REJECTED_SUFFIX}")
    lines.append(f"Report: {out}.report.md; rates reform: {out}.rates.yaml")
    return lines


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value):
        if isinstance(value, float):
            return "" if np.isnan(value) else f"{value:,.8g}"
        return str(value)

    lines = ["| " + " | ".join(frame.columns) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def report_markdown(result: WeightCalibration, data_path: Path, catalogue: Catalogue,
                    out: Path, moved: int = 20, shown_coefficients: int = 30,
                    rejected_shown: int = 50) -> str:
    counts, groups = result.counts, result.groups
    lines = [f"# Weights calibrated from {data_path.name}", "",
             f"Catalogue `{out.name}` from `{data_path}` against `{catalogue.source}` "
             f"(POLICY_RULES §1). Minimum {_n_cases(result.min_cases)} (§1.2), trimming "
             f"{result.trim} (§1.3), weights and coefficients to {DECIMALS} decimals.", ""]
    if result.dropped_columns:
        lines += [f"Not carried over from `{Path(catalogue.source).name}`: "
                  + ", ".join(f"`{c}`" for c in result.dropped_columns) + f" — {DROPPED_WHY}.",
                  ""]
    warn = "" if result.grouping_rate >= rules.GROUPING_RATE_FLOOR else \
        f" — **below {rules.GROUPING_RATE_FLOOR:.0%}: weights not to be trusted (§1)**"
    lines += ["## Records", ""]
    if result.rejected is not None:
        lines.append(f"- rows set aside for problems (`--skip-bad-rows`, listed below and in "
                     f"`{out.name}{REJECTED_SUFFIX}`): {len(result.rejected):,}; the counts "
                     "below are of the other rows")
    lines += [f"- grouping rate: {result.grouping_rate:.2%} ({counts['grouped']:,} of "
              f"{counts['records']:,} records){warn}"]
    for name in REASONS.values():
        key = "dropped_" + name.split(" (")[0].replace(" ", "_")
        if counts[key]:
            codes = ", ".join(f"{c or '(empty)'} {n:,}" for c, n in result.dropped_codes[name])
            lines.append(f"- dropped, {name}: {counts[key]:,} ({codes})")
    lines += [f"- trimmed as cost outliers ({result.trim}): {counts['trimmed']:,}",
              f"- kept for the means: {counts['kept']:,}",
              f"- in groups below the minimum of {_n_cases(result.min_cases)}, not designated "
              f"(previous weight and reference mean costs kept): "
              f"{counts['cases_in_groups_below_minimum']:,}", "",
              "## Groups", ""]
    for name in rules.STATUS_NAMES:
        lines.append(f"- {name.replace('_', ' ')}: {counts['groups_' + name]:,}")
    lines += [f"- stable (at least {_n_cases(result.min_cases)}; groups without cases keep "
              f"their flag): {counts['groups_stable']:,} of {counts['groups']:,}", "",
              "## Rates per level (§1.5)", "",
              "| level | rate (Σ weights) | rate with coefficients (Σ weight × coefficient) |",
              "|---|---|---|"]
    for name, value in result.rates.items():
        if name in result.filled_levels:
            lines.append(f"| {name} | none: no priced cases (the rates reform: "
                         f"{result.rate_all_levels:,.2f}, the all-levels rate) | none |")
        else:
            lines.append(f"| {name} | {value:,.2f} | "
                         f"{result.rates_with_coefficients[name]:,.2f} |")
    lines += ["", f"`{out.name}.rates.yaml` is a reform with the first column and coefficients "
              "off; with coefficients, `rate.base_rate: null` pays the second column's kind of "
              "rate, computed from the settled or last year's cases."]
    if result.filled_levels:
        lines += ["", f"No priced case of level(s) {', '.join(result.filled_levels)}: the policy "
                  "format needs a rate for every level, so the reform gives them "
                  f"¥{result.rate_all_levels:,.2f}, {FILLED_HOW}; the file marks it. Replace it "
                  "if you know the level's rate."]
    lines.append("")
    changed = groups[np.isfinite(groups["relative_change"]) & (groups["weight_change"] != 0)]
    lines += [f"## Weights that moved most against {Path(catalogue.source).name}", ""]
    if len(changed):
        # weights are relative to this data's mean cost (§1.1): when the data's case mix differs
        # from the one the previous weights were made on, all weights move together; the groups
        # that moved against the rest are those farthest from the median change
        median = float(changed["relative_change"].median())
        top = changed.reindex((changed["relative_change"] - median).abs().sort_values(
            ascending=False, kind="stable").index).head(moved)
        lines += [f"{len(changed):,} weights changed; median change {median:+.2%} (weights are "
                  "relative to this data's mean cost, §1.1, so they may all move together). "
                  f"The {len(top)} farthest from the median change:", "",
                  _markdown_table(top[["code", "name", "status", "cases", "previous_weight",
                                       "weight", "relative_change"]])]
    else:
        lines.append("No weight changed.")
    new = groups[~np.isfinite(groups["previous_weight"]) & np.isfinite(groups["weight"])]
    if len(new):
        lines += ["", f"Newly priced groups ({len(new)}): "
                  + ", ".join(new["code"].head(30)) + (" …" if len(new) > 30 else "")]
    lines += ["", "## Coefficients (§1.6)", ""]
    if result.levels:
        clamped = groups[groups["coefficient_clamped"]]
        columns = ["code", "name", "cases"] + [f"cases_{n}" for n in result.levels] + [
            f"coefficient_{n}" for n in result.levels]
        if len(clamped):
            lines += [f"Clamped so that no lower level exceeds the level above "
                      f"({len(clamped)} group(s)):", "", _markdown_table(clamped[columns]), ""]
        else:
            lines += ["No group needed clamping.", ""]
        largest = groups.sort_values("cases", ascending=False, kind="stable").head(
            shown_coefficients)
        lines += [f"The {len(largest)} groups with the most cases (all groups in "
                  f"`{out.name}.report.csv`):", "", _markdown_table(largest[columns])]
    else:
        lines.append("Not recomputed: the data has no hospital_level column.")
    if result.rejected is not None:
        shown = result.rejected.head(rejected_shown)
        lines += ["", "## Rows set aside (--skip-bad-rows)", "",
                  f"{len(result.rejected):,} row(s) with problems were left out of the "
                  f"calibration; all of them, as read, are in `{out.name}{REJECTED_SUFFIX}`"
                  + (f" (the first {len(shown)} here)" if len(shown) < len(result.rejected)
                     else "") + ":", "", _markdown_table(shown[["row", "problems"]])]
    if result.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in result.warnings]
    return "\n".join(lines) + "\n"


def calibrate_weights(data_path: Path, catalogue_path: Path, out: Path,
                      min_cases: int = MIN_CASES, trim: str | None = None,
                      overrides_path: Path | None = None,
                      levels: tuple[str, ...] = DEFAULT_LEVELS, encoding: str | None = None,
                      columns_path: Path | None = None, errors_path: Path | None = None,
                      skip_bad_rows: bool = False) -> WeightCalibration:
    """``drgsim calibrate weights``: check ``--out`` (and ``--errors``), read, calibrate, write
    all files together.

    ``errors_path`` (``--errors``) receives every row problem of the cost data as CSV, whether
    the data is refused or its bad rows set aside (empty when there were none), or the one
    problem of a file refused whole (a missing column …), as ``drgsim settle`` writes it;
    ``skip_bad_rows`` calibrates from the other rows and writes the bad ones, as read, to
    ``CAT.csv.rejected_rows.csv`` with the other files (a stale one from an earlier run is
    removed)."""
    from sim.inputs.extract import problems_frame

    inputs = [data_path, catalogue_path] + [p for p in (overrides_path, columns_path) if p]
    paths = check_outputs(out, inputs)
    if errors_path is not None:
        target = os.path.abspath(errors_path)
        if any(target == os.path.abspath(path) for path in paths.values()):
            raise InputError("--errors", None, f"{str(errors_path)!r} is one of the files --out "
                             "writes", "a CSV path apart from the catalogue and its companions")
        check_errors_file(errors_path, inputs, Path(os.path.abspath(out)))
    if encoding is not None:
        from sim.inputs.extract import check_encoding

        encoding = check_encoding(encoding)
    catalogue = load_catalogue(catalogue_path)
    with problems_listed(errors_path, data_path):
        data = read_cost_data(data_path, levels, encoding, columns_path, skip_bad_rows)
    if data.aggregated and trim is not None and rules.Trim.parse(trim).method != "none":
        raise InputError("--trim", None, f"{trim} with aggregated data ({data_path} has one row "
                         "per group)", "--trim none, or one row per case to trim outliers")
    rule = rules.Trim.parse(DEFAULT_TRIM if trim is None else trim)
    overrides = read_overrides(overrides_path, catalogue) if overrides_path else Overrides()
    result = calibrate_catalogue(data, catalogue, min_cases, rule, overrides, levels)
    if not np.isfinite(result.rate_all_levels):
        raise InputError(str(data_path), None, f"no record fell in a priced group of "
                         f"{catalogue.source} ({result.counts['grouped']:,} of "
                         f"{result.counts['records']:,} records grouped), so there is nothing to "
                         "calibrate from", "cost data coded with the catalogue's group codes")
    result.warnings[:0] = data.warnings
    result.rejected, result.skip_bad_rows = data.rejected, skip_bad_rows
    card = source_card(result, {"cost_data": data_path, "previous_catalogue": catalogue_path,
                                "overrides": overrides_path, "columns": columns_path}, out,
                       data.aggregated, data.reading)
    fragment = rates_fragment(result, data_path, levels)
    markdown = report_markdown(result, data_path, catalogue, out)
    files = {
        paths["catalogue"]: lambda p: write_catalogue(result.table, p),
        paths["source_yaml"]: lambda p: p.write_text(card, encoding="utf-8", newline="\n"),
        paths["rates_yaml"]: lambda p: p.write_text(fragment, encoding="utf-8", newline="\n"),
        paths["report_md"]: lambda p: p.write_text(markdown, encoding="utf-8", newline="\n"),
        paths["report_csv"]: lambda p: result.groups.to_csv(p, index=False,
                                                            float_format="%.10g"),
    }
    if data.rejected is not None:
        files[paths["rejected_rows_csv"]] = lambda p: data.rejected.to_csv(
            p, index=False, encoding="utf-8-sig")
    write_files_atomically(files, "--out")
    if data.rejected is None:
        paths["rejected_rows_csv"].unlink(missing_ok=True)  # an earlier run's (checked as ours)
    if errors_path is not None:
        write_errors(errors_path, problems_frame([], None) if data.problems is None
                     else data.problems)
    return result
