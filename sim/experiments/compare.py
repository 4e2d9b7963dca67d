"""Compare reforms with a baseline, with replications and common random numbers (issue: compare).

Every scenario (the baseline and each reform) runs once per replication; replication r of every
scenario uses the same seed (spawned from the root seed), so baseline and reform see the same
random draws and their difference is the reform's effect, not noise. Runs are independent jobs
given to any ``concurrent.futures.Executor`` (local processes by default). Results are kept raw
(one row per scenario × replication) and summarised as baseline, reform and difference with the
mean and the 5th–95th percentile across replications, per year, by level, by hospital.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.errors import InputError
from sim.inputs.policy import Policy, check_in_force, load_policy
from sim.inputs.region import (
    catalogue_path,
    check_scale,
    load_region_config,
    region_tables,
    use_catalogue,
)
from sim.inputs.yamlfile import read_yaml
from sim.memory import keep_freed_memory
from sim.model.fund import RESERVE_WARNING_MONTHS, reserve_findings
from sim.resources import resolve

RAW_TABLES = ("yearly", "yearly_by_level", "hospital_yearly", "monthly",
              "pressure_by_level_mdc", "fund_by_scheme")
KEYS = {
    "yearly": ["year"],
    "yearly_by_level": ["year", "level"],
    "hospital_yearly": ["year", "hospital_id", "level"],
    "pressure_by_level_mdc": ["year", "level", "mdc"],
}
SUMMARY_NAMES = {"yearly": "comparison_yearly", "yearly_by_level": "comparison_by_level",
                 "hospital_yearly": "comparison_by_hospital",
                 "pressure_by_level_mdc": "comparison_pressure"}
LOW, HIGH = 0.05, 0.95


@dataclass
class Scenario:
    label: str
    kind: str            # "baseline" or "reform"
    policy: Policy
    file: str | None
    title: str
    rationale: object = None
    title_zh: str | None = None


def is_policy_file(path: Path) -> bool:
    """A file given as ``--reform`` that is a whole policy (it has a method or extends one)."""
    document = read_yaml(path)
    return isinstance(document, dict) and ("method" in document or "extends" in document
                                           or "parameters" in document)


def build_scenarios(baseline: str, reforms: list[Path]) -> list[Scenario]:
    """The baseline policy and each reform (a delta on the baseline, or a whole policy)."""
    baseline_path = resolve(baseline, "policies", ".yaml")
    base = load_policy(baseline_path)
    scenarios = [Scenario(base.title, "baseline", base, str(baseline_path), base.title,
                          title_zh=base.title_zh)]
    for reform in reforms:
        path = resolve(str(reform), "reforms", ".yaml")
        if is_policy_file(path):
            policy = load_policy(path)
            title, rationale, title_zh = policy.title, None, policy.title_zh
        else:
            policy = load_policy(baseline_path, [path])
            reform = policy.reforms[-1]
            title, rationale, title_zh = reform["title"], reform["rationale"], reform["title_zh"]
        label = title
        taken = {s.label for s in scenarios}
        suffix = 2
        while label in taken:
            label, suffix = f"{title} ({suffix})", suffix + 1
        scenarios.append(Scenario(label, "reform", policy, str(path), title, rationale,
                                  title_zh))
    return scenarios


def replication_seeds(seed: int, replications: int) -> list[int]:
    """One seed per replication, spawned from the root seed (the same for every scenario)."""
    children = np.random.SeedSequence(seed).spawn(replications)
    return [int(child.generate_state(1)[0]) for child in children]


def run_job(config: dict, policy: Policy, years: int, start_year: int, seed: int,
            scale: float) -> dict[str, pd.DataFrame]:
    """One scenario × replication (top level, so that worker processes can run it)."""
    from sim.model.calendar import run_calendar
    from sim.model.model import RegionModel

    keep_freed_memory()  # this may be a fresh worker process (sim.memory)
    model = RegionModel(config, policy, start_year=start_year, years=years, seed=seed,
                        scale=scale)
    run_calendar(model, progress=False)
    tables = model.tables()
    return {name: tables[name] for name in RAW_TABLES}


def run_all(config: dict, scenarios: list[Scenario], seeds: list[int], years: int,
            start_year: int, scale: float, executor: Executor | None = None,
            progress: bool = True, values: list[dict] | None = None
            ) -> dict[str, pd.DataFrame]:
    """Run every scenario × replication; return the raw tables with scenario and replication.
    ``values``: one set of behavioural values per replication (parameter draws,
    :mod:`sim.experiments.draws`), given to every scenario of that replication alike."""
    jobs = [(s_index, r_index) for r_index in range(len(seeds))
            for s_index in range(len(scenarios))]
    if values is not None:
        from sim.experiments.draws import with_draw

        policies = {(s, r): with_draw(scenarios[s].policy, scenarios[0].policy, values[r],
                                      f"parameter draw of replication {r}") for s, r in jobs}
    else:
        policies = {(s, r): scenarios[s].policy for s, r in jobs}
    own = executor is None
    if own:
        workers = min(len(jobs), os.cpu_count() or 1)
        executor = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    results: dict[tuple[int, int], dict] = {}
    bar = tqdm(total=len(jobs), desc="runs", unit="run", disable=not progress, leave=False)
    try:
        if executor is None:
            for s_index, r_index in jobs:
                results[s_index, r_index] = run_job(config, policies[s_index, r_index], years,
                                                    start_year, seeds[r_index], scale)
                bar.update(1)
        else:
            futures = {executor.submit(run_job, config, policies[s, r], years, start_year,
                                       seeds[r], scale): (s, r) for s, r in jobs}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
    finally:
        bar.close()
        if own and executor is not None:
            executor.shutdown()
    raw = {}
    for name in RAW_TABLES:
        frames = []
        for (s_index, r_index), tables in sorted(results.items()):
            frame = tables[name].copy()
            frame.insert(0, "replication", r_index)
            frame.insert(0, "scenario", scenarios[s_index].label)
            frames.append(frame)
        raw[name] = pd.concat(frames, ignore_index=True)
    return raw


def summarise(raw: pd.DataFrame, keys: list[str], scenarios: list[Scenario]) -> pd.DataFrame:
    """Baseline, reform and difference per key and variable: mean and 5th–95th percentiles."""
    numeric = [c for c in raw.columns if c not in keys + ["scenario", "replication"]
               and pd.api.types.is_numeric_dtype(raw[c]) and not pd.api.types.is_bool_dtype(
                   raw[c])]
    long = raw.melt(id_vars=["scenario", "replication", *keys], value_vars=numeric,
                    var_name="variable", value_name="value")
    baseline_label = scenarios[0].label
    base = long[long["scenario"] == baseline_label].drop(columns="scenario").rename(
        columns={"value": "baseline"})
    pieces = []
    for scenario in scenarios[1:]:
        reform = long[long["scenario"] == scenario.label].drop(columns="scenario").rename(
            columns={"value": "reform"})
        both = base.merge(reform, on=["replication", *keys, "variable"], how="outer")
        both["difference"] = both["reform"] - both["baseline"]
        both.insert(0, "scenario", scenario.label)
        pieces.append(both)
    merged = pd.concat(pieces, ignore_index=True)
    grouped = merged.groupby(["scenario", *keys, "variable"], sort=False, dropna=False)
    parts = {"replications": grouped["difference"].size()}
    for column in ("baseline", "reform", "difference"):
        parts[f"{column}_mean"] = grouped[column].mean()
        parts[f"{column}_p5"] = grouped[column].quantile(LOW)
        parts[f"{column}_p95"] = grouped[column].quantile(HIGH)
    return pd.DataFrame(parts).reset_index()


def differing_parameters(scenarios: list[Scenario], start_year: int,
                         years: int) -> list[dict]:
    """Parameters whose value in force differs from the baseline's, by scenario and year."""
    rows = []
    base = scenarios[0].policy
    for scenario in scenarios[1:]:
        policy = scenario.policy
        for year in range(start_year, start_year + years):
            on = dt.date(year, 1, 1)
            mine = policy.resolved(on)
            theirs = base.resolved(on)
            for path in sorted(set(mine) | set(theirs)):
                if mine.get(path, "(absent)") != theirs.get(path, "(absent)"):
                    rows.append({"scenario": scenario.label, "year": year, "parameter": path,
                                 "baseline": theirs.get(path, "(absent)"),
                                 "reform": mine.get(path, "(absent)")})
        # behavioural values (not dated: one per run; sim.inputs.behaviour)
        for path in sorted(set(policy.behaviour) | set(base.behaviour)):
            mine, theirs = policy.behaviour.get(path), base.behaviour.get(path)
            if mine != theirs:
                rows.append({"scenario": scenario.label, "year": start_year, "parameter": path,
                             "baseline": "(region)" if theirs is None else theirs,
                             "reform": "(region)" if mine is None else mine})
        if policy.method != base.method:
            rows.append({"scenario": scenario.label, "year": start_year, "parameter": "method",
                         "baseline": base.method, "reform": policy.method})
    return rows


