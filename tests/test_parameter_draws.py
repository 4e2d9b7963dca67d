"""Parameter uncertainty in comparisons (issue 12, part 4): draws from a calibrated ensemble are
paired across scenarios like the random streams, and the variance is split between them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.commands.cli import main
from sim.errors import InputError
from sim.experiments.compare import compare, headline
from sim.experiments.draws import draw_sets, load_ensemble, variance_shares, with_draw
from sim.inputs.policy import load_policy
from sim.resources import shipped

SCALE = 0.02


def ensemble(tmp_path: Path, text: str | None = None) -> Path:
    path = tmp_path / "ensemble.csv"
    path.write_text(text or ("member,behaviour.upcoding_scale,behaviour.cut_depth\n"
                             "0,200,0.1\n1,2000,0.4\n"), "utf-8")
    return path


def test_a_reform_identical_to_its_baseline_differs_by_exactly_zero_with_draws(tmp_path):
    same = tmp_path / "same.yaml"
    same.write_text("title: The baseline again\nchanges:\n  audit.sample_rate: {2020-01-01: 0.1}\n",
                    "utf-8")
    raw, summaries, _, meta = compare(
        "default", "point", [same], replications=2, seed=5, years=1, start_year=2023,
        scale=SCALE, progress=False, parameter_draws=2, ensemble=str(ensemble(tmp_path)))
    for name, table in summaries.items():
        if name == "comparison_uncertainty":
            continue
        assert (table["difference_mean"].fillna(0) == 0).all(), name
        assert (table["difference_p95"].fillna(0) == 0).all(), name
    assert meta["parameter_draws"]["runs_per_scenario"] == 4
    yearly = raw["yearly"].set_index(["scenario", "replication"])["coded_cmi"]
    baseline = yearly.loc[meta["baseline"]]
    # runs 0, 1 and 2, 3 share their seeds (crossed design) but not their parameter sets
    members = meta["parameter_draws"]["members"]
    assert len(set(members)) == 2
    assert baseline.loc[0] != baseline.loc[2] and baseline.loc[1] != baseline.loc[3]


def test_each_replication_runs_its_own_parameter_set_paired_across_scenarios(tmp_path):
    """The command's default where an ensemble ships: replication r runs draw r with seed r in
    every scenario (R runs, not N × R); the sources are not split."""
    from sim.experiments.compare import replication_seeds, run_job

    path = ensemble(tmp_path)
    raw, summaries, _, meta = compare(
        "default", "point", [shipped("reforms", "audit_double", ".yaml")], replications=2,
        seed=5, years=1, start_year=2023, scale=SCALE, progress=False, parameter_draws="each",
        ensemble=str(path))
    draws = meta["parameter_draws"]
    assert draws["design"] == "each" and draws["runs_per_scenario"] == 2
    assert "comparison_uncertainty" not in summaries
    sets = draw_sets(load_ensemble(path), 2, 5)
    assert draws["members"] == [d["member"] for d in sets] and len(set(draws["members"])) == 2
    policy = load_policy(shipped("policies", "point", ".yaml"))
    config = __import__("sim.inputs.region", fromlist=["x"]).load_region_config("default")[0]
    yearly = raw["yearly"].set_index(["scenario", "replication"])
    for r, seed in enumerate(replication_seeds(5, 2)):  # exactly the run of draw r with seed r
        alone = run_job(config, with_draw(policy, policy, sets[r]["values"], "test"), 1, 2023,
                        seed, SCALE)["yearly"].iloc[0]
        assert yearly.loc[(meta["baseline"], r), "coded_cmi"] == alone["coded_cmi"]
        assert yearly.loc[(meta["baseline"], r), "fund_balance"] == alone["fund_balance"]


def test_the_command_draws_a_set_per_replication_by_default_where_an_ensemble_ships(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DRGSIM_CHROMIUM", str(tmp_path / "no-browser"))  # HTML only: quicker
    assert main(["compare", "--reform", "audit_double", "--replications", "2", "--years", "1",
                 "--scale", "0.02", "--lang", "en", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "2 replications, each with its own behavioural parameter set" in out
    meta = __import__("json").loads((tmp_path / "a" / "comparison.json").read_text("utf-8"))
    assert meta["parameter_draws"]["design"] == "each"
    assert meta["parameter_draws"]["ensemble"].endswith("calibration/ensembles/default.csv")
    page = (tmp_path / "a" / "report.en.html").read_text("utf-8")
    assert "each replication runs its own parameter set drawn from the calibrated" in page
    assert "each with its own behavioural parameter set" in page     # the subtitle
    region = tmp_path / "region.yaml"  # a region of one's own: no ensemble, no draws (the
    region.write_bytes(shipped("regions", "default", ".yaml").read_bytes())  # briefing says so:
    _, _, _, meta = compare(str(region), "point", [shipped("reforms", "audit_double", ".yaml")],
                            replications=2, seed=1, years=1, start_year=2023, scale=SCALE,
                            progress=False, parameter_draws=None)  # the command's default
    assert meta["parameter_draws"] is None   # test_the_briefing_says_which_source_…)


def test_draws_take_effect_and_the_share_from_parameters_is_reported(tmp_path):
    _, summaries, _, meta = compare(
        "default", "ffs", [shipped("policies", "point", ".yaml")], replications=2, seed=3,
        years=1, start_year=2023, scale=SCALE, progress=False, parameter_draws=2,
        ensemble=str(ensemble(tmp_path)))
    shares = summaries["comparison_uncertainty"].set_index("variable")
    # a 10-fold range of the upcoding scale moves the upcoded share far more than the noise
    assert shares.loc["upcoded_share", "parameter_share"] > 0.8
    numbers = headline(summaries, meta, meta["scenarios"][1]["label"])
    assert numbers["parameter_share"]["upcoded_share"] == pytest.approx(
        shares.loc["upcoded_share", "parameter_share"])


def test_variance_shares_by_hand():
    # two draws × two seeds (crossed: seed r is the same in both draws); the reform's
    # differences: draw 0: 1, 3; draw 1: 5, 7 — a draw effect ±2 and a seed effect ±1
    rows = []
    for replication, difference in enumerate([1.0, 3.0, 5.0, 7.0]):
        rows.append({"scenario": "baseline", "replication": replication, "year": 2023,
                     "x": 10.0})
        rows.append({"scenario": "reform", "replication": replication, "year": 2023,
                     "x": 10.0 + difference})
    table = variance_shares(pd.DataFrame(rows), ["year"], "baseline", draws=2, replications=2)
    row = table.set_index("variable").loc["x"]
    # draw means 2, 6; seed means 3, 5; grand 4: MS_draw = 2 × 8 = 16, MS_seed = 2 × 2 = 4,
    # residuals all 0: σ²_draw = 16 / 2 = 8, σ²_seed = 4 / 2 = 2, share 8 / 10
    assert row["parameter_share"] == pytest.approx(0.8)
    assert row["noise_share"] == pytest.approx(0.2)
    assert row["difference_variance"] == pytest.approx(pd.Series([1, 3, 5, 7]).var())
    one = variance_shares(pd.DataFrame(rows), ["year"], "baseline", draws=4, replications=1)
    assert one["parameter_share"].isna().all()   # one seed per draw: not separable


def test_a_pure_seed_effect_is_noise_and_a_pure_draw_effect_is_parameters():
    from sim.experiments.draws import parameter_share

    seeds_only = np.array([[0.0, 4.0, 1.0], [0.0, 4.0, 1.0], [0.0, 4.0, 1.0]])
    assert parameter_share(seeds_only) == pytest.approx(0.0)
    assert parameter_share(seeds_only.T) == pytest.approx(1.0)
    # with an interaction (residual) the share lies strictly between
    mixed = np.array([[0.0, 1.0], [3.0, 5.0], [6.0, 6.5]])
    assert 0 < parameter_share(mixed) < 1


def test_draws_are_reproducible_and_distinct(tmp_path):
    table = load_ensemble(ensemble(tmp_path, "behaviour.upcoding_scale\n"
                                   + "\n".join(str(300 + 10 * i) for i in range(20)) + "\n"))
    first = draw_sets(table, 5, seed=1)
    assert first == draw_sets(table, 5, seed=1)
    assert len({d["member"] for d in first}) == 5
    assert first != draw_sets(table, 5, seed=2)


def test_a_reform_that_sets_a_behavioural_parameter_keeps_its_own_value():
    base = load_policy(shipped("policies", "point", ".yaml"))
    sharper = load_policy(shipped("policies", "point", ".yaml"),
                          [shipped("reforms", "upcoding_sharper", ".yaml")])
    values = {"behaviour.upcoding_scale": 1500, "behaviour.cut_depth": 0.3}
    assert with_draw(sharper, base, values, "test").behaviour["behaviour.upcoding_scale"] == 300
    assert with_draw(sharper, base, values, "test").behaviour["behaviour.cut_depth"] == 0.3
    assert with_draw(base, base, values, "test").behaviour["behaviour.upcoding_scale"] == 1500


@pytest.mark.parametrize("text, words", [
    ("behaviour.upcoding_scle\n300\n", ["behaviour.upcoding_scle", "did you mean"]),
    ("behaviour.cut_depth\n0.3\n7\n", ["line 3, column behaviour.cut_depth", "7"]),
    ("member\n1\n", ["no behaviour.<path> columns"]),
])
def test_bad_ensembles_get_one_line(tmp_path, text, words):
    path = ensemble(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_ensemble(path)
    line = str(caught.value)
    assert "\n" not in line and str(path) in line
    for word in words:
        assert word in line


def test_the_command_refuses_an_ensemble_without_draws_and_draws_without_one(tmp_path, refused):
    path = ensemble(tmp_path)
    refused(main(["compare", "--reform", "audit_double", "--ensemble", str(path),
                  "--parameter-draws", "0", "--scale", "0.02", "--out", str(tmp_path / "a")]),
            "--ensemble", "--parameter-draws 0")
    region = tmp_path / "region.yaml"
    region.write_bytes(shipped("regions", "default", ".yaml").read_bytes())
    refused(main(["compare", str(region), "--reform", "audit_double", "--parameter-draws", "2",
                  "--scale", "0.02", "--out", str(tmp_path / "b")]),
            "no calibrated ensemble ships for region region", "--ensemble")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_sweep_with_an_ensemble_gives_each_replication_its_own_parameter_set(tmp_path):
    from sim.experiments.sweep import build_policies, load_sweep

    path = ensemble(tmp_path, "behaviour.upcoding_scale,behaviour.cut_depth\n"
                    "200,0.1\n2000,0.4\n")
    spec_file = tmp_path / "sweep.yaml"
    spec_file.write_text(f"""title: draws in a sweep
