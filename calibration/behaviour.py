"""``drgsim calibrate behaviour``: fit the behavioural parameters to published reform effects.

The targets file (``calibration/targets.yaml``, :mod:`calibration.targets`) names the targets,
the parameters the fit moves with their prior ranges (``parameters:``, as a sweep's) and how to
simulate (``fit:``: scale, start year, replications, the share of points kept, the seed).

The fit is a sweep (:mod:`sim.experiments.sweep`) and inherits everything a sweep does: its
executors (serial, processes, Dask), its store (each finished job atomically, resumable after a
crash or ``kill -9``, identical results whatever ran them) and its seeds. Its design is a Latin
hypercube over the prior; each design point × replication is one job that runs fee-for-service
and every method a target needs (rate, DIP, point) with the same seed (common random numbers), so
that each target is a paired difference, as published studies compare a reform with what came
before. The analysis is :mod:`calibration.abc` (rejection and regression adjustment), written
staged into ``OUT/calibration``: the fit per target, the parameters' posterior, their
correlations, the ensemble and the central values in region-file form.
"""

from __future__ import annotations

import difflib
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibration.abc import (
    DegenerateFit,
    abc_fit,
    diagnose,
    weighted_correlation,
    weighted_quantile,
)
from calibration.targets import DIFFERENCE, RELATIVE, Target, change, load_targets
from sim.errors import InputError, show
from sim.inputs.behaviour import get_behaviour
from sim.inputs.yamlfile import read_yaml

# what each method's scenario is (a shipped policy)
METHOD_POLICIES = {"rate": "rate", "dip": "dip", "point": "point", "pool": "pool",
                   "all_inclusive": "all_inclusive"}


def experiment_label(target: Target) -> str:
    """The scenario of a target's experiment (calibration.targets.EXPERIMENTS: a shipped reform
    applied to the target's method, compared with the method alone, same seed and parameters):
    ``METHOD+EXPERIMENT``."""
    return f"{target.method}+{target.experiment}"


FIT_KEYS = {"region": "a region file or shipped name", "scale": "a population scale in (0, 1]",
            "start_year": "a year 1990–2100", "replications": "a whole number 1–20",
            "accept": "a share of the design points in (0, 1]",
            "ensemble": "a whole number of parameter sets 10–10,000",
            "check_draws": "a whole number of ensemble members 2–1,000 run for the check",
            "seed": "a whole number ≥ 0", "budget": "a whole number of model runs ≥ 10"}
FIT_DEFAULTS = {"region": "default", "scale": 0.05, "start_year": 2023, "replications": 2,
                "accept": 0.2, "ensemble": 100, "check_draws": 20, "seed": 1, "budget": 1000}
OUTPUTS = ("fit", "parameters", "correlations", "ensemble", "statistics")
TOP_KEYS = ("title", "description", "targets", "parameters", "fit")
FIT_TITLE = "Behaviour calibration: the fit's runs"  # the generated sweep's title


@dataclass
class CalibrationSpec:
    file: str
    title: str
    targets: list[Target]
    parameters: dict[str, Any]           # path -> the sweep's range document
    fit: dict[str, Any]
    document: dict = field(default_factory=dict)

    @property
    def simulated(self) -> list[Target]:
        return list(self.targets)  # every experiment the targets file may name is built

    @property
    def fitted(self) -> list[Target]:
        return [t for t in self.simulated if t.role == "fitted"]

    @property
    def methods(self) -> list[str]:
        """The methods the fit's runs need (those of the fitted targets)."""
        return sorted({t.method for t in self.fitted})

    @property
    def years(self) -> int:
        """The years the fit's runs need (the fitted targets' latest)."""
        return max(t.year for t in self.fitted)

    @property
    def check_methods(self) -> list[str]:
        """The methods the check needs (every simulated target's)."""
        return sorted({t.method for t in self.simulated})

    @property
    def check_years(self) -> int:
        return max(t.year for t in self.simulated)


