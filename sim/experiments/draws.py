"""Parameter uncertainty in a comparison (issue 12, part 4): ``drgsim compare --parameter-draws N``.

A calibrated ensemble (``calibration/ensembles/<region>.csv``, written by ``drgsim calibrate
behaviour`` as ``ensemble.csv``: one row per parameter set, columns ``behaviour.<path>``) says
what we do not know about how hospitals respond. A comparison with draws runs N parameter sets
drawn from it, each with every replication's seed: run ``k = d × R + r`` uses parameter set ``d``
and seed ``r``, for the baseline and every reform alike, so a reform's difference is paired in
both the random streams and the parameters (a reform identical to its baseline differs by
exactly zero). A reform that sets a behavioural parameter itself keeps its own value.

The intervals of the summaries are percentiles over all N × R paired runs, so they carry both
sources. :func:`variance_shares` splits the variance of each difference by a two-way
random-effects analysis of variance of the crossed design (draw × seed, one run a cell): the
parameters' share is the draws' component, ``max(0, (MS_draw − MS_residual) / R)``, over the sum
of the draws', the seeds' (``max(0, (MS_seed − MS_residual) / N)``) and the residual's; the seeds
and the residual are the noise of replications. With one replication (or one draw) the two
cannot be told apart and the share is left empty.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs import behaviour as behaviour_parameters
from sim.inputs.policy import Policy, set_values
from sim.resources import scenarios_root


def ensembles_folder() -> Path:
    """``calibration/ensembles`` of the installed package."""
    from importlib import resources

    return Path(str(resources.files("calibration"))) / "ensembles"


def shipped_ensemble(region_path: Path) -> Path | None:
    """The shipped ensemble of a shipped region (``calibration/ensembles/<name>.csv``)."""
    region_path = Path(region_path).resolve()
    if region_path.parent != (scenarios_root() / "regions").resolve():
        return None
    candidate = ensembles_folder() / f"{region_path.stem}.csv"
    return candidate if candidate.is_file() else None


def load_ensemble(path: str | Path) -> pd.DataFrame:
    """An ensemble file checked whole: its ``behaviour.<path>`` columns (others, such as
    ``member`` and ``design_point``, are kept but not used), each value valid for its parameter.
    One line for the first problem."""
    file = str(path)
    if not Path(path).is_file():
        raise InputError(file, None, "file not found", "an ensemble CSV written by drgsim "
                         "calibrate behaviour (ensemble.csv)")
    try:
        table = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(file, None, f"unreadable ({' '.join(str(error).split())[:120]})",
                         "a CSV file") from None
    columns = [c for c in table.columns if str(c).startswith("behaviour.")]
    if not columns or table.empty:
        raise InputError(file, None, "no behaviour.<path> columns or no rows",
                         "one row per parameter set and one column per behaviour.<path>")
    for column in columns:
        def fail(problem: str, expected: str, column=column) -> None:
            raise InputError(file, f"column {column}", problem, expected)

        behaviour_parameters.check_behaviour_path(column, fail)
        for row, value in enumerate(table[column].tolist(), start=2):
            def fail_row(problem: str, expected: str, row=row, column=column) -> None:
                raise InputError(file, f"line {row}, column {column}", problem, expected)
            if value != value:
                fail_row("empty", "a value")
            behaviour_parameters.check_behaviour_value(column, _plain(value), fail_row)
    return table


def _plain(value):
    """A table cell as a plain Python value (as the policy's checks expect)."""
    return value.item() if isinstance(value, np.generic) else value


def draw_sets(ensemble: pd.DataFrame, draws: int, seed: int) -> list[dict]:
    """``draws`` parameter sets from the ensemble: distinct members when there are enough,
    chosen by a stream of the root seed only (the same comparison draws the same sets)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x64726177,)))
    members = rng.choice(len(ensemble), size=draws, replace=draws > len(ensemble))
    columns = [c for c in ensemble.columns if str(c).startswith("behaviour.")]
    return [{"member": int(m), "values": {c: _plain(ensemble[c].iloc[m]) for c in columns}}
            for m in members]


def with_draw(policy: Policy, baseline: Policy, values: dict, source: str) -> Policy:
    """A copy of a scenario's policy with a draw's values, except those it sets itself."""
    own = {p for p in set(policy.behaviour) | set(baseline.behaviour)
           if policy.behaviour.get(p) != baseline.behaviour.get(p)}
    result = copy.deepcopy(policy)
    set_values(result, {p: v for p, v in values.items() if p not in own}, source)
    return result


def variance_shares(raw: pd.DataFrame, keys: list[str], baseline: str, draws: int,
                    replications: int) -> pd.DataFrame:
    """Per reform, key and numeric variable: the variance of the paired difference over all
    runs and the share due to the parameters, by two-way random-effects analysis of variance of
    the crossed design (draw × seed, one run a cell; module text); the rest is noise."""
    id_columns = ["scenario", "replication", *keys]
    numeric = [c for c in raw.columns if c not in id_columns
               and pd.api.types.is_numeric_dtype(raw[c])
               and not pd.api.types.is_bool_dtype(raw[c])]
    base = raw[raw["scenario"] == baseline].set_index(["replication", *keys])[numeric]
    rows = []
    for scenario, frame in raw[raw["scenario"] != baseline].groupby("scenario", sort=False):
        difference = (frame.set_index(["replication", *keys])[numeric] - base).reset_index()
        for key_values, group in difference.groupby(keys, sort=False):
            key_values = key_values if isinstance(key_values, tuple) else (key_values,)
            group = group.sort_values("replication")
            for variable in numeric:
                values = group[variable].to_numpy(float)
                total = float(np.var(values, ddof=1)) if len(values) > 1 and np.isfinite(
                    values).all() else 0.0
                share = np.nan
                if (replications > 1 and draws > 1 and total > 0
                        and len(values) == draws * replications):
                    share = parameter_share(values.reshape(draws, replications))
                rows.append({"scenario": scenario, **dict(zip(keys, key_values, strict=True)),
                             "variable": variable, "difference_variance": total,
                             "parameter_share": share,
                             "noise_share": np.nan if share != share else 1 - share})
    return pd.DataFrame(rows)


def parameter_share(cells: np.ndarray) -> float:
    """The parameters' share of the variance of a draws × seeds table (one value a cell):
    σ²_draw = (MS_draw − MS_residual) ÷ seeds and σ²_seed = (MS_seed − MS_residual) ÷ draws,
    each at least 0; the residual (the draws' and seeds' interaction) counts as noise."""
    n, r = cells.shape
    grand = cells.mean()
    by_draw, by_seed = cells.mean(axis=1), cells.mean(axis=0)
    ms_draw = r * ((by_draw - grand) ** 2).sum() / (n - 1)
    ms_seed = n * ((by_seed - grand) ** 2).sum() / (r - 1)
    residual = cells - by_draw[:, None] - by_seed[None, :] + grand
    ms_residual = (residual ** 2).sum() / ((n - 1) * (r - 1))
    draw = max(0.0, (ms_draw - ms_residual) / r)
    seed = max(0.0, (ms_seed - ms_residual) / n)
    total = draw + seed + ms_residual
    return float(draw / total) if total > 0 else float("nan")
