"""Scenario sweeps: a design over documented parameters, run paired, stored so that nothing is lost.

A sweep file (``scenarios/sweeps/*.yaml``, :func:`load_sweep`) names a region, a baseline policy
and reforms, the parameters to vary by path (policy parameters such as ``audit.sample_rate`` and
behavioural ones such as ``behaviour.upcoding_scale``, sim.inputs.behaviour), a design (full grid,
Latin hypercube, Sobol' after Saltelli or Morris, the last three through SALib), replications,
a seed and the outcomes to keep (columns of the yearly table). It is validated whole before any
run: every error is one line naming the file, the key, the value and what was expected.

Each (design point, replication) is one **job**. A job runs the baseline and every reform with
the same seed (common random numbers, as ``drgsim compare``), each with the design point's values
for the whole run (a policy parameter's dated history is replaced by the value; a reform is then
applied on top, so its own dated changes win from their dates). The seed of a job derives from
(sweep seed, design point, replication) only — ``SeedSequence(seed, spawn_key=(point,
replication))`` — never from the worker that runs it, so every executor gives the same numbers.

The store (:class:`SweepFolder`): each finished job is one Parquet file under ``jobs/``, written
to a temporary name and renamed (atomic), then a line in ``manifest.jsonl`` (parameters, seed,
status, seconds, error). Running the same sweep on the same folder again skips the jobs whose
file exists, retries failed ones and ends with ``results.parquet``: one row per job × scenario ×
year; columns ``point, replication, seed, scenario, year``, the parameters by path, then the
outcomes. The design (``design.parquet``, with the unit-hypercube sample SALib analyses) and the
SALib problem (``sweep.json``) are written once, so a resumed sweep runs the very same points and
``drgsim sensitivity`` (issue 11, part 5) can be built on the folder alone.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError, show
from sim.inputs import behaviour as behaviour_parameters
from sim.inputs.policy import (
    SCHEMA,
    Policy,
    apply_reform,
    check_in_force,
    load_policy,
    set_values,
)
from sim.inputs.region import SCHEMES, catalogue_path, check_scale, load_region_config
from sim.inputs.yamlfile import read_yaml
from sim.model.metrics import YEARLY_COLUMNS
from sim.resources import resolve

METHODS = ("grid", "lhs", "sobol", "morris")
EXECUTORS = ("serial", "processes", "dask")
DISTRIBUTIONS = ("uniform", "normal", "triangular", "loguniform")
TOP_KEYS = {"title": "a one-line title", "region": "a region file or shipped name",
            "scale": "a population scale in (0, 100]", "start_year": "a year 1990–2100",
            "years": "a number of years 1–50", "baseline": "a policy file or shipped name",
            "reforms": "a list of reform files or shipped names (or whole policy files, run "
                       "as alternatives with the same design values and seed)",
            "parameters": "a mapping of parameter paths to ranges, levels or distributions",
            "design": "{method: grid|lhs|sobol|morris, n: …}",
            "replications": "a whole number 1–10,000", "seed": "a whole number ≥ 0",
            "outcomes": "a list of columns of the yearly table",
            "keep_years": "all or last", "description": "text",
            "ensemble": "default (the region's calibrated ensemble) or an ensemble CSV: each "
                        "replication runs its own parameter set drawn from it",
            "groups": "{group name: [parameter path, ...]} (sampled together by sobol/morris)"}
REQUIRED = ("title", "region", "parameters", "design", "outcomes")
# the fund ledger's figures, pooled and per scheme (sim.model.fund.FundLedger.close_year)
FUND_FIGURES = ("fund_revenue", "fund_drg_spending", "fund_other_spending", "fund_spending",
                "fund_balance", "accumulated_balance", "reserve_months")
DERIVED = ("upcoding_gap", "basic_share_lower_levels")  # sim.experiments.compare.add_derived
PAID = ("upcoding_paid", "audit_deducted_value")  # yuan, for the briefing's findings (issue 14)
OUTCOMES = tuple(dict.fromkeys(
    [c for c in YEARLY_COLUMNS if c != "year"] + list(PAID)
    + list(FUND_FIGURES) + [f"{name}_{s}" for name in FUND_FIGURES for s in SCHEMES]
    + ["drg_fund_payable", "ffs_fund_paid", "audit_deducted_points", "drg_share_of_fund",
       "upcoded_share_private", "upcoded_share_public"]
    + list(DERIVED)))
ID_COLUMNS = ("point", "replication", "seed", "scenario", "year")
MAX_JOBS = 1_000_000
SPEC_VERSION = 1


# --------------------------------------------------------------------------- the sweep file
@dataclass
class Parameter:
    """One varied parameter: a range (uniform), levels, or a distribution."""

    path: str
    kind: str                       # range | levels | distribution
    low: float | None = None
    high: float | None = None
    levels: list | None = None
    distribution: str = "uniform"
    mean: float | None = None
    sd: float | None = None
    mode: float | None = None
    whole: bool = False             # a count: values rounded to whole numbers

    def value(self, u: float) -> Any:
        """The parameter's value at ``u`` in [0, 1] (the unit hypercube SALib samples)."""
        from scipy import stats

        u = min(max(float(u), 0.0), 1.0)
        if self.kind == "levels":
            return self.levels[min(int(u * len(self.levels)), len(self.levels) - 1)]
        if self.distribution == "uniform":
            value = self.low + u * (self.high - self.low)
        elif self.distribution == "loguniform":
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        elif self.distribution == "triangular":
            width = self.high - self.low
            value = float(stats.triang.ppf(u, (self.mode - self.low) / width, self.low, width))
        else:  # normal, truncated at the parameter's bounds (and low/high when given)
            low = -np.inf if self.low is None else (self.low - self.mean) / self.sd
            high = np.inf if self.high is None else (self.high - self.mean) / self.sd
            value = float(stats.truncnorm.ppf(min(max(u, 1e-12), 1 - 1e-12), low, high,
                                              self.mean, self.sd))
        if self.low is not None and self.high is not None:  # no rounding past a bound
            value = min(max(value, self.low), self.high)
        return int(round(value)) if self.whole else float(value)


