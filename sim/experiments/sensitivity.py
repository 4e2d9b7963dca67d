"""Sensitivity analysis and scenario discovery on a finished sweep folder (issue 11, part 5).

Reads the folder alone (``sweep.json``, ``design.parquet``, ``results.parquet``; see
sim.experiments.sweep) — never a live model. For one year (default the last) and each chosen
*view* — ``baseline``, a reform's own levels (its label), or ``<reform>-baseline``, the paired
difference per job (the question a researcher asks about a reform) — the outcome is first averaged
over the replications of each design point: SALib's Sobol' and Morris estimators read one value
per row of the sample they drew (Saltelli's A/B/AB blocks, Morris trajectories), so replications
cannot enter as rows of their own; the share of the outcome's variance that lies between
replications of the same point is reported beside the indices (``replication_noise``) so that an
index can be read against the noise. In a sweep with an ``ensemble`` the replications differ by
behavioural parameter set as well as by seed, and the part of that spread due to the sets is
reported too (``replication_parameter_share``, :func:`draw_share`).

Indices by design:

* **Sobol'** (``SALib.analyze.sobol``): first-order S1, total ST (and S2 when the design has
  second order), each with its 95% bootstrap half-width;
* **Morris** (``SALib.analyze.morris``): μ*, σ (and μ), μ* with its 95% half-width, on the unit
  scale of the design (an elementary effect is the change in the outcome over the full range);
* **grid and Latin hypercube**: variance-based indices need a Sobol' design (the Saltelli blocks);
  instead, **standardised regression coefficients** (SRC: least squares on the standardised unit
  sample) with 95% bootstrap intervals and the R² of the fit — SRC² is a parameter's share of the
  variance only as far as the outcome is linear (R² near 1).

Groups (``SALib`` groups): a sweep file's ``groups:`` are sampled together, and Sobol'/Morris
then give one index per group. Groups given afterwards (``--groups FILE``) on a design sampled
without them: Sobol' gives bounds from the parameters' indices (ΣS1 ≤ the group's closed
first-order index; ΣST ≥ its total index); SRC gives ΣSRC²; Morris cannot (the trajectories moved
one parameter at a time) and is refused.

Scenario discovery: PRIM (Friedman and Fisher 1999), written here in numpy — peeling α = 0.05 of
the points in the box per step on the side and parameter that raise the density most, down to a
box of 5% of the points, then pasting the chosen box and dropping the restrictions that change its
density by less than a point — on the unit design with the condition
(``"reserve_months_resident < 6"``, parsed as a column, an operator and a number, never
evaluated as code) on the point means.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError, read_json, show

SWEEP_EXPECTED = "a finished folder written by drgsim sweep"
CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|==|<|>)\s*"
                       r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
OPERATORS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
             "==": np.isclose}
ALPHA, MIN_MASS, DENSITY_MIN = 0.05, 0.05, 0.8
RESAMPLES, CONFIDENCE = 200, 0.95
TAIL = 0.2  # tornado: a parameter's lowest and highest fifth of its range


# --------------------------------------------------------------------------- the folder
@dataclass
class SweepResults:
    """A finished sweep folder, read."""

    folder: Path
    meta: dict
    design: pd.DataFrame
    results: pd.DataFrame

    @property
    def method(self) -> str:
        return self.meta["method"]

    @property
    def names(self) -> list[str]:
        return [p["path"] for p in self.meta["parameters"]]

    @property
    def baseline(self) -> str:
        return self.meta["scenarios"][0]

    @property
    def reforms(self) -> list[str]:
        return list(self.meta["scenarios"][1:])

    @property
    def design_groups(self) -> dict[str, list[str]] | None:
        return (self.meta.get("design_options") or {}).get("groups") or None

    @property
    def outcome_columns(self) -> list[str]:
        skip = {"point", "replication", "seed", "scenario", "year", *self.names}
        return [c for c in self.results.columns if c not in skip]

    def unit(self) -> np.ndarray:
        """The design on [0, 1]^D: SALib's sample (``u:<path>``), or for a grid each value's
        place in its range (levels by their index)."""
        columns = []
        for parameter in self.meta["parameters"]:
            name = parameter["path"]
            if f"u:{name}" in self.design:
                columns.append(self.design[f"u:{name}"].to_numpy(float))
            elif parameter.get("levels"):
                levels = [json.dumps(v, sort_keys=True) for v in parameter["levels"]]
                index = [levels.index(json.dumps(_plain(v), sort_keys=True))
                         for v in self.design[name]]
                columns.append(np.asarray(index, float) / max(len(levels) - 1, 1))
            else:
                low, high = float(parameter["low"]), float(parameter["high"])
                columns.append((self.design[name].to_numpy(float) - low) / (high - low))
        return np.column_stack(columns)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def load_sweep_folder(folder: str | Path) -> SweepResults:
    """Read a finished sweep folder; refuse (one line, naming what is missing) a folder that is
    not a sweep's or whose sweep has not finished."""
    from sim.experiments.sweep import DESIGN, RESULTS, SWEEP_JSON, status
    from sim.store import earlier_output

    folder = Path(folder)
    if not folder.is_dir():
        problem = "does not exist" if not folder.exists() else "is not a folder"
        raise InputError(str(folder), None, problem, SWEEP_EXPECTED)
    record = earlier_output(folder)
    if not (folder / SWEEP_JSON).is_file():
        kind = (record or {}).get("kind")
        problem = (f"is the output of drgsim {kind}, not of a sweep (no {SWEEP_JSON})"
                   if kind and kind != "sweep" else f"no {SWEEP_JSON} here: not a sweep folder")
        raise InputError(str(folder), None, problem, SWEEP_EXPECTED)
    meta = read_json(folder / SWEEP_JSON, "the sweep.json drgsim sweep wrote")
    for key in ("method", "parameters", "scenarios", "outcomes", "jobs"):
        if key not in meta:
            raise InputError(str(folder / SWEEP_JSON), f"key {key}", "missing", SWEEP_EXPECTED)
    if not (folder / DESIGN).is_file():
        raise InputError(str(folder), None, f"missing {DESIGN}", SWEEP_EXPECTED)
    summary = status(folder)
    if summary["done"] < summary["jobs"]:
        failed = f", {summary['failed']:,} failed" if summary["failed"] else ""
        raise InputError(str(folder), None, f"the sweep has not finished: {summary['done']:,} of "
                         f"{summary['jobs']:,} jobs done{failed}",
                         "a finished sweep (run the same drgsim sweep command again to resume "
                         "and retry; drgsim sweep --status DIR lists failures)")
    if not (folder / RESULTS).is_file() or not summary["results"]:
        raise InputError(str(folder), None, f"{RESULTS} is missing or older than the finished "
                         "jobs", "a finished sweep (run the same drgsim sweep command again to "
                         "combine them)")
    design = pd.read_parquet(folder / DESIGN)
    results = pd.read_parquet(folder / RESULTS)
    if len(design) != meta.get("points", len(design)):
        raise InputError(str(folder / DESIGN), None, f"{len(design)} points but sweep.json "
                         f"says {meta.get('points')}", SWEEP_EXPECTED)
    return SweepResults(folder, meta, design, results)


