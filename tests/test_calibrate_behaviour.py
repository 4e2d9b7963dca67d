"""Behaviour calibration (issue 12, part 2): the ABC estimator recovers known parameters, bad
targets files and degenerate fits get one clear line, and ``drgsim calibrate behaviour`` runs a
resumable fit sweep and writes its analysis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.abc import DegenerateFit, abc_fit, diagnose, weighted_quantile
from calibration.behaviour import load_calibration, make_ensemble, target_statistics
from calibration.targets import Target
from sim.commands.cli import main
from sim.errors import InputError
from sim.inputs.policy import load_policy as load_policy_file

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the estimator
def lhs(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cells = np.stack([rng.permutation(n) for _ in range(d)], axis=1)
    return (cells + rng.uniform(size=(n, d))) / n


def simulator(unit: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Two statistics of three parameters: the third moves nothing (it cannot be identified)."""
    a, b = unit[:, 0], unit[:, 1]
    stats = np.column_stack([2 * a + b, np.exp(b) - a])
    return stats + rng.normal(0, noise, stats.shape)


def test_abc_recovers_the_parameters_that_made_the_targets():
    truth = np.array([[0.3, 0.6, 0.5]])
    observed = simulator(truth, np.random.default_rng(0), 0.0)[0]
    unit = lhs(2000, 3, seed=1)
    stats = simulator(unit, np.random.default_rng(2), 0.01)
    result = abc_fit(unit, stats, observed, np.array([0.02, 0.02]), accept=0.05)
    for j, true in enumerate(truth[0][:2]):
        low, high = weighted_quantile(result.unit[:, j], result.weight, [0.05, 0.95])
        assert low <= true <= high
        assert high - low < 0.15  # of a prior width 1
    diagnostics = diagnose(result.unit, result.weight)
    assert [d["informed"] for d in diagnostics] == [True, True, False]
    assert all(d["at_bound"] is None for d in diagnostics[:2])


def test_the_regression_adjustment_narrows_the_rejection_posterior():
    truth = np.array([[0.7, 0.2, 0.5]])
    observed = simulator(truth, np.random.default_rng(0), 0.0)[0]
    unit = lhs(600, 3, seed=3)
    stats = simulator(unit, np.random.default_rng(4), 0.01)
    result = abc_fit(unit, stats, observed, np.array([0.02, 0.02]), accept=0.2)

    def spread(values):
        low, high = weighted_quantile(values, result.weight, [0.05, 0.95])
        return high - low
    assert spread(result.unit[:, 0]) < spread(result.unit_raw[:, 0])
    assert abs(weighted_quantile(result.unit[:, 0], result.weight, 0.5) - 0.7) < 0.05


def test_a_target_out_of_reach_sits_at_a_bound():
    unit = lhs(400, 2, seed=5)
    stats = unit[:, :1] * 0.05                     # reaches at most 0.05
    result = abc_fit(unit, stats, np.array([0.08]), np.array([0.01]), accept=0.1)
    assert diagnose(result.unit, result.weight)[0]["at_bound"] == "high"


def test_degenerate_fits_are_refused_with_a_reason():
    unit = lhs(50, 2, seed=6)
    with pytest.raises(DegenerateFit, match="flat"):
        abc_fit(unit, np.full((50, 1), 0.3), np.array([0.1]), np.array([0.01]), 0.2)
    with pytest.raises(DegenerateFit, match="at least 4"):
        abc_fit(unit[:3], unit[:3, :1], np.array([0.1]), np.array([0.01]), 0.2)
    stats = unit[:, :1].copy()
    stats[3:] = np.nan                              # failed points are left out
    with pytest.raises(DegenerateFit, match="only 3"):
        abc_fit(unit, stats, np.array([0.1]), np.array([0.01]), 0.2)


def test_the_ensemble_follows_the_weights_and_is_reproducible():
    values = np.array([[1.0], [2.0], [3.0]])
    weight = np.array([0.5, 0.25, 0.25])
    design = pd.DataFrame({"point": [10, 11, 12]})
    first = make_ensemble(values, weight, ["x"], np.array([0, 1, 2]), design, 100, seed=1)
    assert first.equals(make_ensemble(values, weight, ["x"], np.array([0, 1, 2]), design, 100,
                                      seed=1))
    counts = first["x"].value_counts()
    assert counts[1.0] == 50 and counts[2.0] == 25 and counts[3.0] == 25
    assert set(first["design_point"]) == {10, 11, 12}


