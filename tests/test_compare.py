"""`drgsim compare`: common random numbers, intervals across replications, reform validation."""

from __future__ import annotations

import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sim.commands.cli import main
from sim.errors import InputError
from sim.experiments.compare import build_scenarios, compare, replication_seeds
from sim.resources import shipped, shipped_names

SCALE = 0.03


def test_a_reform_against_itself_differs_by_exactly_zero(tmp_path):
    same = tmp_path / "same.yaml"
    same.write_text("title: The baseline again\nchanges:\n  audit.sample_rate: {2020-01-01: 0.1}\n",
                    "utf-8")
    raw, summaries, scenarios, meta = compare(
        "default", "point", [same, shipped("policies", "point", ".yaml")], replications=2,
        seed=5, years=2, start_year=2023, scale=SCALE, progress=False)
    assert len(scenarios) == 3
    for name, table in summaries.items():
        assert (table["difference_mean"].fillna(0) == 0).all(), name
        assert (table["difference_p5"].fillna(0) == 0).all(), name
        assert (table["difference_p95"].fillna(0) == 0).all(), name
    assert meta["differing_parameters"] == []


def test_doubling_audits_shows_a_difference_whose_interval_excludes_zero():
    raw, summaries, scenarios, meta = compare(
        "default", "point", [shipped("reforms", "audit_double", ".yaml")], replications=4,
        seed=11, years=2, start_year=2023, scale=SCALE, progress=False)
    yearly = summaries["comparison_yearly"].set_index(["year", "variable"])
    for year in (2023, 2024):
        row = yearly.loc[(year, "upcoded_share")]
        assert row["difference_p95"] < 0, year            # the whole interval below zero
        # and not a trifle: at least a fifth fewer cases coded up (−28% with the calibrated
        # behaviour, 4.4% of cases coded up in the baseline)
        assert row["difference_mean"] < -0.2 * row["baseline_mean"], year
        assert row["replications"] == 4
    gap = yearly.loc[(2024, "upcoding_gap")]
    assert gap["difference_p95"] < 0
    changed = {(r["parameter"], r["reform"]) for r in meta["differing_parameters"]}
    assert ("audit.sample_rate", 0.2) in changed and ("audit.penalty_multiple", 2) in changed


def test_replications_differ_but_scenarios_share_them(tmp_path):
    seeds = replication_seeds(3, 4)
    assert len(set(seeds)) == 4 and seeds == replication_seeds(3, 4)
    later = tmp_path / "later.yaml"
    later.write_text("title: Audits from 2024\nchanges:\n  audit.sample_rate: {2024-01-01: 0.5}\n",
                     "utf-8")
    raw, summaries, _, _ = compare(
        "default", "point", [later], replications=2, seed=3, years=2, start_year=2023,
        scale=SCALE, executor=ThreadPoolExecutor(max_workers=2), progress=False)
    yearly = raw["yearly"].set_index(["scenario", "replication", "year"]).sort_index()
    labels = yearly.index.get_level_values("scenario").unique()
    # replications differ from each other
    assert yearly.loc[(labels[0], 0, 2023), "admissions"] != yearly.loc[(labels[0], 1, 2023),
                                                                         "admissions"]
    # within a replication the reform sees the baseline's draws: identical until it starts
    for replication in (0, 1):
        base = yearly.loc[(labels[0], replication, 2023)]
        reform = yearly.loc[(labels[1], replication, 2023)]
        assert base.equals(reform)
        assert not yearly.loc[(labels[0], replication, 2024)].equals(
            yearly.loc[(labels[1], replication, 2024)])


@pytest.mark.parametrize("name", shipped_names("reforms", ".yaml"))
def test_every_shipped_reform_fits_its_baseline(name):
    text = shipped("reforms", name, ".yaml").read_text("utf-8")
    baseline = "rate" if "baseline: rate" in text or "--baseline rate" in text else "point"
    scenarios = build_scenarios(baseline, [Path(name)])
    assert scenarios[1].title and scenarios[1].policy is not None


def _write(tmp_path, text):
    path = tmp_path / "reform.yaml"
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


def test_reform_invalid_for_the_baseline_names_file_and_path(tmp_path, capsys):
    reform = _write(tmp_path, """\
        title: Raise the rate
        changes:
          rate.base_rate: {2023-01-01: 9000}
        """)
    assert main(["compare", "--reform", str(reform), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(reform) in err and "changes.rate.base_rate" in err
    assert "is not a parameter of the baseline policy (point method)" in err
    assert not (tmp_path / "out").exists()


def test_misspelt_reform_path_suggests_the_closest(tmp_path):
    reform = _write(tmp_path, """\
        title: typo
        changes:
          audit.sample_rates: {2023-01-01: 0.2}
        """)
    with pytest.raises(InputError, match="did you mean audit.sample_rate"):
        build_scenarios("point", [reform])