def compare(scenario: str, baseline: str, reforms: list[Path], replications: int, seed: int,
            years: int, start_year: int, scale: float, executor: Executor | None = None,
            progress: bool = True, on_loaded: Callable[[list[str]], None] | None = None,
            catalogue: str | None = None, parameter_draws: int | str | None = 0,
            ensemble: str | None = None) -> tuple[dict, dict, list[Scenario], dict]:
    """Everything but writing: raw tables, summaries, scenarios and metadata.

    ``on_loaded`` is called with every input file once the region and policies are read and
    before any run starts (the output folder checks that none of them lies inside it).
    ``catalogue`` (``--catalogue``) replaces the region's catalogue in every run; the metadata
    name the catalogue used and carry the warnings (basic groups the catalogue lacks).
    ``parameter_draws`` N > 0 runs N parameter sets of the region's calibrated ensemble (or
    ``ensemble``) with every replication's seed, paired across scenarios
    (:mod:`sim.experiments.draws`); ``"each"`` gives every replication its own parameter set
    (one run per replication: intervals carry both sources, not split); ``None`` is ``"each"``
    where an ensemble ships for the region or is given, else 0 (the command line's default)."""
    if replications < 1:
        raise InputError(None, "--replications", f"value {replications}", "at least 1")
    config, region_path = load_region_config(scenario)
    warnings: list[str] = []
    if catalogue is not None:
        config, _, warnings = use_catalogue(config, region_path, catalogue)
    catalogue_file = catalogue_path(config, None)
    check_scale(config, scale)
    scenarios = build_scenarios(baseline, reforms)
    for each in scenarios:
        check_in_force(each.policy, start_year)
    from sim.experiments.draws import draw_sets, load_ensemble, shipped_ensemble, variance_shares

    draws, ensemble_path = [], None
    available = Path(ensemble) if ensemble else shipped_ensemble(region_path)
    if parameter_draws is None:  # the default: every replication its own set, if there are sets
        parameter_draws = "each" if available is not None else 0
    each = parameter_draws == "each"
    if parameter_draws:
        if available is None:
            raise InputError("--parameter-draws", None, "no calibrated ensemble ships for "
                             f"region {Path(region_path).stem}",
                             "--ensemble FILE (the ensemble.csv of drgsim calibrate behaviour)")
        ensemble_path = available
        draws = draw_sets(load_ensemble(ensemble_path), replications if each
                          else parameter_draws, seed)
    elif ensemble:
        raise InputError("--ensemble", None, "given with --parameter-draws 0 (no draws)",
                         "no --parameter-draws (a set per replication) or --parameter-draws N")
    if on_loaded is not None:
        on_loaded([str(region_path), str(catalogue_file),
                   *map(str, region_tables(config)),
                   *sorted({f for s in scenarios for f in s.policy.files}),
                   *([str(ensemble_path)] if ensemble_path else [])])
    seeds = replication_seeds(seed, replications)
    run_seeds, values = seeds, None
    if each:  # replication r: parameter set r with seed r (paired across scenarios)
        values = [draw["values"] for draw in draws]
    elif draws:  # run k = d × R + r: parameter set d, seed r (crossed, paired across scenarios)
        run_seeds = seeds * len(draws)
        values = [draw["values"] for draw in draws for _ in seeds]
    raw = run_all(config, scenarios, run_seeds, years, start_year, scale, executor, progress,
                  values)
    add_derived(raw)
    summaries = {SUMMARY_NAMES[name]: summarise(raw[name], KEYS[name], scenarios)
                 for name in KEYS}
    if draws and not each:
        summaries["comparison_uncertainty"] = variance_shares(
            raw["yearly"], ["year"], scenarios[0].label, len(draws), replications)
    meta = {
        "region": str(region_path), "region_title": config["title"],
        "region_tables": [str(path) for path in region_tables(config)],  # a built region's
        "catalogue": str(catalogue_file),
        "catalogue_from": "--catalogue" if catalogue is not None else "region",
        "warnings": warnings,
        "region_title_zh": config.get("title_zh"),
        "baseline": scenarios[0].label,
        "scenarios": [{"label": s.label, "kind": s.kind, "file": s.file, "title": s.title,
                       "title_zh": s.title_zh, "method": s.policy.method,
                       "rationale": s.rationale}
                      for s in scenarios],
        "replications": replications, "seed": seed, "replication_seeds": seeds,
        "years": years, "start_year": start_year, "scale": scale,
        "interval": [LOW, HIGH],
        "parameter_draws": None if not draws else {
            "ensemble": str(ensemble_path), "draws": len(draws),
            "design": "each" if each else "crossed",
            "members": [d["member"] for d in draws],
            "runs_per_scenario": replications if each else len(draws) * replications,
            "pairing": ("replication r runs draw r with seed r, the same for every scenario"
                        if each else "run k = draw (k // replications) with seed "
                        "(k % replications), the same for every scenario")},
        "differing_parameters": differing_parameters(scenarios, start_year, years),
        "reserve_warning_months": config.get("reserve_warning_months", RESERVE_WARNING_MONTHS),
    }
    # each scheme's reserve, scenario by scenario (mean over replications), against the
    # threshold bureaus watch (BEHAVIOUR §7; sim.model.fund.reserve_findings)
    meta["reserve_alerts"] = reserve_alerts(raw["fund_by_scheme"], scenarios,
                                            meta["reserve_warning_months"])
    meta["warnings"] = warnings + [f"{a['scenario']}: {a['text']}" for a in meta["reserve_alerts"]]
    return raw, summaries, scenarios, meta