# --------------------------------------------------------------------------- choices
def _suggest(name: str, choices: list[str]) -> str:
    from sim.inputs.behaviour import suggest

    return suggest(name, choices)


def check_outcomes(sweep: SweepResults, outcomes: list[str] | None) -> list[str]:
    columns = sweep.outcome_columns
    if not outcomes:
        return [c for c in sweep.meta["outcomes"] if c in columns] or columns
    for name in outcomes:
        if name not in columns:
            raise InputError("--outcome", None, f"unknown outcome {show(name)}",
                             "a column of this sweep's results" + _suggest(name, columns)
                             + f" (it has {', '.join(columns[:6])}"
                             + (" …)" if len(columns) > 6 else ")"))
    return list(dict.fromkeys(outcomes))


def check_year(sweep: SweepResults, year: int | None) -> int:
    years = sorted(int(y) for y in sweep.results["year"].unique())
    if year is None:
        return years[-1]
    if year not in years:
        raise InputError("--year", None, f"value {year}", "a year the sweep kept: "
                         + ", ".join(map(str, years)))
    return year


def view_names(sweep: SweepResults) -> list[str]:
    return [sweep.baseline, *sweep.reforms, *[f"{r}-{sweep.baseline}" for r in sweep.reforms]]


def check_views(sweep: SweepResults, views: list[str] | None) -> list[str]:
    """Default: the baseline, and each reform's paired difference from it."""
    if not views:
        return [sweep.baseline, *[f"{r}-{sweep.baseline}" for r in sweep.reforms]]
    known = view_names(sweep)
    for view in views:
        if view not in known:
            raise InputError("--scenario", None, f"unknown scenario {show(view)}",
                             "one of " + ", ".join(known) + _suggest(view, known))
    return list(dict.fromkeys(views))