def load_calibration(path: str | Path) -> CalibrationSpec:
    """The targets, the prior of each fitted parameter and the fit settings, checked whole."""
    file = str(path)
    targets = load_targets(path)
    document = read_yaml(Path(path))
    for key in document:
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(str(key), TOP_KEYS, n=1)
            raise InputError(file, f"key {key!r}", "unknown key", "one of " + ", ".join(TOP_KEYS)
                             + (f" (did you mean {close[0]}?)" if close else ""))
    parameters = document.get("parameters")
    if not isinstance(parameters, dict) or not parameters:
        raise InputError(file, "parameters", f"value {show(parameters)}",
                         "a mapping of behaviour.<path> to a prior range {low, high} (the "
                         "parameters the fit moves; see calibration/targets.yaml)")
    for path_name in parameters:
        if not str(path_name).startswith("behaviour."):
            raise InputError(file, f"parameters.{path_name}", "not a behavioural parameter",
                             "a behaviour.<path> (policy parameters are the reform's, not fitted)")
    fit = dict(FIT_DEFAULTS)
    given = document.get("fit") or {}
    if not isinstance(given, dict):
        raise InputError(file, "fit", f"value {show(given)}", "a mapping of fit settings")
    for key, value in given.items():
        if key not in FIT_KEYS:
            raise InputError(file, f"fit.{key}", "unknown key", "one of " + ", ".join(FIT_KEYS))
        fit[key] = value
    checks = {"scale": lambda v: _number(v) and 0 < v <= 1,
              "start_year": lambda v: _whole(v) and 1990 <= v <= 2100,
              "replications": lambda v: _whole(v) and 1 <= v <= 20,
              "accept": lambda v: _number(v) and 0 < v <= 1,
              "ensemble": lambda v: _whole(v) and 10 <= v <= 10_000,
              "check_draws": lambda v: _whole(v) and 2 <= v <= 1000,
              "seed": lambda v: _whole(v) and v >= 0,
              "budget": lambda v: _whole(v) and v >= 10,
              "region": lambda v: isinstance(v, str) and bool(v.strip())}
    for key, check in checks.items():
        if not check(fit[key]):
            raise InputError(file, f"fit.{key}", f"value {show(fit[key])}", FIT_KEYS[key])
    for target in targets:
        if target.scheme != "all":
            raise InputError(file, f"targets.{target.name}.setting.scheme",
                             f"value {target.scheme!r}", "all (the simulated quantities are for "
                             "both schemes together)")
        if target.experiment is not None and target.role == "fitted":
            raise InputError(file, f"targets.{target.name}.role", "value 'fitted' for a target "
                             f"with an experiment ({target.experiment})",
                             "held_out (the fit's runs are the methods alone; the check runs "
                             "experiments)")
    _check_priors(parameters, file)
    spec = CalibrationSpec(file, str(document.get("title") or Path(file).stem), targets,
                           dict(parameters), fit, document)
    if not spec.fitted:
        raise InputError(file, "targets", "no fitted target can be simulated",
                         "at least one fitted target without an experiment")
    return spec


def _check_priors(parameters: dict, file: str) -> None:
    """Each prior as a sweep checks a range (known path, bounds, distribution), with the error
    naming the targets file and ``parameters.<path>``."""
    from sim.experiments.sweep import _parameters
    from sim.inputs.policy import load_policy
    from sim.resources import resolve

    _parameters(parameters, load_policy(resolve("ffs", "policies", ".yaml")), file)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- the fit's sweep
def outcome_columns(targets: list[Target]) -> list[str]:
    """The yearly columns the targets' quantities read."""
    columns = []
    for target in targets:
        if target.quantity in RELATIVE:
            columns.append(RELATIVE[target.quantity])
        elif target.quantity in DIFFERENCE:
            columns.append(DIFFERENCE[target.quantity])
        else:
            columns += ["upcoded_share_private", "upcoded_share_public"]
    return list(dict.fromkeys(columns))


def design_points(spec: CalibrationSpec, budget: int) -> int:
    """Design points a budget of model runs buys: runs ÷ (scenarios × replications)."""
    per_point = (1 + len(spec.methods)) * spec.fit["replications"]
    return budget // per_point