def test_target_statistics_are_paired_differences_against_fee_for_service():
    rows = []
    for point in (0, 1):
        for scenario, cost, readmit, private, public in (
                ("baseline", 100.0, 0.10, 0.05, 0.04), ("rate", 90.0 + point, 0.13, 0.20, 0.10)):
            rows.append({"point": point, "replication": 0, "seed": 1, "scenario": scenario,
                         "year": 2023, "cost_per_case": cost, "readmission_15d_rate": readmit,
                         "upcoded_share_private": private, "upcoded_share_public": public})
    targets = [Target("cost", -0.06, 0.02, "s", "rate", 1, "all", "cost_per_case_change",
                      "fitted", "w"),
               Target("readmit", 0.03, 0.01, "s", "rate", 1, "all", "readmission_15d_change",
                      "fitted", "w"),
               Target("owners", 0.1, 0.05, "s", "rate", 1, "all",
                      "upcoded_share_private_minus_public", "held_out", "w")]
    table = target_statistics(pd.DataFrame(rows), targets, 2023)
    assert table["cost"].tolist() == pytest.approx([-0.10, -0.09])
    assert table["readmit"].tolist() == pytest.approx([0.03, 0.03])
    # (0.20 − 0.10) − (0.05 − 0.04) = 0.09
    assert table["owners"].tolist() == pytest.approx([0.09, 0.09])


# --------------------------------------------------------------------------- the targets file
TINY = """title: tiny calibration
targets:
  points:
    value: 0.03
    uncertainty: 0.01
    source: test
    setting: {method: dip, year: 1, scheme: all}
    quantity: coded_cmi_change
    role: fitted
    why: test
  readmissions:
    value: 0.034
    uncertainty: 0.01
    source: test
    setting: {method: dip, year: 1, scheme: all}
    quantity: readmission_15d_change
    role: held_out
    why: test
  complications:
    value: 0.0035
    uncertainty: 0.001
    source: test
    setting: {method: dip, year: 1, scheme: all, experiment: complication_price_plus_10pct}
    quantity: upcoded_share_change
    role: held_out
    why: test
parameters:
  behaviour.upcoding_scale: {low: 150, high: 2400, distribution: loguniform}
fit: {scale: 0.01, replications: 1, accept: 0.5, ensemble: 10, check_draws: 3, budget: 10}
"""