def parse_condition(text: str, outcomes: list[str]) -> tuple[str, str, float]:
    """``"column op number"`` with op among < <= > >= ==; nothing else is accepted."""
    match = CONDITION.match(text or "")
    if not match:
        raise InputError("--condition", None, f"value {show(text)}",
                         "an outcome, an operator among < <= > >= == and a number, e.g. "
                         "\"reserve_months_resident < 6\"")
    column, operator, number = match.group(1), match.group(2), float(match.group(3))
    if column not in outcomes:
        raise InputError("--condition", None, f"unknown outcome {show(column)}",
                         "a column of this sweep's results" + _suggest(column, outcomes))
    if not math.isfinite(number):
        raise InputError("--condition", None, f"number {show(match.group(3))}", "a finite number")
    return column, operator, number


def check_groups(given: object, names: list[str], file: str, where: str = "groups"
                 ) -> dict[str, list[str]]:
    """``{group: [parameter path, ...]}``: known paths, each in one group at most; the
    parameters left out become groups of their own (SALib needs every parameter in a group)."""
    if not isinstance(given, dict) or not given:
        raise InputError(file, where, f"value {show(given)}",
                         "a mapping {group name: [parameter path, ...]}")
    seen: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for group, members in given.items():
        at = f"{where}.{group}"
        if not isinstance(group, str) or not group.strip():
            raise InputError(file, where, f"group name {show(group)}", "a name")
        if isinstance(members, str):
            members = [members]
        if not isinstance(members, list) or not members:
            raise InputError(file, at, f"value {show(members)}", "a list of parameter paths")
        for member in members:
            if member not in names:
                raise InputError(file, at, f"{show(member)} is not a parameter of the sweep",
                                 "one of " + ", ".join(names) + _suggest(str(member), names))
            if member in seen:
                raise InputError(file, at, f"{member} is already in group {seen[member]!r}",
                                 "each parameter in one group at most")
            seen[member] = group
        groups[group] = list(members)
    for name in names:
        if name not in seen:
            if name in groups:
                raise InputError(file, where, f"group {name!r} is named like a parameter "
                                 "left out of every group", "another group name")
            groups[name] = [name]
    return groups


def read_groups(path: str | Path, names: list[str]) -> dict[str, list[str]]:
    from sim.errors import check_input_file
    from sim.inputs.yamlfile import read_yaml

    check_input_file(path, "a YAML file {group: [parameter path, ...]}", max_bytes=1 << 20)
    return check_groups(read_yaml(Path(path)), names, str(path))


# --------------------------------------------------------------------------- the samples
def draw_share(table: np.ndarray) -> float:
    """Of the spread between the replications of a design point, the share due to the
    behavioural parameter sets of a sweep with an ``ensemble`` (replication r runs set r at
    every point, so sets are crossed with points): a two-way analysis of variance of the points
    × replications table, one run a cell, with the points fixed (the design) and the sets
    random. σ²_set = (MS_set − MS_residual) ÷ points (at least 0); share = σ²_set ÷ (σ²_set +
    MS_residual). The residual holds the seeds' noise and how a set's effect differs between
    points. NaN with fewer than 2 points or 2 replications, or no spread at all."""
    table = np.asarray(table, dtype=float)
    points, sets = table.shape
    if points < 2 or sets < 2 or not np.isfinite(table).all():
        return float("nan")
    grand = table.mean()
    set_means, point_means = table.mean(axis=0), table.mean(axis=1)
    ms_set = points * np.sum((set_means - grand) ** 2) / (sets - 1)
    residual = table - point_means[:, None] - set_means[None, :] + grand
    ms_residual = np.sum(residual ** 2) / ((points - 1) * (sets - 1))
    between = max((ms_set - ms_residual) / points, 0.0)
    total = between + ms_residual
    return float(between / total) if total > 0 else float("nan")


def point_outcomes(values: pd.DataFrame, points: int, outcomes: list[str]
                   ) -> tuple[pd.DataFrame, dict[str, float]]:
    """From a view's values (:func:`view_values`), one row per design point (in design order,
    ``points`` of them): the outcome averaged over replications; and per outcome the share of
    its variance between replications of a point."""
    values = values.reset_index()
    means = values.groupby("point")[outcomes].mean().reindex(range(points))
    noise = {}
    for outcome in outcomes:
        total = values[outcome].var(ddof=0)
        within = values.groupby("point")[outcome].var(ddof=0).mean()
        noise[outcome] = float(within / total) if total > 0 and within == within else 0.0
    means.insert(0, "point", means.index)
    return means.reset_index(drop=True), noise