def sweep_document(spec: CalibrationSpec, region: str, budget: int) -> dict:
    """The sweep the fit runs (written as the fit folder's ``spec.yaml``)."""
    from sim.resources import resolve

    points = design_points(spec, budget)
    return {
        # no path or title of the targets file here: the file is a sweep input whose hash a
        # resumed fit compares, and neither changes what the runs are
        "title": FIT_TITLE,
        "description": "Generated by drgsim calibrate behaviour",
        "region": region, "scale": spec.fit["scale"], "start_year": spec.fit["start_year"],
        "years": spec.years, "baseline": str(resolve("ffs", "policies", ".yaml")),
        "reforms": [str(resolve(METHOD_POLICIES[m], "policies", ".yaml"))
                    for m in spec.methods],
        "parameters": spec.parameters,
        "design": {"method": "lhs", "n": points},
        "replications": spec.fit["replications"], "seed": spec.fit["seed"],
        "outcomes": outcome_columns(spec.fitted),
    }


def target_statistics(results: pd.DataFrame, targets: list[Target], start_year: int
                      ) -> pd.DataFrame:
    """Each target's simulated value per design point and replication (columns: ``point``,
    ``replication`` and one per target), from the fit sweep's ``results.parquet`` (scenario
    ``baseline`` is fee-for-service, the others are named by method)."""
    keys = ["point", "replication"]
    table = results.set_index([*keys, "scenario", "year"]).sort_index()
    out = results[keys].drop_duplicates().set_index(keys).sort_index()
    for target in targets:
        year = start_year + target.year - 1
        if target.experiment is None:  # against fee-for-service
            base = table.xs(("baseline", year), level=("scenario", "year"))
            new = table.xs((target.method, year), level=("scenario", "year"))
        else:  # against the method without the experiment's reform
            base = table.xs((target.method, year), level=("scenario", "year"))
            new = table.xs((experiment_label(target), year), level=("scenario", "year"))
        value = change(target.quantity, base, new)
        out[target.name] = value
    return out.reset_index()


# --------------------------------------------------------------------------- the analysis
@dataclass
class Fit:
    spec: CalibrationSpec
    fit_table: pd.DataFrame
    parameters: pd.DataFrame
    correlations: pd.DataFrame
    ensemble: pd.DataFrame
    statistics: pd.DataFrame
    warnings: list[str]
    summary: dict
    checked: pd.DataFrame | None = None   # the check: each member's value of every target