def write(tmp_path: Path, text: str, name: str = "targets.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_the_shipped_targets_file_loads_with_priors_and_fit_settings():
    spec = load_calibration(ROOT / "calibration" / "targets.yaml")
    assert len(spec.fitted) == 4
    assert spec.methods == ["dip", "point", "rate"]
    assert all(p.startswith("behaviour.") for p in spec.parameters)
    assert spec.fit["scale"] == 0.05
    norway = {t.name: t for t in spec.simulated}["norway_complication_coding"]
    assert (norway.experiment, norway.role, norway.method) == (
        "complication_price_plus_10pct", "held_out", "rate")


def test_a_target_with_an_experiment_is_compared_with_its_method_alone():
    rows = [{"point": 0, "replication": 0, "seed": 1, "scenario": scenario, "year": 2023,
             "upcoded_share": share}
            for scenario, share in (("baseline", 0.0), ("rate", 0.050),
                                    ("rate+complication_price_plus_10pct", 0.054))]
    target = Target("norway", 0.0035, 0.001, "s", "rate", 1, "all", "upcoded_share_change",
                    "held_out", "w", "complication_price_plus_10pct")
    table = target_statistics(pd.DataFrame(rows), [target], 2023)
    assert table["norway"].tolist() == pytest.approx([0.004])   # 0.054 − 0.050, not − 0.0


def test_a_fitted_target_with_an_experiment_is_refused(tmp_path, refused):
    text = TINY.replace("experiment: complication_price_plus_10pct}\n    quantity: "
                        "upcoded_share_change\n    role: held_out",
                        "experiment: complication_price_plus_10pct}\n    quantity: "
                        "upcoded_share_change\n    role: fitted")
    assert text != TINY
    path = write(tmp_path, text)
    refused(main(["calibrate", "behaviour", "--targets", str(path), "--out",
                  str(tmp_path / "fit")]), "targets.complications.role", "held_out")
    assert not (tmp_path / "fit").exists()


@pytest.mark.parametrize("change, words", [
    (("parameters:\n  behaviour.upcoding_scale: {low: 150, high: 2400, distribution: "
      "loguniform}\n", ""), ["parameters", "a mapping of behaviour.<path>"]),
    (("behaviour.upcoding_scale:", "audit.sample_rate:"), ["parameters.audit.sample_rate",
                                                           "not a behavioural parameter"]),
    (("budget: 10", "budget: 10, speed: 2"), ["fit.speed", "unknown key"]),
    (("scale: 0.01", "scale: 2"), ["fit.scale", "a population scale in (0, 1]"]),
    (("scheme: all}\n    quantity: coded", "scheme: resident}\n    quantity: coded"),
     ["targets.points.setting.scheme", "resident"]),
    (("quantity: coded_cmi_change", "quantity: coded_cmi_chnage"),
     ["targets.points.quantity", "did you mean coded_cmi_change"]),
    (("fit: {", "fitt: {"), ["key 'fitt'", "unknown key", "did you mean fit"]),
    (("scheme: all}\n    quantity: coded", "scheme: all, yaer: 1}\n    quantity: coded"),
     ["targets.points.setting.yaer", "unknown key"]),
    (("{low: 150, high: 2400", "{low: 2400, high: 150"),
     ["parameters.behaviour.upcoding_scale", "low 2400 is not below high 150"]),
    (("behaviour.upcoding_scale:", "behaviour.upcoding_scael:"),
     ["parameters.behaviour.upcoding_scael", "did you mean behaviour.upcoding_scale"]),
])
def test_bad_targets_files_get_one_line(tmp_path, change, words):
    path = write(tmp_path, TINY.replace(*change))
    with pytest.raises(InputError) as caught:
        load_calibration(path)
    line = str(caught.value)
    assert "\n" not in line and str(path) in line
    for word in words:
        assert word in line


def test_an_empty_targets_file_gets_one_line(tmp_path, capsys):
    path = write(tmp_path, "title: nothing\ntargets: {}\n")
    assert main(["calibrate", "behaviour", "--targets", str(path), "--out",
                 str(tmp_path / "fit")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "targets" in error and "a mapping" in error
    assert not (tmp_path / "fit").exists()


def test_a_budget_too_small_for_the_fit_is_refused_before_any_run(tmp_path, capsys):
    path = write(tmp_path, TINY.replace("replications: 1", "replications: 2"))
    assert main(["calibrate", "behaviour", "--targets", str(path), "--budget", "12",
                 "--out", str(tmp_path / "fit")]) == 2
    error = capsys.readouterr().err
    assert "--budget" in error and "12 runs buy 3 design points (4 runs each)" in error
    assert "at least 16 runs (4 points)" in error
    assert not (tmp_path / "fit").exists()


# --------------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def tiny_fit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("calibration")
    path = write(folder, TINY)
    out = folder / "fit"
    code = main(["calibrate", "behaviour", "--targets", str(path), "--budget", "10",
                 "--executor", "serial", "--out", str(out)])
    return code, path, out


def test_the_fit_folder_holds_the_sweep_and_the_analysis(tiny_fit):
    code, _, out = tiny_fit
    assert code == 0
    sweep = json.loads((out / "sweep.json").read_text("utf-8"))
    assert sweep["scenarios"] == ["baseline", "dip"] and sweep["points"] == 5
    analysis = out / "calibration"
    for name in ("fit.csv", "parameters.csv", "correlations.csv", "ensemble.csv",
                 "behaviour.yaml", "report.md", "run_record.json", "statistics.parquet",
                 "check.csv"):
        assert (analysis / name).is_file(), name
    fit = pd.read_csv(analysis / "fit.csv")
    assert fit["target"].tolist() == ["points", "readmissions", "complications"]
    assert fit["role"].tolist() == ["fitted", "held_out", "held_out"]
    assert fit["simulated_median"].notna().all()      # all from the ensemble's check runs
    # the experiment ran (DIP with complications priced 10% higher, against DIP alone): more
    # cases coded up in every member
    assert (pd.read_csv(analysis / "check.csv")["complications"] > 0).all()
    assert len(pd.read_csv(analysis / "check.csv")) == 3
    ensemble = pd.read_csv(analysis / "ensemble.csv")
    assert len(ensemble) == 10
    assert ensemble["behaviour.upcoding_scale"].between(150, 2400).all()
    record = json.loads((analysis / "run_record.json").read_text("utf-8"))
    assert record["kind"] == "calibration" and record["summary"]["kept"] == 4


def test_running_the_fit_again_resumes_and_gives_the_same_analysis(tiny_fit):
    code, path, out = tiny_fit
    before = (out / "calibration" / "parameters.csv").read_text("utf-8")
    jobs = sorted(p.name for p in (out / "jobs").iterdir())
    manifest = (out / "manifest.jsonl").read_text("utf-8")
    assert main(["calibrate", "behaviour", "--targets", str(path), "--budget", "10",
                 "--executor", "serial", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "jobs").iterdir()) == jobs
    assert (out / "manifest.jsonl").read_text("utf-8") == manifest  # no job ran again
    assert (out / "calibration" / "parameters.csv").read_text("utf-8") == before


@pytest.mark.slow
def test_the_fit_recovers_a_parameter_from_targets_the_model_made(tmp_path):
    """The real model: cost per case under DIP simulated at cutting_scale 0.1 becomes the target;
    the fit over a wide prior puts 0.1 inside its 90% interval and narrows the prior."""
    from calibration.behaviour import load_calibration, target_statistics
    from sim.experiments.compare import run_job
    from sim.inputs.policy import set_values
    from sim.inputs.region import load_region_config
    from sim.resources import shipped

    config, _ = load_region_config("default")
    truth = 0.1
    rows = []
    for scenario, name in (("baseline", "ffs"), ("dip", "dip")):
        policy = load_policy_file(shipped("policies", name, ".yaml"))
        set_values(policy, {"behaviour.cutting_scale": truth}, "test")
        yearly = run_job(config, policy, 1, 2023, 99, 0.02)["yearly"]
        rows.append(yearly.assign(scenario=scenario, point=0, replication=0))
    target = Target("cost", 0.0, 0.005, "the model", "dip", 1, "all", "cost_per_case_change",
                    "fitted", "test")
    observed = float(target_statistics(pd.concat(rows), [target], 2023)["cost"].iloc[0])
    text = f"""title: recovery
targets:
  cost:
    value: {observed}
    uncertainty: 0.005
    source: the model at cutting_scale {truth}
    setting: {{method: dip, year: 1, scheme: all}}
    quantity: cost_per_case_change
    role: fitted
    why: test
parameters:
  behaviour.cutting_scale: {{low: 0.03, high: 0.6, distribution: loguniform}}
fit: {{scale: 0.02, replications: 1, accept: 0.3, ensemble: 20, check_draws: 2, budget: 60}}
"""
    path = write(tmp_path, text)
    assert main(["calibrate", "behaviour", "--targets", str(path), "--executor", "serial",
                 "--out", str(tmp_path / "fit")]) == 0
    parameters = pd.read_csv(tmp_path / "fit" / "calibration" / "parameters.csv").iloc[0]
    assert parameters["posterior_p05"] <= truth <= parameters["posterior_p95"]
    assert parameters["sd_ratio"] < 0.8
    assert load_calibration(path).fitted[0].value == observed


def test_a_fit_folder_with_other_settings_is_refused_in_the_calibration_s_terms(tiny_fit, capsys):
    _, path, out = tiny_fit
    assert main(["calibrate", "behaviour", "--targets", str(path), "--budget", "12",
                 "--executor", "serial", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "holds a fit with other settings (--budget (design points) changed)" in error
    assert "drgsim-calibration" not in error         # never the generated file's temporary path


def test_a_resumed_fit_may_name_the_targets_file_another_way(tiny_fit, monkeypatch):
    _, path, out = tiny_fit
    monkeypatch.chdir(path.parent)
    manifest = (out / "manifest.jsonl").read_text("utf-8")
    assert main(["calibrate", "behaviour", "--targets", f"./{path.name}", "--budget", "10",
                 "--executor", "serial", "--out", str(out)]) == 0
    assert (out / "manifest.jsonl").read_text("utf-8") == manifest


def test_the_central_values_paste_into_a_region_file():
    import yaml

    from calibration.behaviour import Fit, central_values_yaml
    from sim.inputs.behaviour import with_behaviour
    from sim.inputs.region import load_region_config

    rows = [{"parameter": p, "posterior_median": v, "posterior_p05": v * 0.5,
             "posterior_p95": v * 1.5, "informed": i}
            for p, v, i in (("behaviour.upcoding_ethics_cost.public", 3440.0, False),
                            ("behaviour.upcoding_ethics_cost.private", 972.0, False),
                            ("behaviour.lever_max.split", 0.103, True),
                            ("behaviour.upcoding_scale", 610.0, False))]
    fit = Fit(load_calibration(ROOT / "calibration" / "targets.yaml"), pd.DataFrame(),
              pd.DataFrame(rows), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), [], {})
    text = central_values_yaml(fit, "test")
    section = yaml.safe_load(text)["behaviour"]
    assert section["upcoding_ethics_cost"] == {"public": 3440, "private": 972}
    assert section["lever_max"] == {"split": 0.103}
    assert "not informed alone" in text
    def leaves(node, prefix="behaviour"):
        for key, value in node.items():
            if isinstance(value, dict):
                yield from leaves(value, f"{prefix}.{key}")
            else:
                yield f"{prefix}.{key}", value
    config, _ = load_region_config("default")
    merged = with_behaviour(config, dict(leaves(section)))  # every path valid, within bounds
    assert merged["behaviour"]["lever_max"]["split"] == 0.103
    assert merged["behaviour"]["upcoding_ethics_cost"]["private"] == 972