def view_values(sweep: SweepResults, view: str, year: int, outcomes: list[str]) -> pd.DataFrame:
    """The outcomes of one view (a scenario, or ``REFORM-BASELINE``: the paired difference) in
    ``year``, indexed by (point, replication), as floats."""
    rows = sweep.results[sweep.results["year"] == year]
    keys = ["point", "replication"]
    if view.endswith(f"-{sweep.baseline}") and view not in sweep.meta["scenarios"]:
        reform = view[: -len(sweep.baseline) - 1]
        base = rows[rows["scenario"] == sweep.baseline].set_index(keys)[outcomes]
        other = rows[rows["scenario"] == reform].set_index(keys)[outcomes]
        values = other - base.reindex(other.index)
    else:
        values = rows[rows["scenario"] == view].set_index(keys)[outcomes]
    return values.astype({c: float for c in outcomes})


def ensemble_shares(values: pd.DataFrame, outcomes: list[str]) -> dict[str, float]:
    """Per outcome, :func:`draw_share` of a view's points × replications table."""
    return {outcome: draw_share(values[outcome].unstack("replication").to_numpy())
            for outcome in outcomes}


# --------------------------------------------------------------------------- indices
def _salib_problem(names: list[str], groups: dict[str, list[str]] | None) -> dict:
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    if groups:
        member_of = {m: g for g, members in groups.items() for m in members}
        problem["groups"] = [member_of[n] for n in names]
    return problem


def _row(factor: str, kind: str, index: str, value: float, conf: float = float("nan"),
         note: str = "") -> dict:
    return {"factor": factor, "kind": kind, "index": index, "value": float(value),
            "conf": float(conf), "note": note}


def sobol_indices(y: np.ndarray, names: list[str], second_order: bool,
                  groups: dict[str, list[str]] | None = None, seed: int = 1) -> list[dict]:
    """S1, ST (and S2) with 95% half-widths; a group's own indices when the design was sampled
    with ``groups``."""
    from SALib.analyze import sobol

    problem = _salib_problem(names, groups)
    result = sobol.analyze(problem, np.asarray(y, float), calc_second_order=second_order,
                           num_resamples=RESAMPLES, conf_level=CONFIDENCE, seed=seed)
    factors = list(dict.fromkeys(problem["groups"])) if groups else names  # SALib's order
    kind = "group" if groups else "parameter"
    rows = []
    for i, factor in enumerate(factors):
        rows.append(_row(factor, kind, "S1", result["S1"][i], result["S1_conf"][i]))
        rows.append(_row(factor, kind, "ST", result["ST"][i], result["ST_conf"][i]))
    if second_order:
        for i, first in enumerate(factors):
            for j in range(i + 1, len(factors)):
                rows.append(_row(f"{first} × {factors[j]}", kind, "S2", result["S2"][i, j],
                                 result["S2_conf"][i, j]))
    return rows


def morris_indices(x: np.ndarray, y: np.ndarray, names: list[str], levels: int,
                   groups: dict[str, list[str]] | None = None, seed: int = 1) -> list[dict]:
    from SALib.analyze import morris

    problem = _salib_problem(names, groups)
    result = morris.analyze(problem, np.asarray(x, float), np.asarray(y, float),
                            num_resamples=RESAMPLES, conf_level=CONFIDENCE, num_levels=levels,
                            seed=seed)
    factors = list(result["names"])
    kind = "group" if groups else "parameter"
    rows = []
    for i, factor in enumerate(factors):
        rows.append(_row(factor, kind, "mu_star", result["mu_star"][i],
                         result["mu_star_conf"][i]))
        rows.append(_row(factor, kind, "sigma", result["sigma"][i]))
        if not groups:
            rows.append(_row(factor, kind, "mu", result["mu"][i]))
    return rows


def src_indices(x: np.ndarray, y: np.ndarray, names: list[str], seed: int = 1
                ) -> tuple[list[dict], float]:
    """Standardised regression coefficients with 95% bootstrap intervals, and R²."""
    x, y = np.asarray(x, float), np.asarray(y, float)

    def fit(rows: np.ndarray) -> tuple[np.ndarray, float]:
        xs, ys = x[rows], y[rows]
        sx, sy = xs.std(axis=0), ys.std()
        if sy == 0:
            return np.full(x.shape[1], np.nan), float("nan")
        z = np.where(sx > 0, (xs - xs.mean(axis=0)) / np.where(sx > 0, sx, 1), 0.0)
        coefficients, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(z)), z]),
                                           (ys - ys.mean()) / sy, rcond=None)
        beta = coefficients[1:]
        fitted = z @ beta
        r2 = 1 - ((ys - ys.mean()) / sy - fitted).var() / 1.0
        return beta, float(r2)

    everything = np.arange(len(y))
    beta, r2 = fit(everything)
    generator = np.random.default_rng(seed)
    boot = np.array([fit(generator.integers(0, len(y), len(y)))[0] for _ in range(RESAMPLES)])
    half = (np.nanpercentile(boot, 97.5, axis=0) - np.nanpercentile(boot, 2.5, axis=0)) / 2 \
        if np.isfinite(boot).any() else np.full(len(names), np.nan)
    rows = [_row(name, "parameter", "SRC", beta[i], half[i]) for i, name in enumerate(names)]
    return rows, r2