def analyse(spec: CalibrationSpec, design: pd.DataFrame, statistics: pd.DataFrame,
            defaults: dict[str, float], sweep_parameters: list) -> Fit:
    """The posterior from the design and its fitted statistics
    (:func:`calibration.abc.abc_fit`), the parameters' diagnostics and the ensemble; the fit
    table is the check's (:func:`check_fit`)."""
    fitted = spec.fitted
    names = [p.path for p in sweep_parameters]
    replications = int(statistics["replication"].nunique())
    target_names = [t.name for t in fitted]
    per_point = statistics.groupby("point")[target_names].mean().reindex(design["point"])
    if replications > 1:
        noise_var = statistics.groupby("point")[target_names].var(ddof=1).mean()
    else:
        noise_var = pd.Series(0.0, index=target_names)
    published = np.array([t.value for t in fitted])
    sd = np.sqrt(np.array([t.uncertainty for t in fitted]) ** 2
                 + noise_var[target_names].to_numpy() / replications)
    unit = design[[f"u:{name}" for name in names]].to_numpy()
    result = abc_fit(unit, per_point.to_numpy(), published, sd, spec.fit["accept"])
    weight = result.weight
    values = np.column_stack([[p.value(u) for u in result.unit[:, j]]
                              for j, p in enumerate(sweep_parameters)])
    diagnostics = diagnose(result.unit, weight, result.unit_raw, result.r2)
    warnings = []
    rows = []
    for j, parameter in enumerate(sweep_parameters):
        low, median, high = weighted_quantile(values[:, j], weight, [0.05, 0.5, 0.95])
        d = diagnostics[j]
        rows.append({"parameter": parameter.path, "prior_low": parameter.low,
                     "prior_high": parameter.high, "prior": parameter.distribution,
                     "default": defaults.get(parameter.path), "posterior_median": median,
                     "posterior_p05": low, "posterior_p95": high,
                     "sd_ratio": d["sd_ratio"], "informed": d["informed"],
                     "at_bound": d["at_bound"], "r2": float(result.r2[j]),
                     # before the regression adjustment (rejection alone), on the unit scale
                     "unit_median": d["unit_median"],
                     "rejection_unit_median": d["rejection_median"],
                     "rejection_sd_ratio": d["rejection_sd_ratio"],
                     "extrapolated": d["extrapolated"]})
        if not d["informed"]:
            warnings.append(f"{parameter.path}: the fitted targets barely inform it (posterior "
                            f"spread {d['sd_ratio']:.0%} of the prior's): the objective is flat "
                            "along it; its value stays an assumption")
        if d["at_bound"]:
            warnings.append(f"{parameter.path}: the posterior sits against the prior's "
                            f"{d['at_bound']} bound (median {median:,.4g}, 90% [{low:,.4g}, "
                            f"{high:,.4g}]): widen the prior, or the model cannot reach the "
                            "targets inside it")
        if d["extrapolated"]:
            warnings.append(f"{parameter.path}: the regression adjustment moved its median from "
                            f"{d['rejection_median']:.2f} to {d['unit_median']:.2f} of the prior "
                            f"range on a regression with R² {result.r2[j]:.2f}: the posterior "
                            "rests on a linear extrapolation (a larger budget, a smaller accept "
                            "share or a second wave would test it)")
    parameters = pd.DataFrame(rows)
    correlation = weighted_correlation(values, weight)
    correlations = pd.DataFrame(correlation, index=names, columns=names).reset_index(
        names="parameter")
    ensemble = make_ensemble(values, weight, names, result.kept, design, spec.fit["ensemble"],
                             spec.fit["seed"])
    statistics_out = per_point.reset_index()
    distance = np.full(len(design), np.nan)
    distance[result.kept] = result.distance
    statistics_out["kept_distance"] = distance
    noise = {name: float(np.sqrt(noise_var[name])) for name in target_names}
    summary = {"title": spec.title, "points": int(len(design)),
               "replications": replications, "kept": int(len(result.kept)),
               "accept": spec.fit["accept"], "fitted": target_names,
               "held_out": [t.name for t in spec.simulated if t.role == "held_out"],
               "noise_sd_per_run": noise,
               "estimator": "ABC rejection (Epanechnikov) with local-linear regression "
                            "adjustment in logit space (Beaumont, Zhang & Balding 2002)"}
    return Fit(spec, pd.DataFrame(), parameters, correlations, ensemble, statistics_out,
               warnings, summary)