region: default
scale: 0.02
years: 1
baseline: point
reforms: [upcoding_sharper]
parameters:
  behaviour.cut_depth: {{levels: [0.2, 0.3]}}
design: {{method: grid}}
replications: 2
ensemble: {path}
outcomes: [upcoded_share]
""", "utf-8")
    spec = load_sweep(spec_file)
    assert {d["member"] for d in spec.draws} == {0, 1}
    base = load_policy(spec.baseline)
    for replication, draw in enumerate(spec.draws):
        (_, baseline), (_, sharper) = build_policies(spec, base, {"behaviour.cut_depth": 0.3},
                                                     replication)
        assert baseline.behaviour["behaviour.upcoding_scale"] == draw["values"][
            "behaviour.upcoding_scale"]
        assert baseline.behaviour["behaviour.cut_depth"] == 0.3      # the swept value wins
        assert sharper.behaviour["behaviour.upcoding_scale"] == 300  # the reform's own value
    spec_file.write_text(spec_file.read_text("utf-8").replace(str(path), "default"), "utf-8")
    region = tmp_path / "mine.yaml"
    region.write_bytes(shipped("regions", "default", ".yaml").read_bytes())
    spec_file.write_text(spec_file.read_text("utf-8").replace("region: default",
                                                              f"region: {region}"), "utf-8")
    with pytest.raises(InputError, match="no calibrated ensemble ships for region mine"):
        load_sweep(spec_file)


def test_the_shipped_ensemble_is_the_fit_of_the_shipped_targets():
    from calibration.behaviour import load_calibration
    from sim.experiments.draws import shipped_ensemble

    path = shipped_ensemble(shipped("regions", "default", ".yaml"))
    assert path is not None and path.name == "default.csv"
    table = load_ensemble(path)
    spec = load_calibration(Path(__file__).resolve().parents[1] / "calibration" / "targets.yaml")
    columns = [c for c in table.columns if c.startswith("behaviour.")]
    assert columns == list(spec.parameters) and len(table) == spec.fit["ensemble"]
    for column, prior in spec.parameters.items():
        assert table[column].between(prior["low"], prior["high"]).all(), column
    for record in ("default.md", "default.record.json", "default.parameters.csv"):
        assert (path.parent / record).is_file(), record


def test_the_briefing_says_which_source_of_uncertainty_dominates():
    from types import SimpleNamespace

    from sim.report.findings_page import uncertainty_clause

    def comparison(share, draws=True):
        return SimpleNamespace(meta={
            "parameter_draws": {"draws": 10} if draws else None,
            "headline": {"R": {"parameter_share": {"fund_balance": share}}}})
    english = uncertainty_clause(comparison(0.73), "en", "R")
    assert english.startswith("The intervals also carry")
    assert "10 parameter sets" in english and "73% comes from the behavioural parameters" in english
    assert english.endswith("so uncertainty about behaviour dominates")
    assert uncertainty_clause(comparison(0.2), "en", "R").endswith(
        "so the noise of replications dominates")
    assert "行为参数的不确定性为主" in uncertainty_clause(comparison(0.73), "zh", "R")
    assert uncertainty_clause(comparison(0.73, draws=False), "en", "R").startswith(
        "The intervals carry only the noise of replications")
    older = SimpleNamespace(meta={"headline": {}})  # a folder that did not record draws
    assert uncertainty_clause(older, "en", "R") is None
    each = SimpleNamespace(meta={"parameter_draws": {"draws": 8, "design": "each"},
                                 "headline": {"R": {"parameter_share": {}}}})
    assert "each replication runs its own parameter set" in uncertainty_clause(each, "en", "R")
    assert "两种来源未分开" in uncertainty_clause(each, "zh", "R")
    assert uncertainty_clause(comparison(float("nan")), "en", "R") is None  # one replication


def test_the_briefing_subtitle_counts_parameter_sets_beside_replications():
    from sim.report.briefing import subtitle_text

    meta = {"region_title": "A prefecture", "region_title_zh": "某地级市", "start_year": 2023,
            "replications": 4, "parameter_draws": {"draws": 10}}
    assert subtitle_text(meta, "en", 2027, "Point") == (
        "A prefecture | 2023–2027 | 4 replications × 10 behavioural parameter sets per "
        "scenario | baseline: Point")
    assert "每个方案4次重复×10组行为参数" in subtitle_text(meta, "zh", 2027, "点数法")
    plain = subtitle_text({**meta, "parameter_draws": None}, "en", 2027, "Point")
    assert "4 replications per scenario" in plain and "parameter" not in plain