def group_rows(rows: list[dict], groups: dict[str, list[str]], method: str) -> list[dict]:
    """Group figures from parameter indices, on a design sampled without the groups."""
    by = {(r["factor"], r["index"]): r["value"] for r in rows if r["kind"] == "parameter"}
    out = []
    for group, members in groups.items():
        if len(members) == 1:
            continue
        if method == "sobol":
            s1 = sum(by.get((m, "S1"), np.nan) for m in members)
            st = sum(by.get((m, "ST"), np.nan) for m in members)
            out.append(_row(group, "group", "S1", s1, note="sum of members' S1: a lower bound "
                            "of the group's closed first-order index"))
            out.append(_row(group, "group", "ST", min(st, 1.0) if st == st else st,
                            note="sum of members' ST: an upper bound of the group's total index"))
        else:  # SRC: the linear fit's variance share of the group
            share = sum(by.get((m, "SRC"), np.nan) ** 2 for m in members)
            out.append(_row(group, "group", "SRC2", share, note="sum of members' SRC²: the "
                            "group's share of the variance under the linear fit"))
    return out


def tornado(x: np.ndarray, y: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Mean outcome with each parameter in the lowest and highest fifth of its range."""
    rows = []
    for i, name in enumerate(names):
        u = x[:, i]
        low, high = u <= TAIL + 1e-9, u >= 1 - TAIL - 1e-9
        rows.append({"parameter": name, "mean": float(np.nanmean(y)),
                     "low": float(np.nanmean(y[low])) if low.any() else np.nan,
                     "high": float(np.nanmean(y[high])) if high.any() else np.nan,
                     "points_low": int(low.sum()), "points_high": int(high.sum())})
    table = pd.DataFrame(rows)
    table["range"] = (table["high"] - table["low"]).abs()
    return table.sort_values("range", ascending=False, na_position="last").reset_index(drop=True)


# --------------------------------------------------------------------------- PRIM
def _density(y: np.ndarray, inside: np.ndarray) -> float:
    return float(y[inside].mean()) if inside.any() else 0.0


def _limits(x: np.ndarray, inside: np.ndarray) -> np.ndarray:
    return np.column_stack([x[inside].min(axis=0), x[inside].max(axis=0)])


def prim_peel(x: np.ndarray, y: np.ndarray, alpha: float = ALPHA, min_mass: float = MIN_MASS
              ) -> list[dict]:
    """PRIM's peeling trajectory: each step removes, on one side of one parameter, about
    ``alpha`` of the points in the box — the peel that leaves the highest density — until the
    box would hold fewer than ``min_mass`` of the points or its density is 1."""
    x, y = np.asarray(x, float), np.asarray(y, bool).astype(float)
    n = len(y)
    inside = np.ones(n, bool)
    total = max(y.sum(), 1e-12)
    steps = [{"inside": inside.copy(), "limits": _limits(x, inside)}]
    while _density(y, inside) < 1.0:
        best = None
        count = int(inside.sum())
        k = max(1, int(math.floor(alpha * count)))
        for j in range(x.shape[1]):
            values = np.sort(x[inside, j])
            if values[0] == values[-1]:
                continue
            for side in ("low", "high"):
                if side == "low":
                    keep = inside & (x[:, j] > values[k - 1])
                else:
                    keep = inside & (x[:, j] < values[-k])
                kept = int(keep.sum())
                if kept == 0 or kept == count or kept < min_mass * n:
                    continue
                score = (_density(y, keep), kept)
                if best is None or score > best[0]:
                    best = (score, keep)
        if best is None:
            break
        inside = best[1]
        steps.append({"inside": inside.copy(), "limits": _limits(x, inside)})
    for step in steps:
        mine = step["inside"]
        step.update(coverage=float(y[mine].sum() / total), density=_density(y, mine),
                    mass=float(mine.mean()), points=int(mine.sum()))
    return steps


def prim_paste(x: np.ndarray, y: np.ndarray, limits: np.ndarray, alpha: float = ALPHA
               ) -> np.ndarray:
    """Pasting: widen one side of one parameter at a time by about ``alpha`` of the box's points
    while the density does not fall (and the box grows)."""
    x, y = np.asarray(x, float), np.asarray(y, bool).astype(float)
    limits = limits.copy()

    def inside_of(box: np.ndarray) -> np.ndarray:
        return np.all((x >= box[:, 0]) & (x <= box[:, 1]), axis=1)

    inside = inside_of(limits)
    while True:
        density, count = _density(y, inside), int(inside.sum())
        k = max(1, int(math.floor(alpha * count)))
        best = None
        for j in range(x.shape[1]):
            others = np.all(np.delete((x >= limits[:, 0]) & (x <= limits[:, 1]), j, axis=1),
                            axis=1)
            for side in (0, 1):
                outside = x[others & ((x[:, j] < limits[j, 0]) if side == 0
                                      else (x[:, j] > limits[j, 1])), j]
                if not len(outside):
                    continue
                nearest = np.sort(outside)[::-1][:k] if side == 0 else np.sort(outside)[:k]
                box = limits.copy()
                box[j, side] = nearest[-1]
                grown = inside_of(box)
                score = (_density(y, grown), int(grown.sum()))
                if score[0] >= density and score[1] > count and (best is None
                                                                 or score > best[0]):
                    best = (score, box, grown)
        if best is None:
            return limits
        limits, inside = best[1], best[2]


def prim_relax(x: np.ndarray, y: np.ndarray, limits: np.ndarray, full: np.ndarray,
               tolerance: float = 0.01) -> np.ndarray:
    """Drop the restrictions that do not matter: a parameter's limits go back to its full range
    when that lowers the box's density by less than ``tolerance`` (peeling on noise)."""
    y = np.asarray(y, bool).astype(float)
    limits = limits.copy()

    def density(box: np.ndarray) -> float:
        return _density(y, np.all((x >= box[:, 0]) & (x <= box[:, 1]), axis=1))

    while True:
        current = density(limits)
        best = None
        for j in range(len(limits)):
            if np.allclose(limits[j], full[j]):
                continue
            box = limits.copy()
            box[j] = full[j]
            loss = current - density(box)
            if loss < tolerance and (best is None or loss < best[0]):
                best = (loss, box)
        if best is None:
            return limits
        limits = best[1]


def choose_step(steps: list[dict], density_min: float | None) -> tuple[int, str]:
    """The box with the most coverage among those with density ≥ ``density_min`` (the first
    along the trajectory to reach it); if none does, the knee (the step farthest from the chord
    from the first to the last box in the coverage–density plane)."""
    threshold = DENSITY_MIN if density_min is None else density_min
    for index, step in enumerate(steps):
        if step["density"] >= threshold - 1e-12:
            return index, f"the first box with density ≥ {threshold:g} (the most coverage there)"
    points = np.array([[s["coverage"], s["density"]] for s in steps])
    if len(points) < 3:
        return len(steps) - 1, f"no box reaches density {threshold:g}; the last box"
    start, end = points[0], points[-1]
    chord = end - start
    length = np.hypot(*chord) or 1.0
    distance = np.abs(chord[0] * (points[:, 1] - start[1]) - chord[1] * (points[:, 0] - start[0]))
    return int(np.argmax(distance / length)), (f"no box reaches density {threshold:g}; the knee "
                                               "of the trajectory")


# --------------------------------------------------------------------------- the analysis
@dataclass
class Analysis:
    sweep: SweepResults
    year: int
    views: list[str]
    outcomes: list[str]
    method: str
    groups: dict[str, list[str]] | None
    indices: pd.DataFrame
    tornado: pd.DataFrame
    points: pd.DataFrame
    summary: dict
    trajectory: pd.DataFrame | None = None
    box: pd.DataFrame | None = None
    prim: dict = field(default_factory=dict)


def analyse(folder: str | Path, outcomes: list[str] | None = None, year: int | None = None,
            views: list[str] | None = None, groups_file: str | Path | None = None,
            condition: str | None = None, density_min: float | None = None,
            seed: int = 1) -> Analysis:
    """Indices, tornado and (with ``condition``) PRIM boxes of a finished sweep folder."""
    sweep = load_sweep_folder(folder)
    outcomes = check_outcomes(sweep, outcomes)
    year = check_year(sweep, year)
    views = check_views(sweep, views)
    names, method = sweep.names, sweep.method
    design_groups = sweep.design_groups
    groups = None
    if design_groups:
        design_groups = check_groups(design_groups, names, str(sweep.folder / "sweep.json"),
                                     "design_options.groups")
    if groups_file is not None:
        groups = read_groups(groups_file, names)
        if method in ("sobol", "morris") and design_groups and groups != design_groups:
            raise InputError(str(groups_file), None, "other groups than the design was sampled "
                             f"with ({', '.join(design_groups)})", "the sweep file's own groups "
                             "(grouped Sobol'/Morris indices need the sample drawn with them), "
                             "or no --groups")
        if method == "morris" and not design_groups:
            raise InputError(str(groups_file), None, "groups for a Morris design sampled "
                             "without them", "groups: in the sweep file before it is run "
                             "(Morris trajectories move one group at a time), or no --groups")
    elif design_groups:
        groups = design_groups
    sampled = bool(design_groups) and method in ("sobol", "morris")
    x = sweep.unit()
    second = bool((sweep.meta.get("design_options") or {}).get("second_order"))
    rows, points, noise_all, fits, sets_all = [], [], {}, {}, {}
    tornadoes = []
    for view in views:
        values = view_values(sweep, view, year, outcomes)
        means, noise = point_outcomes(values, len(sweep.design), outcomes)
        points.append(means.assign(scenario=view))
        if sweep.meta.get("ensemble"):
            sets_all.update({f"{view}/{o}": s
                             for o, s in ensemble_shares(values, outcomes).items()})
        for outcome in outcomes:
            y = means[outcome].to_numpy(float)
            noise_all[f"{view}/{outcome}"] = noise[outcome]
            here = {"scenario": view, "year": year, "outcome": outcome, "method": method}
            if not np.isfinite(y).all():
                raise InputError(str(sweep.folder / "results.parquet"), outcome,
                                 f"missing or not finite for {int((~np.isfinite(y)).sum())} "
                                 f"design points in {view}, {year}", SWEEP_EXPECTED)
            if np.nanstd(y) == 0:
                found = [_row(f, "parameter", "none", np.nan, note="the outcome does not vary")
                         for f in names]
            elif method == "sobol":
                found = sobol_indices(y, names, second, groups if sampled else None, seed)
                if groups and not sampled:
                    found += group_rows(found, groups, "sobol")
            elif method == "morris":
                found = morris_indices(x, y, names, sweep.meta["design_options"]["levels"],
                                       groups if sampled else None, seed)
            else:
                found, r2 = src_indices(x, y, names, seed)
                fits[f"{view}/{outcome}"] = r2
                found.append(_row("(all)", "fit", "R2", r2))
                if groups:
                    found += group_rows(found, groups, "src")
            rows += [{**here, **r} for r in found]
            tornadoes.append(tornado(x, y, names).assign(scenario=view, year=year,
                                                         outcome=outcome))
    indices = pd.DataFrame(rows)
    indices["low"] = indices["value"] - indices["conf"]
    indices["high"] = indices["value"] + indices["conf"]
    tornado_table = pd.concat(tornadoes, ignore_index=True)[
        ["scenario", "year", "outcome", "parameter", "mean", "low", "high", "range",
         "points_low", "points_high"]]
    point_table = pd.concat(points, ignore_index=True)
    values = sweep.design[["point", *names]]
    point_table = point_table.merge(values, on="point")[["scenario", "point", *names, *outcomes]]
    point_table.insert(2, "year", year)
    what = {"sobol": "Sobol' first-order (S1) and total (ST) indices"
                     + (" and second-order (S2)" if second else "") + ", 95% bootstrap "
                     "half-widths (SALib.analyze.sobol)",
            "morris": "Morris μ*, σ and μ on the unit scale, μ* with its 95% half-width "
                      "(SALib.analyze.morris)",
            }.get(method, f"standardised regression coefficients with 95% bootstrap intervals "
                          f"and R²: variance-based indices need a Sobol' design, this one is "
                          f"{method}")
    summary = {"folder": str(sweep.folder), "title": sweep.meta.get("title"),
               "design": method, "points": len(sweep.design),
               "replications": sweep.meta.get("replications"), "year": year,
               "scenarios": views, "outcomes": outcomes, "indices": what,
               "replications_averaged": "each outcome is averaged over the replications of a "
                                        "design point before the analysis",
               "replication_noise": noise_all,
               **({"replication_parameter_share": sets_all,
                   "ensemble": sweep.meta["ensemble"]} if sweep.meta.get("ensemble") else {}),
               "groups": groups, "groups_sampled": sampled,
               "tornado": f"mean outcome with the parameter in the lowest and highest "
                          f"{TAIL:.0%} of its range",
               "top": _top(indices, method)}
    if fits:
        summary["r2"] = fits
    analysis = Analysis(sweep, year, views, outcomes, method, groups, indices, tornado_table,
                        point_table, summary)
    if condition is not None:
        _discover(analysis, x, condition, density_min)
    return analysis


def _top(indices: pd.DataFrame, method: str) -> dict:
    """Per scenario/outcome, the factors by their main index, largest first."""
    key = {"sobol": "ST", "morris": "mu_star"}.get(method, "SRC")
    top = {}
    for (view, outcome), rows in indices.groupby(["scenario", "outcome"], sort=False):
        mine = rows[rows["index"] == key].copy()
        mine["size"] = mine["value"].abs()
        mine = mine.sort_values("size", ascending=False)
        top[f"{view}/{outcome}"] = [{"factor": r.factor, "index": key,
                                     "value": _finite(r.value), "conf": _finite(r.conf)}
                                    for r in mine.itertuples()]
    return top


def _finite(value: float) -> float | None:
    return float(value) if value == value and math.isfinite(value) else None


def _discover(analysis: Analysis, x: np.ndarray, condition: str,
              density_min: float | None) -> None:
    sweep = analysis.sweep
    column, operator, number = parse_condition(condition, sweep.outcome_columns)
    view = analysis.views[0]
    means, _ = point_outcomes(view_values(sweep, view, analysis.year, [column]),
                              len(sweep.design), [column])
    y = OPERATORS[operator](means[column].to_numpy(float), number)
    names = sweep.names
    steps = prim_peel(x, y)
    chosen, why = choose_step(steps, density_min)
    full = _limits(x, np.ones(len(x), bool))
    limits = prim_relax(x, y, prim_paste(x, y, steps[chosen]["limits"]), full)
    inside = np.all((x >= limits[:, 0]) & (x <= limits[:, 1]), axis=1)
    total = max(int(y.sum()), 1)
    trajectory = pd.DataFrame([{
        "step": i, "coverage": s["coverage"], "density": s["density"], "mass": s["mass"],
        "points": s["points"],
        "restricted": int(np.sum(np.any(np.abs(s["limits"] - full) > 1e-12, axis=1)))}
        for i, s in enumerate(steps)])
    trajectory["chosen"] = trajectory["step"] == chosen
    box_rows = []
    for j, name in enumerate(names):
        values = sweep.design[name][inside]
        numeric = pd.api.types.is_numeric_dtype(values)
        restricted = bool(np.any(np.abs(limits[j] - full[j]) > 1e-12))
        box_rows.append({
            "parameter": name, "restricted": restricted,
            "low_unit": float(limits[j, 0]), "high_unit": float(limits[j, 1]),
            "low": float(values.min()) if numeric and len(values) else None,
            "high": float(values.max()) if numeric and len(values) else None,
            "levels": None if numeric else json.dumps(sorted(set(map(str, values))),
                                                      ensure_ascii=False)})
    box = pd.DataFrame(box_rows)
    result = {"condition": f"{column} {operator} {number:g}", "scenario": view,
              "year": analysis.year, "points": len(y), "points_meeting": int(y.sum()),
              "share_meeting": float(y.mean()), "alpha": ALPHA, "min_mass": MIN_MASS,
              "density_min": DENSITY_MIN if density_min is None else density_min,
              "chosen_step": chosen, "why": why,
              "peeled": {k: steps[chosen][k] for k in ("coverage", "density", "mass")},
              "coverage": float(y[inside].sum() / total), "density": _density(
                  y.astype(float), inside), "mass": float(inside.mean()),
              "box": [{k: v for k, v in r.items() if v is not None} for r in box_rows
                      if r["restricted"]]}
    analysis.trajectory, analysis.box, analysis.prim = trajectory, box, result
    analysis.summary["prim"] = result


# --------------------------------------------------------------------------- the folder written
def write_analysis(analysis: Analysis, out: str | Path) -> Path:
    """Tables, charts and ``sensitivity.json`` into ``out`` (staged, then swapped into place)."""
    from sim.experiments.sweep import DESIGN, RESULTS, SWEEP_JSON
    from sim.report.sensitivity_charts import draw_charts
    from sim.store import RunFolder, run_record

    folder = analysis.sweep.folder
    inputs = [folder / SWEEP_JSON, folder / DESIGN, folder / RESULTS]
    with RunFolder(out, inputs=inputs) as run:
        run.write_json("run_record.json", run_record(
            inputs={"sweep": [str(p) for p in inputs]},
            parameters={k: analysis.summary[k] for k in ("year", "scenarios", "outcomes",
                                                         "groups")}
            | {"condition": analysis.prim.get("condition"),
               "density_min": analysis.prim.get("density_min")},
            seeds={"bootstrap": 1}, extra={"kind": "sensitivity"}))
        run.write_table("indices", analysis.indices)
        run.write_table("tornado", analysis.tornado)
        run.write_table("points", analysis.points)
        if analysis.trajectory is not None:
            run.write_table("prim_trajectory", analysis.trajectory)
            run.write_table("prim_box", analysis.box)
        charts = draw_charts(analysis, run.path("charts"))
        analysis.summary["charts"] = [str(p.relative_to(run.partial)) for p in charts]
        run.write_json("sensitivity.json", analysis.summary)
        return run.commit()