def fit_table(spec: CalibrationSpec, checked: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Every target against what the ensemble's members simulate (one seed each, so the
    interval carries both the parameters' spread and the noise): median, 90% interval, z of the
    median and a verdict; a fitted target outside 2 sd is also a warning."""
    rows, warnings = [], []
    for target in spec.targets:
        row = {"target": target.name, "role": target.role, "quantity": target.quantity,
               "method": target.method, "year": target.year, "published": target.value,
               "uncertainty": target.uncertainty}
        simulated = checked[target.name].to_numpy(float)
        low, median, high = np.quantile(simulated, [0.05, 0.5, 0.95])
        z = (median - target.value) / target.uncertainty
        verdict = ("within 1 sd" if abs(z) <= 1 else "within 2 sd" if abs(z) <= 2
                   else "outside 2 sd")
        rows.append({**row, "simulated_median": float(median), "simulated_p05": float(low),
                     "simulated_p95": float(high), "z": float(z), "status": verdict})
        if target.role == "fitted" and abs(z) > 2:
            warnings.append(f"fitted target {target.name} is not reproduced: simulated "
                            f"{median:+.4f} against {target.value:+.4f} ± {target.uncertainty}")
    return pd.DataFrame(rows), warnings


def check_fit(spec: CalibrationSpec, ensemble: pd.DataFrame, region: str, executor: str,
              workers: int | None, scheduler: str | None, progress: bool) -> pd.DataFrame:
    """Run ``fit.check_draws`` members of the ensemble, each with its own seed, through
    fee-for-service and every method any simulated target needs, over the targets' years, and
    return each member's value of every simulated target (posterior predictive check)."""
    from sim.experiments.compare import Scenario, replication_seeds, run_all
    from sim.experiments.draws import draw_sets
    from sim.experiments.sweep import make_executor
    from sim.inputs.policy import load_policy
    from sim.inputs.region import load_region_config
    from sim.resources import resolve

    config, _ = load_region_config(region)
    scenarios = []
    for label, name in (("baseline", "ffs"), *((m, METHOD_POLICIES[m])
                                               for m in spec.check_methods)):
        path = resolve(name, "policies", ".yaml")
        policy = load_policy(path)
        scenarios.append(Scenario(label, "reform", policy, str(path), policy.title))
    for target in spec.simulated:
        label = target.experiment and experiment_label(target)
        if label and label not in {s.label for s in scenarios}:
            path = resolve(METHOD_POLICIES[target.method], "policies", ".yaml")
            policy = load_policy(path, [resolve(target.experiment, "reforms", ".yaml")])
            scenarios.append(Scenario(label, "reform", policy, str(path), policy.title))
    draws = draw_sets(ensemble, spec.fit["check_draws"], spec.fit["seed"])
    seeds = replication_seeds(spec.fit["seed"] + 1, len(draws))  # not the fit's seeds
    if executor == "serial":  # in this process, one run at a time
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1)
        close = pool.shutdown
    else:
        pool, close = make_executor(executor, workers, scheduler)
    try:
        raw = run_all(config, scenarios, seeds, spec.check_years, spec.fit["start_year"],
                      spec.fit["scale"], pool, progress, [d["values"] for d in draws])
    finally:
        close()
    yearly = raw["yearly"].rename(columns={"replication": "point"})
    yearly["replication"] = 0
    checked = target_statistics(yearly, spec.simulated, spec.fit["start_year"])
    checked.insert(1, "member", [d["member"] for d in draws])
    return checked.drop(columns="replication")


def make_ensemble(values: np.ndarray, weight: np.ndarray, names: list[str], kept: np.ndarray,
                  design: pd.DataFrame, size: int, seed: int) -> pd.DataFrame:
    """``size`` equally weighted parameter sets drawn from the weighted posterior by systematic
    resampling (one uniform offset from ``seed``: the same fit gives the same ensemble)."""
    offset = np.random.default_rng(seed).uniform()
    positions = (offset + np.arange(size)) / size
    cumulative = np.cumsum(weight) / weight.sum()
    cumulative[-1] = 1.0
    chosen = np.searchsorted(cumulative, positions, side="right")
    frame = pd.DataFrame(values[chosen], columns=names)
    frame.insert(0, "design_point", design["point"].to_numpy()[kept[chosen]])
    frame.insert(0, "member", np.arange(size))
    return frame