@dataclass
class SweepSpec:
    """A validated sweep file."""

    file: str
    title: str
    region: str
    scale: float
    start_year: int
    years: int
    baseline: str
    reforms: list[str]
    parameters: list[Parameter]
    method: str
    n: int
    design_options: dict
    replications: int
    seed: int
    outcomes: list[str]
    keep_years: str
    document: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    whole_policies: dict[str, Policy] = field(default_factory=dict)  # reforms that are policies
    ensemble: str | None = None     # replication r runs draws[r] (sim.experiments.draws)
    draws: list[dict] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [p.path for p in self.parameters]

    def identity(self) -> str:
        """SHA-256 of what the sweep is (its parsed file, not its path or comments)."""
        text = json.dumps({"version": SPEC_VERSION, **self.document}, sort_keys=True,
                          default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _whole(value: object, low: int, high: int, fail: Callable[[str, str], None],
           expected: str) -> int:
    if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
        fail(f"value {show(value)}", expected)
    return int(value)


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file whole (a path or a shipped name in ``scenarios/sweeps``)."""
    from sim.experiments.compare import is_policy_file

    path = resolve(str(path), "sweeps", ".yaml")
    file = str(path)
    document = read_yaml(path)

    def fail_at(where: str | None) -> Callable[[str, str], None]:
        def fail(problem: str, expected: str) -> None:
            raise InputError(file, where, problem, expected)
        return fail

    if not isinstance(document, dict):
        fail_at(None)(f"top level is {show(document)}", "a mapping (a sweep)")
    for key in document:
        if key not in TOP_KEYS:
            close = behaviour_parameters.suggest(str(key), TOP_KEYS)
            fail_at(f"key {key!r}")("unknown key", "one of " + ", ".join(TOP_KEYS) + close)
    for key in REQUIRED:
        if key not in document:
            fail_at(f"key {key!r}")("missing", TOP_KEYS[key])
    title = document["title"]
    if not isinstance(title, str) or not title.strip() or "\n" in title.strip():
        fail_at("title")(f"value {show(title)}", "a one-line title")
    region = document["region"]
    if not isinstance(region, str) or not region.strip():
        fail_at("region")(f"value {show(region)}", TOP_KEYS["region"])
    scale = document.get("scale", 1.0)
    if not (_number(scale) and 0 < scale <= 100):
        fail_at("scale")(f"value {show(scale)}", TOP_KEYS["scale"])
    start_year = _whole(document.get("start_year", 2023), 1990, 2100, fail_at("start_year"),
                        TOP_KEYS["start_year"])
    years = _whole(document.get("years", 5), 1, 50, fail_at("years"), TOP_KEYS["years"])
    baseline = document.get("baseline", "point")
    if not isinstance(baseline, str) or not baseline.strip():
        fail_at("baseline")(f"value {show(baseline)}", TOP_KEYS["baseline"])
    reforms = document.get("reforms") or []
    if isinstance(reforms, str):
        reforms = [reforms]
    if not isinstance(reforms, list) or not all(isinstance(r, str) and r.strip()
                                                for r in reforms):
        fail_at("reforms")(f"value {show(reforms)}", TOP_KEYS["reforms"])
    if len(set(reforms)) != len(reforms):
        twice = next(r for r in reforms if reforms.count(r) > 1)
        fail_at("reforms")(f"{twice!r} is listed twice", "each reform once")
    replications = _whole(document.get("replications", 1), 1, 10_000,
                          fail_at("replications"), TOP_KEYS["replications"])
    seed = _whole(document.get("seed", 1), 0, 2**63 - 1, fail_at("seed"), TOP_KEYS["seed"])
    keep_years = document.get("keep_years", "all")
    if keep_years not in ("all", "last"):
        fail_at("keep_years")(f"value {show(keep_years)}", TOP_KEYS["keep_years"])

    # the region and the policies: read now, so that a wrong name is an error before any run
    def beside(name: str, kind: str) -> str:
        near = path.parent / name
        return str(near) if near.is_file() else name

    region = beside(region, "regions")
    config, region_path = _named(lambda: load_region_config(region), file, "region")
    baseline = beside(baseline, "policies")
    policy = _named(lambda: load_policy(resolve(baseline, "policies", ".yaml")), file,
                    "baseline")
    reform_paths = []
    for index, reform in enumerate(reforms):
        reform_path = _named(lambda r=reform: resolve(beside(r, "reforms"), "reforms", ".yaml"),
                             file, f"reforms[{index}]")
        if _named(lambda p=reform_path: is_policy_file(p), file, f"reforms[{index}]"):
            # a whole policy is an alternative to the baseline, run with the same design values
            # and seed (as in drgsim compare); the swept paths must be its parameters too
            whole = _named(lambda p=reform_path: load_policy(p), file, f"reforms[{index}]")
            missing = [path for path in document.get("parameters") or {}
                       if not behaviour_parameters.is_behaviour(str(path))
                       and str(path) not in whole.parameters]
            if missing:
                fail_at(f"reforms[{index}]")(
                    f"{str(reform_path)!r} is a whole policy ({whole.method} method) without "
                    f"the swept parameter {missing[0]}",
                    "a reform on the baseline, or a policy that has every swept parameter")
        else:
            _named(lambda p=reform_path: load_policy(resolve(baseline, "policies", ".yaml"),
                                                     [p]), file, f"reforms[{index}]")
        reform_paths.append(str(reform_path))
    _named(lambda: check_scale(config, scale), file, "scale")

    parameters = _parameters(document["parameters"], policy, file)
    method, n, options = _design(document["design"], parameters, file)
    if "groups" in document:  # SALib groups (drgsim sensitivity, sim.experiments.sensitivity)
        from sim.experiments.sensitivity import check_groups

        options["groups"] = check_groups(document["groups"], [p.path for p in parameters], file)
    outcomes = document["outcomes"]
    if not isinstance(outcomes, list) or not outcomes:
        fail_at("outcomes")(f"value {show(outcomes)}", TOP_KEYS["outcomes"])
    for index, outcome in enumerate(outcomes):
        if outcome not in OUTCOMES:
            fail_at(f"outcomes[{index}]")(
                f"unknown outcome {show(outcome)}", "a column of the yearly table"
                + behaviour_parameters.suggest(str(outcome), OUTCOMES)
                + " (see docs/ODD.md, Observation)")
    if len(set(outcomes)) != len(outcomes):
        fail_at("outcomes")("an outcome is listed twice", "each outcome once")
    spec = SweepSpec(file, title.strip(), str(region_path), float(scale), start_year, years,
                     str(resolve(baseline, "policies", ".yaml")), reform_paths, parameters,
                     method, n, options, replications, seed, list(outcomes), keep_years)
    jobs = design_size(spec) * replications
    if jobs > MAX_JOBS:
        fail_at("design")(f"{jobs:,} jobs (design points × replications)",
                          f"at most {MAX_JOBS:,} jobs")
    spec.whole_policies = {path: load_policy(Path(path)) for path in reform_paths
                           if is_policy_file(Path(path))}
    if "ensemble" in document:  # parameter uncertainty: one ensemble member per replication
        from sim.experiments.draws import draw_sets, load_ensemble, shipped_ensemble

        given = document["ensemble"]
        if not isinstance(given, str) or not given.strip():
            fail_at("ensemble")(f"value {show(given)}", TOP_KEYS["ensemble"])
        ensemble_path = (shipped_ensemble(region_path) if given == "default"
                         else Path(beside(given, "ensembles")))
        if ensemble_path is None:
            fail_at("ensemble")(f"no calibrated ensemble ships for region "
                                f"{Path(region_path).stem}", "an ensemble CSV file")
        table = _named(lambda: load_ensemble(ensemble_path), file, "ensemble")
        spec.ensemble = str(ensemble_path)
        spec.draws = draw_sets(table, replications, seed)
    spec.document = {k: v for k, v in document.items() if k not in ("title", "description")}
    spec.warnings = _overridden_by_reforms(spec)
    for scenario_policy in [policy]:
        _named(lambda p=scenario_policy: check_in_force(p, start_year), file, "start_year")
    return spec


def _named(call: Callable[[], Any], file: str, key: str) -> Any:
    """Call a loader; its one-line error is prefixed by the sweep file and key that named it."""
    try:
        return call()
    except InputError as error:
        inner = ", ".join(part for part in (error.file, error.where) if part)
        raise InputError(file, key, f"{inner}: {error.problem}" if inner else error.problem,
                         error.expected) from None


def _parameters(tree: object, policy: Policy, file: str) -> list[Parameter]:
    if not isinstance(tree, dict) or not tree:
        raise InputError(file, "parameters", f"value {show(tree)}", TOP_KEYS["parameters"])
    known = [p for p in SCHEMA if p in policy.parameters] + behaviour_parameters.behaviour_paths()
    parameters = []
    for path, given in tree.items():
        path = str(path)
        where = f"parameters.{path}"

        def fail(problem: str, expected: str, where: str = where) -> None:
            raise InputError(file, where, problem, expected)

        if path not in known:
            problem = ("is not a parameter of the baseline policy "
                       f"({policy.method} method)" if path in SCHEMA else "unknown parameter")
            fail(problem, "a documented parameter path" + behaviour_parameters.suggest(
                path, known))
        behaviour = behaviour_parameters.is_behaviour(path)
        if behaviour:
            kind = behaviour_parameters.kind(path)
            low_bound, high_bound = behaviour_parameters.bounds(path)

            def check(value, fail=fail, path=path):
                behaviour_parameters.check_behaviour_value(path, value, fail)
        else:
            spec = SCHEMA[path]
            kind, low_bound, high_bound = spec.kind, spec.low, spec.high

            def check(value, fail=fail, path=path):
                from sim.inputs.policy import check_value
                check_value(path, value, policy.levels, fail)
        scalar = kind in ("number", "integer")
        if not isinstance(given, dict) or not given:
            fail(f"value {show(given)}", "{low, high}, {levels: [...]} or {distribution: …}")
        keys = set(given)
        if "levels" in given:
            if keys != {"levels"}:
                fail(f"keys {sorted(keys)}", "levels alone: {levels: [...]}")
            levels = given["levels"]
            if not isinstance(levels, list) or len(levels) < 2:
                fail(f"levels {show(levels)}", "a list of at least 2 values")
            for value in levels:
                check(value, lambda problem, expected, v=value: fail(
                    f"level {show(v)}: {problem}", expected))
            if len({json.dumps(v, sort_keys=True) for v in levels}) != len(levels):
                fail("a level is listed twice", "distinct levels")
            parameters.append(Parameter(path, "levels", levels=list(levels)))
            continue
        if not scalar:
            fail(f"a range for a parameter that holds {kind}",
                 "{levels: [...]} (only numbers take ranges and distributions)")
        distribution = given.get("distribution", "uniform")
        if distribution not in DISTRIBUTIONS:
            fail(f"distribution {show(distribution)}", "one of " + ", ".join(DISTRIBUTIONS))
        allowed = {"uniform": {"low", "high"}, "loguniform": {"low", "high"},
                   "triangular": {"low", "mode", "high"},
                   "normal": {"mean", "sd", "low", "high"}}[distribution]
        needed = allowed if distribution != "normal" else {"mean", "sd"}
        extra = keys - allowed - {"distribution"}
        if extra:
            fail(f"unknown key {sorted(extra)[0]!r} for a {distribution} range",
                 ", ".join(sorted(allowed)))
        missing = needed - keys
        if missing:
            fail(f"missing {sorted(missing)[0]}", f"{', '.join(sorted(needed))} for a "
                 f"{distribution} range")
        for key in allowed & keys:
            if not _number(given[key]):
                fail(f"{key} {show(given[key])} is not a number", "a finite number")
        low, high = given.get("low"), given.get("high")
        if low is not None and high is not None and not low < high:
            fail(f"low {low} is not below high {high}", "low < high")
        for key in ("low", "high", "mean", "mode"):
            if key in given:
                check(given[key], lambda problem, expected, k=key: fail(
                    f"{k}: {problem}", expected))
        if distribution == "triangular" and not low <= given["mode"] <= high:
            fail(f"mode {given['mode']} is outside [{low}, {high}]", "low ≤ mode ≤ high")
        if distribution == "loguniform" and low <= 0:
            fail(f"low {low} of a loguniform range", "low > 0")
        if distribution == "normal":
            if given["sd"] <= 0:
                fail(f"sd {given['sd']}", "sd > 0")
            low = low if low is not None else low_bound  # truncated at the bounds
            high = high if high is not None else high_bound
        parameters.append(Parameter(
            path, "range" if distribution == "uniform" else "distribution", low=low, high=high,
            distribution=distribution, mean=given.get("mean"), sd=given.get("sd"),
            mode=given.get("mode"), whole=kind == "integer"))
    return parameters


def _design(given: object, parameters: list[Parameter], file: str) -> tuple[str, int, dict]:
    if not isinstance(given, dict):
        raise InputError(file, "design", f"value {show(given)}", TOP_KEYS["design"])

    def fail(where: str, problem: str, expected: str) -> None:
        raise InputError(file, where, problem, expected)

    method = given.get("method")
    if method not in METHODS:
        fail("design.method", f"value {show(method)}", "one of " + ", ".join(METHODS)
             + behaviour_parameters.suggest(str(method), METHODS))
    allowed = {"grid": {"method", "n"}, "lhs": {"method", "n"},
               "sobol": {"method", "n", "second_order"},
               "morris": {"method", "n", "levels"}}[method]
    extra = set(given) - allowed
    if extra:
        fail(f"design.{sorted(extra)[0]}", f"unknown key for the {method} design",
             ", ".join(sorted(allowed)))
    ranges = [p for p in parameters if p.kind != "levels"]
    n = given.get("n")
    if method == "grid":
        if ranges and n is None:
            fail("design.n", "missing", "the number of values per range in the grid (≥ 2)")
        if n is not None and not (isinstance(n, int) and not isinstance(n, bool)
                                  and 2 <= n <= 1000):
            fail("design.n", f"value {show(n)}", "values per range in the grid, 2–1,000")
        for p in ranges:
            if p.kind == "distribution":
                fail(f"parameters.{p.path}", f"a {p.distribution} distribution in a grid",
                     "{low, high} or {levels: [...]} (a grid has no distributions)")
        return method, int(n or 0), {}
    if not (isinstance(n, int) and not isinstance(n, bool) and n >= 1):
        fail("design.n", f"value {show(n)}", f"a whole number ≥ 1 ({_n_meaning(method)})")
    options: dict = {}
    if method == "sobol":
        if n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            fail("design.n", f"value {n} is not a power of 2",
                 f"a power of 2 for Sobol' sampling (e.g. {lower} or {lower * 2})")
        second = given.get("second_order", False)
        if not isinstance(second, bool):
            fail("design.second_order", f"value {show(second)}", "true or false")
        options["second_order"] = second
    if method == "morris":
        levels = given.get("levels", 4)
        if not (isinstance(levels, int) and not isinstance(levels, bool) and levels >= 2
                and levels % 2 == 0):
            fail("design.levels", f"value {show(levels)}", "an even number of levels ≥ 2 "
                 "(Morris grid)")
        options["levels"] = levels
    if method in ("sobol", "morris") and len(parameters) < 2:
        fail("parameters", f"{len(parameters)} parameter", f"at least 2 parameters for {method}")
    return method, n, options


def _n_meaning(method: str) -> str:
    return {"lhs": "design points", "sobol": "base samples N; runs N × (D + 2)",
            "morris": "trajectories; runs n × (D + 1)"}[method]


def _overridden_by_reforms(spec: SweepSpec) -> list[str]:
    """A reform that changes a swept parameter overrides the sweep's value from its date on."""
    warnings = []
    swept = set(spec.names)
    for reform in spec.reforms:
        changes = (read_yaml(Path(reform)) or {}).get("changes") or {}
        for path in sorted(swept & {str(p) for p in changes}):
            dates = ", ".join(str(d) for d in changes[path])
            warnings.append(f"{spec.file}: reform {Path(reform).stem} sets {path} (from "
                            f"{dates}), so in that scenario the swept values of {path} give way "
                            "to the reform's from then on")
    return warnings


# --------------------------------------------------------------------------- the design
def design_size(spec: SweepSpec) -> int:
    """Number of design points."""
    d = len(spec.design_options.get("groups") or spec.parameters)
    if spec.method == "grid":
        return math.prod(len(p.levels) if p.kind == "levels" else spec.n
                         for p in spec.parameters)
    if spec.method == "lhs":
        return spec.n
    if spec.method == "sobol":
        return spec.n * (2 * d + 2 if spec.design_options["second_order"] else d + 2)
    return spec.n * (d + 1)


def salib_problem(spec: SweepSpec) -> dict:
    """The SALib problem of the unit hypercube the design samples (the values at each point:
    :meth:`Parameter.value`)."""
    problem = {"num_vars": len(spec.parameters), "names": spec.names,
               "bounds": [[0.0, 1.0]] * len(spec.parameters)}
    groups = spec.design_options.get("groups")
    if groups and spec.method in ("sobol", "morris"):
        problem["groups"] = [next(g for g, members in groups.items() if name in members)
                             for name in spec.names]
    return problem


def make_design(spec: SweepSpec) -> pd.DataFrame:
    """Design points: ``point``, the unit sample ``u:<path>`` (not for a grid) and the values
    by path. SALib's samplers are seeded with the sweep seed, so the design is reproducible."""
    names = spec.names
    if spec.method == "grid":
        axes = [p.levels if p.kind == "levels" else
                [p.value(u) for u in np.linspace(0.0, 1.0, spec.n)] for p in spec.parameters]
        rows = [dict(zip(names, values, strict=True)) for values in itertools.product(*axes)]
        design = pd.DataFrame(rows, columns=names)
        design.insert(0, "point", np.arange(len(design)))
        return design
    problem = salib_problem(spec)
    seed = spec.seed % (2**32)
    if spec.method == "lhs":
        from SALib.sample import latin

        unit = latin.sample(problem, spec.n, seed=seed)
    elif spec.method == "sobol":
        from SALib.sample import sobol

        unit = sobol.sample(problem, spec.n, calc_second_order=spec.design_options[
            "second_order"], seed=seed)
    else:
        from SALib.sample import morris

        unit = morris.sample(problem, spec.n, num_levels=spec.design_options["levels"],
                             seed=seed)
    design = pd.DataFrame({"point": np.arange(len(unit))})
    for index, parameter in enumerate(spec.parameters):
        design[f"u:{parameter.path}"] = unit[:, index]
    for index, parameter in enumerate(spec.parameters):
        design[parameter.path] = [parameter.value(u) for u in unit[:, index]]
    return design


def job_seed(seed: int, point: int, replication: int) -> int:
    """The seed of a job: from (sweep seed, design point, replication) only."""
    sequence = np.random.SeedSequence(seed, spawn_key=(point, replication))
    return int(sequence.generate_state(1)[0])


def job_name(point: int, replication: int) -> str:
    return f"p{point:06d}-r{replication:04d}"


def point_values(design: pd.DataFrame, spec: SweepSpec, point: int) -> dict[str, Any]:
    values = {}
    for parameter in spec.parameters:
        value = design[parameter.path].iloc[point]  # by column: a row would upcast ints
        values[parameter.path] = value.item() if isinstance(value, np.generic) else value
    return values


# --------------------------------------------------------------------------- one job
@dataclass
class Job:
    """One design point × replication: every scenario's policy, ready to run (picklable)."""

    point: int
    replication: int
    seed: int
    values: dict[str, Any]
    config: dict
    scenarios: list[tuple[str, Policy]]
    years: int
    start_year: int
    scale: float
    outcomes: list[str]
    keep_years: str

    @property
    def name(self) -> str:
        return job_name(self.point, self.replication)


def scenario_labels(spec: SweepSpec) -> list[str]:
    """``baseline`` and each reform's file name without suffix (made unique)."""
    labels = ["baseline"]
    for reform in spec.reforms:
        label, suffix = Path(reform).stem, 2
        while label in labels:
            label, suffix = f"{Path(reform).stem}_{suffix}", suffix + 1
        labels.append(label)
    return labels


def build_policies(spec: SweepSpec, base: Policy, values: dict[str, Any],
                   replication: int = 0) -> list[tuple[str, Policy]]:
    """Every scenario's policy at a design point: the baseline with the point's values for the
    whole run, then each reform applied on top (paired scenarios, one seed). With an ensemble,
    the replication's parameter set comes first and the point's swept values over it."""
    if spec.draws:
        values = {**spec.draws[replication]["values"], **values}
    swept = copy.deepcopy(base)
    set_values(swept, values, f"{spec.file} (design point)")
    check_in_force(swept, spec.start_year)
    policies = [("baseline", swept)]
    for label, reform in zip(scenario_labels(spec)[1:], spec.reforms, strict=True):
        whole = spec.whole_policies.get(reform)
        if whole is not None:  # an alternative policy: the point's values on it
            policy = copy.deepcopy(whole)
            set_values(policy, values, f"{spec.file} (design point, {label})")
        else:
            policy = copy.deepcopy(swept)
            apply_reform(policy, Path(reform))
        check_in_force(policy, spec.start_year)
        policies.append((label, policy))
    return policies


def outcome_columns(yearly: pd.DataFrame, outcomes: list[str]) -> list[str]:
    """Each outcome, and its per-scheme columns where the yearly table has them."""
    columns = []
    for name in outcomes:
        columns.append(name)
        columns += [f"{name}_{s}" for s in SCHEMES if f"{name}_{s}" in yearly.columns
                    and f"{name}_{s}" not in outcomes]
    return list(dict.fromkeys(columns))


def run_sweep_job(job: Job) -> dict:
    """Run a job's scenarios (same seed) and return its rows, or its error; never raises, so a
    failing job is recorded and the sweep goes on."""
    started = time.perf_counter()
    try:
        from sim.experiments.compare import add_derived, run_job

        frames = []
        for label, policy in job.scenarios:
            tables = run_job(job.config, policy, job.years, job.start_year, job.seed, job.scale)
            raw = {"yearly": tables["yearly"].copy()}
            add_derived(raw)
            yearly = raw["yearly"]
            if job.keep_years == "last":
                yearly = yearly[yearly["year"] == yearly["year"].max()]
            kept = yearly[["year", *outcome_columns(yearly, job.outcomes)]].copy()
            kept.insert(0, "scenario", label)
            frames.append(kept)
        rows = pd.concat(frames, ignore_index=True)
        for position, (name, value) in enumerate(job.values.items()):
            rows.insert(2 + position, name, _cell(value))
        for position, (name, value) in enumerate((("point", job.point),
                                                  ("replication", job.replication),
                                                  ("seed", job.seed))):
            rows.insert(position, name, value)
        # point, replication, seed, scenario, year, parameters…, outcomes…
        order = [*ID_COLUMNS, *job.values, *[c for c in rows.columns
                                             if c not in ID_COLUMNS and c not in job.values]]
        return {"status": "done", "rows": rows[order],
                "seconds": time.perf_counter() - started}
    except Exception as error:  # noqa: BLE001 - recorded with its error, the sweep goes on
        text = " ".join(f"{type(error).__name__}: {error}".split())[:500]
        last = traceback.extract_tb(error.__traceback__)[-1:]
        where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
        return {"status": "failed", "error": text + where,
                "seconds": time.perf_counter() - started}


def _cell(value: Any) -> Any:
    """A parameter value as one table cell (a list or mapping as its JSON text)."""
    return json.dumps(value) if isinstance(value, list | dict) else value


# --------------------------------------------------------------------------- the store
MANIFEST, RESULTS, SWEEP_JSON, DESIGN = ("manifest.jsonl", "results.parquet", "sweep.json",
                                         "design.parquet")
OUTPUTS = ["run_record.json", SWEEP_JSON, "spec.yaml", DESIGN, MANIFEST, "jobs", RESULTS,
           "sensitivity",  # drgsim sensitivity's default --out
           "calibration"]  # drgsim calibrate behaviour's analysis of its fit sweep


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    temporary = path.with_name(f"{path.name}.partial-{os.getpid()}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _write_json(path: Path, data: dict) -> None:
    from sim.store import _json_default

    def write(target: Path) -> None:
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2, default=_json_default)
            handle.write("\n")
    _write_atomically(path, write)


def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    _write_atomically(path, lambda target: frame.to_parquet(target, index=False))


class SweepFolder:
    """A sweep's folder: owned by drgsim, resumable (see module docstring)."""

    def __init__(self, out: str | Path, spec: SweepSpec, inputs: list[Path],
                 create_parent: bool = False):
        from sim.store import check_output_folder

        self.given = Path(out)
        self.path = Path(os.path.abspath(out))
        check_output_folder(self.given, "--out", inputs, create_parent)
        self.identity = spec.identity()
        self.input_hashes = _hashes(inputs)
        if self.path.is_dir() and any(self.path.iterdir()):
            self._check_same_sweep()

    def _check_same_sweep(self) -> None:
        from sim.errors import read_json
        from sim.store import earlier_output

        meta_path = self.path / SWEEP_JSON
        if not meta_path.is_file() and (earlier_output(self.path) or {}).get("kind") == "sweep":
            return  # a sweep killed while it opened its folder: start it again
        if not meta_path.is_file():
            raise InputError("--out", None, f"{str(self.given)!r} is the output of another "
                             "drgsim command, not of a sweep",
                             "a new folder, an empty folder or this sweep's own earlier --out")
        meta = read_json(meta_path, "the sweep.json drgsim sweep wrote")
        if meta.get("identity") != self.identity:
            raise InputError("--out", None, f"{str(self.given)!r} holds another sweep "
                             f"({meta.get('spec_file')!r}, a different spec)",
                             "a new folder, an empty folder or the same sweep's earlier --out")
        changed = [role for role, digest in self.input_hashes.items()
                   if meta.get("inputs", {}).get(role) != digest]
        if changed:
            raise InputError("--out", None, f"{str(self.given)!r} holds this sweep run with "
                             f"other inputs ({changed[0]} changed since)",
                             "a new --out (finished runs would not match the changed input)")

    @property
    def jobs(self) -> Path:
        return self.path / "jobs"

    def open(self, spec: SweepSpec, design_maker: Callable[[], pd.DataFrame],
             record: dict, create_parent: bool) -> pd.DataFrame:
        """Create the folder (or reopen it) and return the design (made once, then read)."""
        if create_parent:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.mkdir(exist_ok=True)
        if not (self.path / "run_record.json").is_file():  # first: the folder is drgsim's
            _write_json(self.path / "run_record.json", {**record, "outputs": OUTPUTS})
        self.jobs.mkdir(exist_ok=True)
        for leftover in self.jobs.glob("*.partial-*"):  # a killed sweep's unfinished write
            leftover.unlink(missing_ok=True)
        if (self.path / DESIGN).is_file() and (self.path / SWEEP_JSON).is_file():
            return pd.read_parquet(self.path / DESIGN)
        design = design_maker()
        _write_parquet(self.path / DESIGN, design)
        spec_copy = self.path / "spec.yaml"
        _write_atomically(spec_copy, lambda target: target.write_bytes(
            Path(spec.file).read_bytes()))
        _write_json(self.path / SWEEP_JSON, {
            "identity": self.identity, "spec_file": spec.file, "title": spec.title,
            "inputs": self.input_hashes, "spec": spec.document,
            "method": spec.method, "n": spec.n, "design_options": spec.design_options,
            "parameters": [vars(p) for p in spec.parameters],
            "salib_problem": salib_problem(spec), "points": len(design),
            "replications": spec.replications, "jobs": len(design) * spec.replications,
            "scenarios": scenario_labels(spec), "outcomes": spec.outcomes,
            "seed": spec.seed, "seeds": "SeedSequence(seed, spawn_key=(point, replication))",
            "start_year": spec.start_year, "years": spec.years, "scale": spec.scale,
            "ensemble": spec.ensemble,
            "draw_members": [draw["member"] for draw in spec.draws]})
        return design

    def done(self) -> set[str]:
        return {p.name[: -len(".parquet")] for p in self.jobs.glob("p*-r*.parquet")}

    def record(self, job_row: dict, rows: pd.DataFrame | None) -> None:
        """A finished job: its rows (atomic), then its manifest line."""
        if rows is not None:
            _write_parquet(self.jobs / f"{job_row['job']}.parquet", rows)
        manifest = self.path / MANIFEST
        with open(manifest, "a+b") as handle:  # a line cut by a kill is ended, then ignored
            handle.seek(0, os.SEEK_END)
            if handle.tell():
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")
            handle.write((json.dumps(job_row, default=str, ensure_ascii=False) + "\n")
                         .encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    def combine(self, names: list[str]) -> pd.DataFrame:
        """``results.parquet`` from the finished jobs, in design order."""
        frames = [pd.read_parquet(self.jobs / f"{name}.parquet") for name in names
                  if (self.jobs / f"{name}.parquet").is_file()]
        results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=list(ID_COLUMNS))
        _write_parquet(self.path / RESULTS, results)
        return results


def _hashes(inputs: list[Path]) -> dict[str, str]:
    from sim.inputs.catalogue import file_sha256

    return {str(Path(p).name): file_sha256(Path(p)) for p in inputs}


def read_manifest(folder: Path) -> list[dict]:
    """The manifest's rows (a line cut short by a kill is skipped)."""
    rows = []
    path = folder / MANIFEST
    if not path.is_file():
        return rows
    for line in path.read_text("utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "job" in row:
            rows.append(row)
    return rows


def status(folder: str | Path) -> dict:
    """Done, failed and remaining jobs of a sweep folder (``drgsim sweep --status``)."""
    from sim.errors import read_json

    folder = Path(folder)
    meta_path = folder / SWEEP_JSON
    if not meta_path.is_file():
        raise InputError(str(folder), None, "no sweep.json here", "a folder written by "
                         "drgsim sweep")
    meta = read_json(meta_path, "the sweep.json drgsim sweep wrote")
    done = {p.name[: -len(".parquet")] for p in (folder / "jobs").glob("p*-r*.parquet")}
    last: dict[str, dict] = {}
    for row in read_manifest(folder):
        last[row["job"]] = row
    failed = {name: row for name, row in last.items()
              if row.get("status") == "failed" and name not in done}
    total = int(meta["jobs"])
    results = folder / RESULTS
    return {"title": meta.get("title"), "jobs": total, "done": len(done), "failed": len(failed),
            "remaining": total - len(done) - len(failed),
            "errors": [{"job": k, "error": v.get("error")} for k, v in sorted(failed.items())],
            "results": results.is_file() and results.stat().st_mtime >= max(
                [p.stat().st_mtime for p in (folder / "jobs").glob("*.parquet")] or [0]),
            "seconds": sum(float(r.get("seconds") or 0) for r in last.values())}


# --------------------------------------------------------------------------- executors
MAX_REBUILDS = 3       # a process pool broken by a dead worker is rebuilt at most this often
MAX_LOST = 3           # a Dask job whose future was lost is resubmitted at most this often
DASK_RETRIES = 2       # dask's own retries of a job that raised outside run_sweep_job
CONNECT_TIMEOUT = 10   # seconds to reach a --scheduler before giving up


# A LocalCluster's own background work, which competes with the jobs for the cores (issue 11:
# Dask's overhead against processes). Idle, 2 workers, measured as CPU seconds per second:
# 11.4% of a core with Dask's defaults; 8.8% without the workers' statistical profiler (it
# samples every running thread's stack every 10 ms, for a dashboard the sweep does not open);
# 4.2% with the event loops' tick (a watchdog that warns when a loop is blocked) every second
# instead of every 20 ms. Neither changes what a job computes. A cluster given by --scheduler
# keeps its own configuration (README, "A sweep on a Dask cluster").
LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False,
                        "distributed.admin.tick.interval": "1s"}


class WorkersLost(RuntimeError):
    """The worker processes kept dying: the sweep stops (what is stored stays; a rerun resumes)."""


class WorkerPool:
    """Where jobs run, and what happens when a worker dies under one.

    ``serial``: in this process. ``processes``: a ``ProcessPoolExecutor``; a worker process that
    dies breaks the whole pool, so it is rebuilt and its unfinished jobs resubmitted (at most
    :data:`MAX_REBUILDS` times). ``dask``: dask.distributed's ``concurrent.futures`` executor on
    a ``scheduler`` address, or on a ``LocalCluster`` (processes, one thread each) closed with
    the pool; the scheduler itself moves a dead worker's job to another worker (its
    ``allowed-failures``), a job that killed too many workers comes back as ``KilledWorker`` and
    is recorded as failed, a lost (cancelled) future is resubmitted. Any other
    ``concurrent.futures.Executor`` is used as it is."""

    def __init__(self, kind: str | Executor, workers: int | None = None,
                 scheduler: str | None = None):
        self.kind = kind if isinstance(kind, str) else "executor"
        self.workers = workers
        self.executor: Executor | None = kind if isinstance(kind, Executor) else None
        self.client = self.cluster = None
        self._config = None
        self.rebuilds = 0
        self._threads: tuple[float, int] = (0.0, 0)
        if self.kind == "processes":
            self.executor = ProcessPoolExecutor(max_workers=self._count())
        elif self.kind == "dask":
            self._start_dask(scheduler)
        elif self.kind not in ("serial", "executor"):
            raise InputError("--executor", None, f"value {show(kind)}",
                             "serial, processes or dask")

    def _count(self) -> int:
        return self.workers or os.cpu_count() or 1

    def _start_dask(self, scheduler: str | None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("--executor", None, "dask: dask.distributed is not installed",
                             "pip install 'drgsim[cluster]' (or --executor processes)") from None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=CONNECT_TIMEOUT)
            except Exception as error:  # noqa: BLE001 - OSError, TimeoutError, ValueError …
                reason = " ".join(f"{type(error).__name__}: {error}".split())[:200]
                raise InputError("--scheduler", None, f"cannot reach {scheduler!r} ({reason})",
                                 "the address of a running Dask scheduler, "
                                 "e.g. tcp://HOST:8786") from None
        else:
            import dask

            # the local cluster's background work, off while it lives: see LOCAL_CLUSTER_CONFIG
            self._config = dask.config.set(LOCAL_CLUSTER_CONFIG)
            try:
                self.cluster = LocalCluster(n_workers=self._count(), threads_per_worker=1,
                                            processes=True, dashboard_address=None)
            except BaseException:
                self._restore_config()
                raise
            try:
                self.client = Client(self.cluster)
            except BaseException:
                self.cluster.close()
                self._restore_config()
                raise
        # pure=False: every submission is a new task (a resubmitted job is run again)
        self.executor = self.client.get_executor(retries=DASK_RETRIES, pure=False)

    def capacity(self) -> int:
        """How many jobs to keep submitted: twice the workers (for a scheduler: its threads,
        looked up every few seconds, as workers may join or leave)."""
        if self.client is not None and self.cluster is None:
            checked, threads = self._threads
            if time.monotonic() - checked > 5:
                threads = sum(self.client.nthreads().values())
                self._threads = (time.monotonic(), threads)
            return 2 * max(threads, 1)
        return 2 * self._count()

    def submit(self, job: Job):
        return self.executor.submit(run_sweep_job, job)

    def lost(self, error: BaseException) -> bool:
        """Is this the error of a lost job (its worker or future went away), not of the job?"""
        from concurrent.futures import CancelledError

        return self.kind == "dask" and isinstance(error, CancelledError)

    def can_rebuild(self) -> bool:
        return self.kind == "processes" and self.rebuilds < MAX_REBUILDS

    def rebuild(self) -> None:
        """A new process pool in place of a broken one (not of an executor given by the caller:
        that is the caller's to replace)."""
        if self.kind != "processes":
            raise WorkersLost("the given executor's process pool broke (a worker process died)")
        self.rebuilds += 1
        self.executor.shutdown(wait=True, cancel_futures=True)  # broken: its workers are gone
        if self.rebuilds > MAX_REBUILDS:
            self.executor = None
            times = f"{self.rebuilds} time" + ("s" if self.rebuilds > 1 else "")
            raise WorkersLost(f"the worker process pool broke {times} (a worker process died: "
                              "out of memory? killed?)")
        self.executor = ProcessPoolExecutor(max_workers=self._count())

    def close(self) -> None:
        if self.kind == "processes" and self.executor is not None:
            self.executor.shutdown(cancel_futures=True)
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self._restore_config()

    def _restore_config(self) -> None:
        if self._config is not None:
            self._config.__exit__(None, None, None)
            self._config = None


def make_executor(kind: str, workers: int | None, scheduler: str | None = None
                  ) -> tuple[Executor | None, Callable[[], None]]:
    """An executor and how to close it (see :class:`WorkerPool`, which the sweep uses)."""
    pool = WorkerPool(kind, workers, scheduler)
    return pool.executor, pool.close


def _completed(pool: WorkerPool, jobs: Iterator[Job]) -> Iterator[tuple[Job, dict]]:
    """Run jobs (at most ``pool.capacity()`` submitted at once) and yield each as it finishes.

    A job whose worker died is yielded with status ``lost`` (to be recorded) and resubmitted;
    its final outcome follows later. Raises :class:`WorkersLost` when the process pool broke
    more than :data:`MAX_REBUILDS` times."""
    if pool.executor is None:
        for job in jobs:
            yield job, run_sweep_job(job)
        return
    from concurrent.futures.process import BrokenProcessPool

    pending: dict = {}
    again: list[Job] = []           # to submit before new jobs (lost ones)
    times_lost: dict[str, int] = {}
    exhausted = False
    while pending or again or not exhausted:
        broken = False
        while len(pending) < pool.capacity() and (again or not exhausted):
            job = again.pop(0) if again else next(jobs, None)
            if job is None:
                exhausted = True
                break
            try:
                pending[pool.submit(job)] = job
            except BrokenProcessPool:  # broke since the last wait: this job never ran
                again.insert(0, job)
                broken = True
                break
        if not broken and pending:
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    pending[future] = job  # lost with the pool's other unfinished jobs below
                    broken = True
                    continue
                except Exception as error:  # noqa: BLE001 - a dead worker: recorded, go on
                    text = " ".join(f"{type(error).__name__}: {error}".split())[:500]
                    if pool.lost(error) and times_lost.get(job.name, 0) < MAX_LOST:
                        times_lost[job.name] = times_lost.get(job.name, 0) + 1
                        again.append(job)
                        yield job, {"status": "lost", "seconds": None,
                                    "error": f"{text}; resubmitted"}
                        continue
                    outcome = {"status": "failed", "seconds": None, "error": text}
                yield job, outcome
        if broken:  # every unfinished job of the broken pool is lost; finished ones are kept
            lost = []
            for future, job in pending.items():
                if future.done() and not future.cancelled() and future.exception() is None:
                    yield job, future.result()
                else:
                    lost.append(job)
            pending.clear()
            then = (f"the job is resubmitted to a new pool (rebuild {pool.rebuilds + 1} of "
                    f"at most {MAX_REBUILDS})" if pool.can_rebuild() else
                    "the pool broke too often: the sweep stops (run it again to resume)")
            for job in lost:
                yield job, {"status": "lost", "seconds": None,
                            "error": f"BrokenProcessPool: a worker process died; {then}"}
            again = lost + again
            pool.rebuild()


# --------------------------------------------------------------------------- the sweep
def sweep(spec: str | Path | SweepSpec, executor: str | Executor = "serial",
          workers: int | None = None, out: str | Path | None = None, progress: bool = True,
          scheduler: str | None = None, create_parent: bool = False,
          on_warning: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Run a sweep and return its results (one row per job × scenario × year).

    ``spec``: a sweep file, a shipped name (``scenarios/sweeps``) or a loaded :class:`SweepSpec`.
    ``executor``: ``serial``, ``processes``, ``dask`` or any ``concurrent.futures.Executor``.
    ``out``: a folder to store every job as it finishes and ``results.parquet``; running again
    with the same folder resumes. Without ``out`` nothing is written. Failed jobs are left out of
    the table and listed in the folder's manifest (see :func:`status`)."""
    spec = spec if isinstance(spec, SweepSpec) else load_sweep(spec)
    for line in spec.warnings:
        (on_warning or (lambda text: None))(line)
    config, region_path = load_region_config(spec.region)
    base = load_policy(spec.baseline)
    inputs = [Path(spec.file), region_path, catalogue_path(config, None),
              *sorted({Path(f) for f in base.files}), *map(Path, spec.reforms),
              *sorted({Path(f) for whole in spec.whole_policies.values() for f in whole.files}
                      - {Path(f) for f in base.files} - set(map(Path, spec.reforms))),
              *([Path(spec.ensemble)] if spec.ensemble else [])]
    folder = SweepFolder(out, spec, inputs, create_parent) if out is not None else None
    record = _record(spec, inputs)
    # the workers first: an unreachable scheduler is an error before anything is written
    pool = WorkerPool(executor, workers, scheduler)
    try:
        design = (folder.open(spec, lambda: make_design(spec), record, create_parent)
                  if folder is not None else make_design(spec))
    except BaseException:
        pool.close()
        raise
    names = [job_name(p, r) for p in range(len(design)) for r in range(spec.replications)]
    finished = folder.done() if folder is not None else set()
    todo = [(p, r) for p in range(len(design)) for r in range(spec.replications)
            if job_name(p, r) not in finished]
    kept: dict[str, pd.DataFrame] = {}
    failed = 0
    lost: list[str] = []

    def jobs() -> Iterator[Job]:
        nonlocal failed
        for point, replication in todo:
            values = point_values(design, spec, point)
            seed = job_seed(spec.seed, point, replication)
            try:
                scenarios = build_policies(spec, base, values, replication)
            except InputError as error:  # a point the policy refuses: recorded, go on
                failed += 1
                _record_job(folder, point, replication, seed, values,
                            {"status": "failed", "seconds": 0.0, "error": str(error)}, kept)
                bar.update(1)
                bar.set_postfix(failed=failed)
                continue
            yield Job(point, replication, seed, values, config, scenarios, spec.years,
                      spec.start_year, spec.scale, spec.outcomes, spec.keep_years)

    from tqdm import tqdm

    bar = tqdm(total=len(names), initial=len(finished), desc="sweep runs", unit="job",
               disable=not progress, dynamic_ncols=True)
    bar.set_postfix(failed=0)
    try:
        for job, outcome in _completed(pool, jobs()):
            if outcome["status"] == "lost":  # its worker died: recorded, resubmitted
                _record_job(folder, job.point, job.replication, job.seed, job.values, outcome,
                            kept)
                lost += [] if job.name in lost else [job.name]
                continue
            if outcome["status"] != "done":
                failed += 1
            _record_job(folder, job.point, job.replication, job.seed, job.values, outcome, kept)
            bar.update(1)
            bar.set_postfix(failed=failed)
    finally:
        bar.close()
        pool.close()
    if lost:
        (on_warning or (lambda text: None))(
            f"a worker died: {len(lost)} unfinished jobs were resubmitted and run again "
            f"({', '.join(lost[:5])}" + (", …" if len(lost) > 5 else "") + ")")
    if folder is None:
        frames = [kept[name] for name in names if name in kept]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=list(ID_COLUMNS))
    results = folder.combine(names)
    _write_json(folder.path / "run_record.json", {**record, "outputs": OUTPUTS,
                                                   "status": status(folder.path)})
    return results


def _record_job(folder: SweepFolder | None, point: int, replication: int, seed: int,
                values: dict, outcome: dict, kept: dict) -> None:
    row = {"job": job_name(point, replication), "point": point, "replication": replication,
           "seed": seed, "parameters": values, "status": outcome["status"],
           "seconds": None if outcome.get("seconds") is None else round(outcome["seconds"], 3),
           "error": outcome.get("error"),
           "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    rows = outcome.get("rows")
    if folder is not None:
        folder.record(row, rows)
    elif rows is not None:
        kept[row["job"]] = rows


def _record(spec: SweepSpec, inputs: list[Path]) -> dict:
    from sim.store import run_record

    return run_record(inputs={"inputs": [str(p) for p in inputs]},
                      parameters={"spec": spec.document, "title": spec.title},
                      seeds={"root": spec.seed,
                             "jobs": "SeedSequence(seed, spawn_key=(point, replication))"},
                      extra={"kind": "sweep"})