def reserve_alerts(fund: pd.DataFrame, scenarios: list[Scenario], threshold: float
                   ) -> list[dict]:
    """Per scenario, :func:`sim.model.fund.reserve_findings` of its mean ledger (over the
    replications): the scenario, the scheme, the first year under ``threshold`` and the line."""
    means = fund.groupby(["scenario", "year", "scheme"], sort=False)[
        ["accumulated_balance", "reserve_months"]].mean().reset_index()
    return [{"scenario": scenario.label, **finding} for scenario in scenarios
            for finding in reserve_findings(
                means[means["scenario"] == scenario.label].to_dict("records"), threshold)]


def headline(summaries: dict, meta: dict, scenario_label: str) -> dict[str, dict]:
    """The numbers of the briefing's cards for one reform, in its last year (difference and
    interval): fund balance, point value, upcoding gap (coded − true CMI), share of cases coded
    up, basic cases at primary and secondary hospitals (share points)."""
    yearly = summaries["comparison_yearly"]
    last = meta["start_year"] + meta["years"] - 1
    rows = yearly[(yearly["scenario"] == scenario_label) & (yearly["year"] == last)].set_index(
        "variable")

    def pick(variable: str) -> dict:
        if variable not in rows.index:
            return {"mean": np.nan, "p5": np.nan, "p95": np.nan, "baseline": np.nan}
        row = rows.loc[variable]
        return {"mean": float(row["difference_mean"]), "p5": float(row["difference_p5"]),
                "p95": float(row["difference_p95"]), "baseline": float(row["baseline_mean"])}

    shares = {}
    uncertainty = summaries.get("comparison_uncertainty")
    if uncertainty is not None:
        last_rows = uncertainty[(uncertainty["scenario"] == scenario_label)
                                & (uncertainty["year"] == last)].set_index("variable")
        shares = {v: float(last_rows.loc[v, "parameter_share"]) for v in (
            "fund_balance", "reserve_months_employee", "reserve_months_resident",
            "annual_point_value", "upcoding_gap", "upcoded_share", "basic_share_lower_levels")
            if v in last_rows.index}
    return {"fund_balance": pick("fund_balance"),
            # each scheme's fund as it is (§2.1; issue 10): months of reserve by scheme
            "reserve_months_employee": pick("reserve_months_employee"),
            "reserve_months_resident": pick("reserve_months_resident"),
            "annual_point_value": pick("annual_point_value"),
            "upcoding_gap": pick("upcoding_gap"),
            "upcoded_share": pick("upcoded_share"),  # share of cases coded up (issue 14)
            "basic_share_lower_levels": pick("basic_share_lower_levels"),
            # the share of each difference's variance due to behavioural parameters (draws)
            "parameter_share": shares,
            "year": last}


def add_derived(raw: dict[str, pd.DataFrame]) -> None:
    """Columns the briefing needs, computed per run before summarising."""
    yearly = raw["yearly"]
    yearly["upcoding_gap"] = yearly["coded_cmi"] - yearly["true_cmi"]
    yearly["basic_share_lower_levels"] = (yearly["basic_share_primary"]
                                          + yearly["basic_share_secondary"])