# --------------------------------------------------------------------------- the command
def calibrate_behaviour(targets_file: str | Path, out: str | Path, region: str | None = None,
                        budget: int | None = None, executor: str = "serial",
                        workers: int | None = None, scheduler: str | None = None,
                        progress: bool = True, create_parent: bool = False,
                        on_warning=None) -> tuple[Fit, Path]:
    """Run (or resume) the fit's sweep into ``out`` and write the analysis to
    ``out/calibration``; return the fit and that folder."""
    import yaml

    from sim.experiments.sweep import load_sweep, sweep
    from sim.inputs.region import load_region_config

    spec = load_calibration(targets_file)
    region = region or spec.fit["region"]
    budget = budget if budget is not None else spec.fit["budget"]
    points = design_points(spec, budget)
    minimum = len(spec.fitted) + 3
    if points < minimum:
        per_point = (1 + len(spec.methods)) * spec.fit["replications"]
        raise InputError("--budget", None, f"{budget:,} runs buy {points} design points "
                         f"({per_point} runs each)",
                         f"at least {minimum * per_point:,} runs ({minimum} points)")
    if Path(region).is_file():  # the fit folder's spec must name it wherever it is resumed
        region = str(Path(region).resolve())
    document = sweep_document(spec, region, budget)
    _check_same_fit(Path(out), document)
    staging = Path(tempfile.mkdtemp(prefix="drgsim-calibration-"))
    try:
        spec_file = staging / "calibration.sweep.yaml"
        spec_file.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                             "utf-8")
        fit_sweep = load_sweep(spec_file)
        results = sweep(fit_sweep, executor=executor, workers=workers, out=out,
                        progress=progress, scheduler=scheduler, create_parent=create_parent,
                        on_warning=on_warning)
    finally:
        for leftover in staging.iterdir():
            leftover.unlink()
        os.rmdir(staging)
    folder = Path(out)
    design = pd.read_parquet(folder / "design.parquet")
    done = set(zip(results["point"], results["replication"], strict=True))
    expected = len(design) * spec.fit["replications"]
    if len(done) < expected:
        raise InputError(str(out), None, f"{expected - len(done)} of {expected} fit jobs failed "
                         "or are unfinished", "every job done (see drgsim sweep --status "
                         f"{out}; run the same command again to retry them)")
    statistics = target_statistics(results, spec.fitted, spec.fit["start_year"])
    config, _ = load_region_config(region)
    defaults = {name: get_behaviour(config, name) for name in fit_sweep.names}
    try:
        fit = analyse(spec, design, statistics, defaults, fit_sweep.parameters)
    except DegenerateFit as error:
        raise InputError(str(targets_file), None, f"degenerate fit: {error}",
                         "parameters that move the fitted targets, and enough design points"
                         ) from None
    fit.checked = check_fit(spec, fit.ensemble, region, executor, workers, scheduler, progress)
    fit.fit_table, warnings = fit_table(spec, fit.checked)
    fit.warnings += warnings
    fit.summary["check"] = {"members": len(fit.checked), "years": spec.check_years,
                            "methods": spec.check_methods}
    written = write_fit(fit, folder, Path(targets_file), region, budget)
    return fit, written


def _check_same_fit(out: Path, document: dict) -> None:
    """An earlier fit in ``out`` must be this one (its runs would not match otherwise): say
    what differs, in the calibration's terms, before the sweep's own check."""
    import json

    meta_path = out / "sweep.json"
    if not meta_path.is_file():
        return
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except ValueError:
        return  # not ours to judge: the sweep's own check refuses it in one line
    earlier = meta.get("spec") or {}
    if meta.get("title") != FIT_TITLE:
        raise InputError("--out", None, f"{str(out)!r} holds a sweep that is not a behaviour "
                         "fit", "a new folder, an empty folder or this fit's earlier --out")
    names = {"region": "--region", "design": "--budget (design points)",
             "parameters": "the targets file's parameters", "scale": "fit.scale",
             "start_year": "fit.start_year", "replications": "fit.replications",
             "seed": "fit.seed", "reforms": "the fitted targets' methods",
             "years": "the fitted targets' years", "outcomes": "the fitted targets' quantities"}
    changed = [names.get(key, key) for key in sorted(set(document) | set(earlier))
               if key not in ("title", "description")
               and json.dumps(document.get(key), sort_keys=True, default=str)
               != json.dumps(earlier.get(key), sort_keys=True, default=str)]
    if changed:
        raise InputError("--out", None, f"{str(out)!r} holds a fit with other settings "
                         f"({', '.join(changed)} changed)",
                         "a new --out (the finished runs would not match), or the same "
                         "settings to resume")


def central_values_yaml(fit: Fit, record: str) -> str:
    """The posterior medians as a region file's ``behaviour`` section (nested as the region file
    nests them), each with its 90% interval; a parameter the targets do not inform alone says
    so in its comment."""
    tree: dict = {}
    for row in fit.parameters.to_dict("records"):
        node = tree
        parts = row["parameter"].split(".")[1:]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = row
    lines = [f"# Posterior medians of {fit.spec.title} ({record}).",
             "# Paste into a region file's behaviour section to use them as its values.",
             "behaviour:"]

    def emit(node: dict, depth: int) -> None:
        for key, value in node.items():
            indent = "  " * depth
            if "parameter" not in value:
                lines.append(f"{indent}{key}:")
                emit(value, depth + 1)
                continue
            number = float(value["posterior_median"])
            shown = f"{number:.4g}" if abs(number) < 1e4 else f"{number:.0f}"
            note = "" if value["informed"] else "; not informed alone"
            lines.append(f"{indent}{key}: {shown}  # 90% [{value['posterior_p05']:.4g}, "
                         f"{value['posterior_p95']:.4g}]{note}")
    emit(tree, 1)
    return "\n".join(lines) + "\n"


