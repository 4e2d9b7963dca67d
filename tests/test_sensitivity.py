"""drgsim sensitivity (issue 11, part 5): SALib's Sobol' indices of the Ishigami function and
Morris on a linear function, read from synthetic sweep folders (no model); PRIM recovers a known
box; bad input is one line; a real tiny sweep gets its tables and charts; groups."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sim.commands.cli import main
from sim.errors import InputError
from sim.experiments import sensitivity as sa
from sim.experiments.sweep import OUTPUTS, load_sweep, make_design, sweep
from tests.conftest import tree

ROOT = Path(__file__).resolve().parents[1]
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def ishigami(u: np.ndarray) -> np.ndarray:
    x = -math.pi + 2 * math.pi * u
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def synthetic_folder(path: Path, method: str, unit: np.ndarray, outcomes: dict[str, np.ndarray],
                     replications: int = 1, noise: float = 0.0, options: dict | None = None,
                     reform: dict[str, np.ndarray] | None = None) -> Path:
    """A sweep folder as drgsim sweep leaves it, with made-up outcomes per design point (each
    replication ± ``noise``, so the point means are the given values)."""
    path.mkdir()
    names = [f"x{i + 1}" for i in range(unit.shape[1])]
    scenarios = ["baseline"] + (["reform"] if reform else [])
    points = len(unit)
    (path / "run_record.json").write_text(json.dumps(
        {"written_by": "drgsim", "kind": "sweep", "outputs": OUTPUTS}))
    design = pd.DataFrame({"point": np.arange(points)})
    for i, name in enumerate(names):
        design[f"u:{name}"] = unit[:, i]
    for i, name in enumerate(names):
        design[name] = unit[:, i]
    design.to_parquet(path / "design.parquet", index=False)
    (path / "sweep.json").write_text(json.dumps({
        "title": "synthetic", "method": method, "n": points, "design_options": options or {},
        "parameters": [{"path": n, "kind": "range", "low": 0.0, "high": 1.0, "levels": None}
                       for n in names],
        "points": points, "replications": replications, "jobs": points * replications,
        "scenarios": scenarios, "outcomes": list(outcomes), "start_year": 2023, "years": 1}))
    (path / "jobs").mkdir()
    rows = []
    for replication in range(replications):
        sign = 1 if replication % 2 == 0 else -1
        for label, values in (("baseline", outcomes), ("reform", reform or {})):
            if not values:
                continue
            frame = pd.DataFrame({"point": np.arange(points), "replication": replication,
                                  "seed": 0, "scenario": label, "year": 2023})
            for name in names:
                frame[name] = design[name]
            for outcome, y in values.items():
                frame[outcome] = y + (sign * noise if replications > 1 else 0.0)
            rows.append(frame)
        for point in range(points):
            (path / "jobs" / f"p{point:06d}-r{replication:04d}.parquet").touch()
    pd.concat(rows, ignore_index=True).to_parquet(path / "results.parquet", index=False)
    later = os.stat(path / "results.parquet").st_mtime + 1
    os.utime(path / "results.parquet", (later, later))
    return path


def sobol_sample(n: int, d: int, second: bool = False, groups=None) -> np.ndarray:
    from SALib.sample import sobol

    problem = {"num_vars": d, "names": [f"x{i + 1}" for i in range(d)], "bounds": [[0, 1]] * d}
    if groups:
        problem["groups"] = groups
    return sobol.sample(problem, n, calc_second_order=second, seed=3)


@pytest.fixture(scope="module")
def ishigami_folder(tmp_path_factory):
    unit = sobol_sample(1024, 3)
    y = ishigami(unit)
    return synthetic_folder(tmp_path_factory.mktemp("ishigami") / "sweep", "sobol", unit,
                            {"y": y, "flat": np.zeros(len(y))}, replications=2, noise=0.7,
                            options={"second_order": False},
                            reform={"y": y + 2 * unit[:, 2], "flat": np.zeros(len(y))})


# --------------------------------------------------------------------------- the indices
def test_sobol_indices_of_the_ishigami_function(ishigami_folder):
    analysis = sa.analyse(ishigami_folder, outcomes=["y"], views=["baseline"])
    rows = analysis.indices.set_index(["factor", "index"])
    for name in ("x1", "x2", "x3"):
        assert rows.loc[(name, "S1"), "value"] == pytest.approx(ISHIGAMI_S1[name], abs=0.06)
        assert rows.loc[(name, "ST"), "value"] == pytest.approx(ISHIGAMI_ST[name], abs=0.06)
        assert 0 < rows.loc[(name, "ST"), "conf"] < 0.1
    # replications (±0.7) are averaged per point first, and their share is reported
    assert 0.03 < analysis.summary["replication_noise"]["baseline/y"] < 0.06
    assert analysis.summary["top"]["baseline/y"][0]["factor"] == "x1"


def test_the_reform_is_analysed_as_its_paired_difference(ishigami_folder):
    analysis = sa.analyse(ishigami_folder, outcomes=["y", "flat"])
    assert analysis.views == ["baseline", "reform-baseline"]
    difference = analysis.indices[(analysis.indices["scenario"] == "reform-baseline")
                                  & (analysis.indices["outcome"] == "y")]
    total = difference.set_index(["factor", "index"])["value"]
    assert total[("x3", "ST")] > 0.95 and total[("x1", "ST")] < 0.05  # only x3 differs
    flat = analysis.indices[analysis.indices["outcome"] == "flat"]
    assert set(flat["index"]) == {"none"} and flat["value"].isna().all()


def test_second_order_and_groups_sampled_with_the_design(tmp_path):
    groups = ["a", "a", "x3"]
    unit = sobol_sample(512, 3, second=True, groups=groups)
    folder = synthetic_folder(tmp_path / "sweep", "sobol", unit, {"y": ishigami(unit)},
                              options={"second_order": True,
                                       "groups": {"a": ["x1", "x2"], "x3": ["x3"]}})
    analysis = sa.analyse(folder)
    rows = analysis.indices.set_index(["factor", "index"])["value"]
    assert set(analysis.indices["kind"]) == {"group"}
    # the group {x1, x2}: S1 = S1 + S2 + S12 = 0.7563; total = 1 - S3 (0)
    assert rows[("a", "S1")] == pytest.approx(0.7563, abs=0.07)
    assert rows[("a", "ST")] == pytest.approx(1.0, abs=0.07)
    assert rows[("x3", "ST")] == pytest.approx(0.2437, abs=0.07)
    assert ("a × x3", "S2") in rows.index


def test_groups_given_afterwards_are_bounds_on_a_sobol_design(ishigami_folder, tmp_path):
    groups = tmp_path / "groups.yaml"
    groups.write_text("pair: [x1, x3]\n")
    analysis = sa.analyse(ishigami_folder, outcomes=["y"], views=["baseline"],
                          groups_file=groups)
    rows = analysis.indices[analysis.indices["kind"] == "group"].set_index("index")
    assert rows.loc["S1", "value"] == pytest.approx(0.3139, abs=0.08)  # ≤ the closed 0.5576
    assert "lower bound" in rows.loc["S1", "note"] and "upper bound" in rows.loc["ST", "note"]


def test_morris_ranks_the_parameters_of_a_linear_function(tmp_path):
    from SALib.sample import morris

    problem = {"num_vars": 4, "names": ["x1", "x2", "x3", "x4"], "bounds": [[0, 1]] * 4}
    unit = morris.sample(problem, 20, num_levels=4, seed=2)
    y = 10 * unit[:, 0] + 3 * unit[:, 1] + 0.5 * unit[:, 2]
    folder = synthetic_folder(tmp_path / "sweep", "morris", unit, {"y": y},
                              options={"levels": 4})
    analysis = sa.analyse(folder)
    mu = analysis.indices[analysis.indices["index"] == "mu_star"].set_index("factor")["value"]
    assert list(mu.sort_values(ascending=False).index) == ["x1", "x2", "x3", "x4"]
    assert mu["x1"] == pytest.approx(10, rel=1e-6) and mu["x4"] == pytest.approx(0, abs=1e-9)
    groups = tmp_path / "groups.yaml"
    groups.write_text("g: [x1, x2]\n")
    with pytest.raises(InputError, match="Morris design sampled without them"):
        sa.analyse(folder, groups_file=groups)


def test_a_latin_hypercube_gets_regression_coefficients(tmp_path):
    unit = np.random.default_rng(1).random((400, 3))
    y = 3 * unit[:, 0] - unit[:, 1]
    folder = synthetic_folder(tmp_path / "sweep", "lhs", unit, {"y": y})
    analysis = sa.analyse(folder)
    rows = analysis.indices.set_index(["factor", "index"])["value"]
    assert rows[("(all)", "R2")] == pytest.approx(1.0)
    assert rows[("x1", "SRC")] == pytest.approx(3 / math.sqrt(10), abs=0.05)
    assert rows[("x2", "SRC")] < 0 and abs(rows[("x3", "SRC")]) < 0.02
    assert "need a Sobol' design" in analysis.summary["indices"]


# --------------------------------------------------------------------------- PRIM
def test_prim_recovers_a_known_box():
    unit = np.random.default_rng(5).random((3000, 4))
    inside = (unit[:, 0] > 0.6) & (unit[:, 2] < 0.3)
    steps = sa.prim_peel(unit, inside)
    assert steps[0]["coverage"] == 1 and steps[0]["density"] == pytest.approx(inside.mean())
    assert all(a["mass"] > b["mass"] for a, b in zip(steps, steps[1:], strict=False))
    chosen, why = sa.choose_step(steps, 0.95)
    assert "first box" in why
    limits = sa.prim_paste(unit, inside, steps[chosen]["limits"])
    box = np.all((unit >= limits[:, 0]) & (unit <= limits[:, 1]), axis=1)
    assert inside[box].mean() > 0.95 and inside[box].sum() / inside.sum() > 0.9
    assert limits[0, 0] == pytest.approx(0.6, abs=0.03) and limits[2, 1] == pytest.approx(
        0.3, abs=0.03)
    assert limits[1, 0] < 0.01 and limits[1, 1] > 0.99  # x2 and x4 left free
    assert limits[3, 0] < 0.01 and limits[3, 1] > 0.99


def test_prim_through_the_analysis(tmp_path):
    unit = np.random.default_rng(2).random((1000, 3))
    folder = synthetic_folder(tmp_path / "sweep", "lhs", unit, {"y": 3 * unit[:, 0] - unit[:, 1]})
    analysis = sa.analyse(folder, condition="y > 2", density_min=0.9)
    prim = analysis.prim
    assert prim["condition"] == "y > 2" and prim["density"] >= 0.9 and prim["coverage"] > 0.5
    limits = {limit["parameter"]: limit for limit in prim["box"]}
    assert limits["x1"]["low"] > 0.66 and "x3" not in limits  # x3 does not matter
    assert analysis.trajectory["chosen"].sum() == 1


@pytest.mark.parametrize("condition", ["y < ", "y ! 3", "y < 3; import os", "y < 3 and 1",
                                       "__import__('os').system('x') < 1", "y < nan"])
def test_conditions_are_parsed_never_evaluated(condition):
    with pytest.raises(InputError, match="an operator among"):
        sa.parse_condition(condition, ["y"])


# --------------------------------------------------------------------------- the command
@pytest.mark.parametrize("extra, fragments", [
    (["--outcome", "flta"], ["unknown outcome 'flta'", "did you mean flat?"]),
    (["--condition", "y <> 3"], ["--condition", "an operator among"]),
    (["--condition", "flatt < 3"], ["unknown outcome 'flatt'", "did you mean flat?"]),
    (["--scenario", "reforms"], ["unknown scenario", "did you mean reform?"]),
    (["--year", "2030"], ["--year", "2023"]),
    (["--density-min", "0.9"], ["--density-min", "without --condition"]),
    (["--density-min", "2", "--condition", "y < 1"], ["--density-min", "at most 1"]),
])
def test_bad_arguments_are_one_line(ishigami_folder, refused, extra, fragments):
    before = tree(ishigami_folder)
    refused(main(["sensitivity", str(ishigami_folder), *extra]), *fragments)
    assert tree(ishigami_folder) == before


def test_missing_unfinished_and_foreign_folders_are_refused(ishigami_folder, tmp_path,
                                                             refused):
    refused(main(["sensitivity", str(tmp_path / "nowhere")]), "does not exist")
    other = tmp_path / "other"
    other.mkdir()
    (other / "run_record.json").write_text(json.dumps({"written_by": "drgsim",
                                                       "kind": "compare"}))
    refused(main(["sensitivity", str(other)]), "output of drgsim compare, not of a sweep")
    unit = np.random.default_rng(1).random((10, 2))
    unfinished = synthetic_folder(tmp_path / "unfinished", "lhs", unit, {"y": unit[:, 0]})
    (unfinished / "jobs" / "p000003-r0000.parquet").unlink()
    refused(main(["sensitivity", str(unfinished)]), "has not finished", "9 of 10 jobs done")
    groups = tmp_path / "groups.yaml"
    groups.write_text("g: [x1, x7]\n")
    refused(main(["sensitivity", str(ishigami_folder), "--groups", str(groups)]),
            "'x7' is not a parameter of the sweep")


def test_a_real_tiny_sweep_gets_its_tables_and_charts(tmp_path, capsys):
    folder = tmp_path / "tiny"
    sweep("tiny_grid", executor="serial", out=folder, progress=False)
    code = main(["sensitivity", str(folder), "--condition", "upcoded_share > 0.12"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "grid design" in out and "PRIM upcoded_share > 0.12" in out
    written = folder / "sensitivity"
    for name in ("indices", "tornado", "points", "prim_trajectory", "prim_box"):
        assert (written / f"{name}.csv").is_file() and (written / f"{name}.parquet").is_file()
    summary = json.loads((written / "sensitivity.json").read_text("utf-8"))
    assert summary["scenarios"] == ["baseline", "budget_growth_3pct-baseline"]
    assert summary["design"] == "grid" and summary["prim"]["points"] == 4
    charts = written / "charts"
    for name in ("indices_baseline", "tornado_budget_growth_3pct-baseline", "prim",
                 "scatter_baseline_upcoded_share"):
        assert (charts / f"{name}.csv").is_file()
        width, height = Image.open(charts / f"{name}.png").size
        assert 300 < width <= 1400 and height > 200
    indices = pd.read_csv(written / "indices.csv")
    assert set(indices["index"]) == {"SRC", "R2"}
    # the folder is still the sweep's: resuming it and analysing again both work
    sweep("tiny_grid", executor="serial", out=folder, progress=False)
    assert main(["sensitivity", str(folder), "--scenario", "budget_growth_3pct"]) == 0


def test_a_sweep_file_may_declare_groups(tmp_path):
    text = (ROOT / "scenarios" / "sweeps" / "upcoding_sobol.yaml").read_text("utf-8")
    path = tmp_path / "grouped.yaml"
    path.write_text(text + "groups:\n  audit: [audit.sample_rate, audit.penalty_multiple,"
                    " audit.detection_probability]\n", "utf-8")
    spec = load_sweep(path)
    design = make_design(spec)
    assert len(design) == 64 * (6 + 2)  # six groups: audit and five parameters of their own
    assert spec.design_options["groups"]["audit"][0] == "audit.sample_rate"
    path.write_text(text + "groups:\n  audit: [audit.sample_rat]\n", "utf-8")
    with pytest.raises(InputError, match="did you mean audit.sample_rate"):
        load_sweep(path)


def test_the_share_of_the_replications_spread_due_to_parameter_sets():
    """Two-way analysis of variance, points fixed, sets random: outcome = point effect + set
    effect (sd 2) + noise (sd 1) → share σ²_set ÷ (σ²_set + σ²_noise) = 4 ÷ 5."""
    rng = np.random.default_rng(7)
    points, sets = 400, 40
    table = (rng.normal(0, 10, (points, 1)) + rng.normal(0, 2, (1, sets))
             + rng.normal(0, 1, (points, sets)))
    assert sa.draw_share(table) == pytest.approx(0.8, abs=0.08)
    no_sets = rng.normal(0, 10, (points, 1)) + rng.normal(0, 1, (points, sets))
    assert sa.draw_share(no_sets) < 0.05
    assert np.isnan(sa.draw_share(table[:1]))            # one point: not separable
    assert np.isnan(sa.draw_share(np.ones((5, 3))))       # no spread at all


def test_a_sweep_with_an_ensemble_reports_the_parameter_sets_share(tmp_path):
    """The synthetic folder's replications differ by ±0.7 at every point alike: a set's effect
    (with an ensemble the replications are parameter sets), so the whole spread is theirs."""
    unit = sobol_sample(64, 3)
    folder = synthetic_folder(tmp_path / "sweep", "sobol", unit, {"y": ishigami(unit)},
                              replications=2, noise=0.7, options={"second_order": False})
    meta = json.loads((folder / "sweep.json").read_text())
    assert "replication_parameter_share" not in sa.analyse(folder, outcomes=["y"]).summary
    (folder / "sweep.json").write_text(json.dumps({**meta, "ensemble": "ensemble.csv"}))
    summary = sa.analyse(folder, outcomes=["y"]).summary
    assert summary["replication_parameter_share"]["baseline/y"] == pytest.approx(1.0)
    assert summary["ensemble"] == "ensemble.csv"
