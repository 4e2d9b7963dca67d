"""One parameter tree (issue 11, part 1): behavioural parameters by path, documented once,
in reforms (bounds, "did you mean", not dated) and in `drgsim params`."""

from __future__ import annotations

import textwrap

import pytest

from sim.commands.cli import main
from sim.experiments.compare import run_job
from sim.inputs.behaviour import behaviour_docs, behaviour_fields, with_behaviour
from sim.inputs.policy import check_in_force, load_policy
from sim.inputs.region import load_region_config
from sim.resources import shipped

SCALE = 0.03


def reform(tmp_path, changes: str, name: str = "reform.yaml"):
    path = tmp_path / name
    path.write_text("title: A behavioural reform\nchanges:\n" + textwrap.indent(
        textwrap.dedent(changes), "  "), "utf-8")
    return path


def test_every_behavioural_parameter_is_documented_once():
    docs = behaviour_docs()
    assert set(docs) == set(behaviour_fields())
    for path, doc in docs.items():
        assert doc["source"] in ("measured", "calibrated", "assumed"), path
        if doc["source"] == "calibrated":  # cites the fit that produced the value
            assert "calibration/ensembles/" in doc["reference"], path
        assert doc["description"] and doc["unit"] and doc["reference"], path
    config, _ = load_region_config("default")  # every default is within its bounds
    assert with_behaviour(config, {f"behaviour.{p}": v for p, v in _leaves(config)}) is not None


def _leaves(config):
    for path in behaviour_fields():
        node = config["behaviour"]
        for part in path.split("."):
            node = node[part]
        yield path, node


def test_a_reform_of_upcoding_scale_changes_the_run(tmp_path):
    config, _ = load_region_config("default")
    point = shipped("policies", "point", ".yaml")
    base = load_policy(point)
    sharper = load_policy(point, [reform(tmp_path, "behaviour.upcoding_scale: {2020-01-01: 150}")])
    assert sharper.behaviour == {"behaviour.upcoding_scale": 150}
    assert sharper.as_record()["behaviour"] == {"behaviour.upcoding_scale": 150}
    check_in_force(sharper, 2023)
    before = run_job(config, base, 1, 2023, 3, SCALE)["yearly"]
    after = run_job(config, sharper, 1, 2023, 3, SCALE)["yearly"]
    # upcoding's target is σ((net gain − ethics cost) ÷ scale) (BEHAVIOUR §4): with the
    # calibrated ethics costs (¥3,440 public, ¥972 private) most hospitals' net gain per case is
    # below their ethics cost, so a sharper response (smaller scale) means less upcoding; same
    # patients (same seed)
    assert after["upcoded_share"].iloc[0] < before["upcoded_share"].iloc[0]
    assert after["admissions"].iloc[0] == pytest.approx(before["admissions"].iloc[0], rel=0.05)


@pytest.mark.parametrize("changes, fragments", [
    ("behaviour.lever_max.upcoding: {2020-01-01: 1.5}",
     ["changes.behaviour.lever_max.upcoding", "above the upper bound 1", "[0, 1]"]),
    ("behaviour.upcodng_scale: {2020-01-01: 900}",
     ["unknown parameter", "did you mean behaviour.upcoding_scale?"]),
    ("behaviour.upcoding_scale: {2020-01-01: 900, 2025-01-01: 300}",
     ["2 dated values", "not dated"]),
    ("behaviour.choice.level: {2020-01-01: [0, 1]}", ["3 numbers"]),
    ("behaviour.upcoding_scale: {2025-01-01: 900}",
     ["date 2025-01-01", "after the run starts (2023-01-01)", "whole run"]),
])
def test_bad_behavioural_reforms_are_refused_in_one_line(tmp_path, refused, changes, fragments):
    path = reform(tmp_path, changes)
    code = main(["run", "--reform", str(path), "--years", "1", "--scale", "0.03",
                 "--out", str(tmp_path / "out")])
    refused(code, str(path), *fragments)
    assert not (tmp_path / "out").exists()


def test_unknown_policy_path_suggests_behaviour_too(tmp_path, refused):
    path = reform(tmp_path, "upcoding_scale: {2020-01-01: 900}")
    refused(main(["params", "point", "--reform", str(path)]), "unknown parameter",
            "did you mean behaviour.upcoding_scale?")


def test_params_prints_the_behavioural_tree_with_units_and_sources(tmp_path, capsys):
    path = reform(tmp_path, "behaviour.upcoding_scale: {2020-01-01: 150}")
    assert main(["params", "point", "--reform", str(path), "--date", "2023-01-01"]) == 0
    out = capsys.readouterr().out
    assert "behaviour:  [region" in out
    assert "upcoding_scale: 150 (reform; region 610)  [yuan]  (calibrated;" in out
    assert "    distance_per_km: 0.03  [utility per km]" in out
    assert "  lever_max:\n" in out