def report_markdown(fit: Fit) -> str:
    s = fit.summary
    lines = [f"# {fit.spec.title}: behaviour calibration", "",
             f"{s['points']} design points × {s['replications']} replications; the "
             f"{s['kept']} nearest kept ({s['accept']:.0%}); {s['estimator']}.", "",
             "## Fit per target", "",
             f"Median and 90% interval over {s['check']['members']} members of the ensemble, "
             "each run with its own seed (so the interval carries both the parameters' spread "
             "and the noise); z is the median's distance from the published value in its "
             "standard deviations.", "",
             "| target | role | published ± sd | simulated | 90% | z | status |",
             "|---|---|---|---|---|---|---|"]
    for row in fit.fit_table.to_dict("records"):
        if "simulated_median" not in row or pd.isna(row.get("simulated_median")):
            lines.append(f"| {row['target']} | {row['role']} | {row['published']:+.4f} ± "
                         f"{row['uncertainty']} | – | – | – | {row['status']} |")
            continue
        lines.append(f"| {row['target']} | {row['role']} | {row['published']:+.4f} ± "
                     f"{row['uncertainty']} | {row['simulated_median']:+.4f} | "
                     f"[{row['simulated_p05']:+.4f}, {row['simulated_p95']:+.4f}] | "
                     f"{row['z']:+.1f} | {row['status']} |")
    lines += ["", "## Parameters (posterior median and 90% interval)", "",
              "| parameter | prior | default | median | 90% | spread ÷ prior | note |",
              "|---|---|---|---|---|---|---|"]
    for row in fit.parameters.to_dict("records"):
        note = "; ".join(n for n in (
            "not informed" if not row["informed"] else "",
            f"at {row['at_bound']} bound" if isinstance(row["at_bound"], str) else "",
            "adjustment extrapolated" if row.get("extrapolated") else "") if n)
        lines.append(f"| {row['parameter']} | [{row['prior_low']:.4g}, {row['prior_high']:.4g}]"
                     f" | {row['default']} | {row['posterior_median']:.4g} | "
                     f"[{row['posterior_p05']:.4g}, {row['posterior_p95']:.4g}] | "
                     f"{row['sd_ratio']:.0%} | {note} |")
    if fit.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in fit.warnings]
    return "\n".join(lines) + "\n"


def write_fit(fit: Fit, folder: Path, targets_file: Path, region: str, budget: int) -> Path:
    """The analysis into ``folder/calibration`` (staged, then swapped into place)."""
    from sim.experiments.sweep import DESIGN, RESULTS, SWEEP_JSON
    from sim.store import RunFolder, run_record

    inputs = [targets_file, folder / SWEEP_JSON, folder / DESIGN, folder / RESULTS]
    with RunFolder(folder / "calibration", inputs=inputs) as run:
        record = run_record(inputs={"targets": str(targets_file),
                                    "fit_sweep": [str(p) for p in inputs[1:]]},
                            parameters={"region": region, "budget": budget,
                                        "fit": fit.spec.fit,
                                        "parameters": fit.spec.parameters},
                            seeds={"fit": fit.spec.fit["seed"],
                                   "jobs": "SeedSequence(seed, spawn_key=(point, replication))",
                                   "ensemble": "systematic resampling, offset from the seed"},
                            extra={"kind": "calibration", "summary": fit.summary,
                                   "warnings": fit.warnings})
        run.write_json("run_record.json", record)
        run.write_table("fit", fit.fit_table, parquet=False)
        run.write_table("parameters", fit.parameters, parquet=False)
        run.write_table("correlations", fit.correlations, parquet=False)
        run.write_table("ensemble", fit.ensemble, parquet=False)
        run.write_table("statistics", fit.statistics)
        run.write_table("check", fit.checked)
        revision = record.get("git_revision") or "unknown revision"
        run.path("behaviour.yaml").write_text(central_values_yaml(
            fit, f"drgsim calibrate behaviour, {revision}"), "utf-8")
        run.path("report.md").write_text(report_markdown(fit), "utf-8")
        return run.commit()
