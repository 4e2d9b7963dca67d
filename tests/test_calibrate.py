"""`drgsim calibrate weights` (POLICY_RULES §1) and the budget-neutral rate (§1.5, §3).

The pure rules have hand-computed worked cases in tests/rules/worked_cases.yaml; here: weights
recovered from cases drawn from known weights, case-level and aggregated data agreeing, the
command's files, its refusals, the bureau calling the same function, and a null
``rate.base_rate`` paying each level what its cases cost.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from calibration.weights import (
    CostData,
    Overrides,
    calibrate_catalogue,
    calibrate_weights,
)
from sim.commands.cli import main
from sim.inputs.cases import validate_cases
from sim.inputs.catalogue import load_catalogue
from sim.inputs.policy import load_policy
from sim.resources import shipped
from sim.rules import weights as rules
from sim.settlement import settle

LEVELS = ("primary", "secondary", "tertiary")
LEVEL_FACTOR = np.array([0.7, 1.0, 1.3])
BASE = 10_000.0
CATALOGUE_COLUMNS = "code,name,adrg,mdc,severity_rank,weight,basic_group,stable,whole_group_review"


def _catalogue(tmp_path: Path, weights: list[float | None], name="previous.csv") -> Path:
    """A catalogue of groups G00, G01 … in families of two (ranks 1 and 2)."""
    rows = [CATALOGUE_COLUMNS]
    for index, weight in enumerate(weights):
        family = f"F{index // 2:02d}"
        rows.append(f"G{index:02d},group {index},{family},F,{index % 2 + 1},"
                    f"{'' if weight is None else weight},False,True,False")
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n", "utf-8")
    return path


def _cases(weights: np.ndarray, per_group: int, seed: int, sigma: float = 0.2) -> pd.DataFrame:
    """Cases drawn from known weights: cost = weight × base × level factor × lognormal noise of
    mean 1; levels drawn with the same shares in every group."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(len(weights)), per_group)
    level = rng.choice(3, size=len(group), p=[0.3, 0.4, 0.3])
    noise = rng.lognormal(-sigma**2 / 2, sigma, len(group))
    cost = np.round(weights[group] * BASE * LEVEL_FACTOR[level] * noise, 2)
    return pd.DataFrame({"drg": [f"G{g:02d}" for g in group],
                         "hospital_level": np.asarray(LEVELS)[level], "cost": cost})


def _calibrate(tmp_path, frame: pd.DataFrame, catalogue: Path, name="out.csv", **options):
    data = tmp_path / f"{name}.data.csv"
    frame.to_csv(data, index=False)
    return calibrate_weights(data, catalogue, tmp_path / name, **options), tmp_path / name


# --------------------------------------------------------------------------- §1 recovered
KNOWN = np.array([0.3, 0.45, 0.6, 0.8, 1.0, 1.2, 1.5, 1.9, 2.4, 3.0, 4.0, 5.5])
TRUE = KNOWN / KNOWN.mean()  # equal counts: weights relative to the mean case


@pytest.mark.parametrize("trim", ["none", "sd:3", "pct:2.5,97.5"])
def test_weights_recovered_from_cases_drawn_from_known_weights(tmp_path, trim):
    """§1.1, §1.3, §1.5, §1.6: 8,000 cases a group, cost noise sd 20%: weights within 1%,
    coefficients within 1.5%, rates within 1% of the base cost × level factor (largest errors
    measured, by trimming rule: weights 0.35/0.29/0.32%, coefficients 0.99/0.85/0.99%, rates
    0.22%). Noise of one shape in every group × level trims alike everywhere, so trimming leaves
    the ratios unbiased."""
    catalogue = _catalogue(tmp_path, [1.0] * len(KNOWN))
    result, out = _calibrate(tmp_path, _cases(TRUE, 8_000, seed=11), catalogue, trim=trim)
    written = load_catalogue(out)
    np.testing.assert_allclose(written.weights, TRUE, rtol=0.01)
    mix = np.array([0.3, 0.4, 0.3]) @ LEVEL_FACTOR  # the mean level factor of every group
    for index, name in enumerate(LEVELS):
        np.testing.assert_allclose(written.table[f"coefficient_{name}"],
                                   LEVEL_FACTOR[index] / mix, rtol=0.015)
    rates = np.array([result.rates[name] for name in LEVELS])
    np.testing.assert_allclose(rates, BASE * LEVEL_FACTOR, rtol=0.01)
    assert result.counts["groups_from_data"] == len(KNOWN)
    assert written.table["stable"].all()


def test_weights_exact_when_every_case_costs_its_weight(tmp_path):
    """No noise, one level: weight = group mean ÷ overall mean to the 8th decimal (§1.1)."""
    catalogue = _catalogue(tmp_path, [1.0] * 4)
    known = np.array([0.5, 1.0, 1.5, 3.0])
    counts = [40, 30, 50, 30]
    group = np.repeat(np.arange(4), counts)
    frame = pd.DataFrame({"drg": [f"G{g:02d}" for g in group], "cost": known[group] * 1000})
    _, out = _calibrate(tmp_path, frame, catalogue, trim="none")
    overall = (known[group] * 1000).mean()  # 1,346.15… : 175,000 / 130
    np.testing.assert_allclose(load_catalogue(out).weights,
                               np.round(known * 1000 / overall, 8), rtol=0, atol=1e-12)


def test_aggregated_and_case_level_input_agree(tmp_path):
    """One row per group and level (count, mean cost) gives the catalogue that the cases give
    (without trimming, which needs individual costs)."""
    catalogue = _catalogue(tmp_path, [1.0] * len(KNOWN))
    cases = _cases(TRUE, 500, seed=5)
    cases = cases[~((cases["drg"] == "G03") & (cases["hospital_level"] == "primary"))]
    by_case, out_cases = _calibrate(tmp_path, cases, catalogue, "cases.csv", trim="none")
    grouped = cases.groupby(["drg", "hospital_level"])["cost"].agg(["count", "mean"])
    aggregated = grouped.reset_index().rename(columns={"count": "cases", "mean": "mean_cost"})
    aggregated["mean_cost"] = aggregated["mean_cost"].map(repr)
    by_group, out_groups = _calibrate(tmp_path, aggregated, catalogue, "groups.csv")
    a, b = load_catalogue(out_cases).table, load_catalogue(out_groups).table
    exact = [c for c in a.columns if c.startswith(("weight", "coefficient_"))]
    pd.testing.assert_frame_equal(a[exact], b[exact], rtol=0, atol=1e-8)
    means = [c for c in a.columns if c.startswith("mean_cost")]  # to the cent (a half may tip)
    pd.testing.assert_frame_equal(a[means], b[means], rtol=0, atol=0.0100001)
    assert by_case.rates == pytest.approx(by_group.rates, rel=1e-12)
    assert by_group.trim == "none (aggregated data)"
    # one row per group, without levels: the same weights, one rate for all levels
    totals = cases.groupby("drg")["cost"].agg(["count", "mean"]).reset_index().rename(
        columns={"count": "cases", "mean": "mean_cost"})
    totals["mean_cost"] = totals["mean_cost"].map(repr)
    no_levels, out_totals = _calibrate(tmp_path, totals, catalogue, "totals.csv")
    np.testing.assert_allclose(load_catalogue(out_totals).weights, a["weight"], atol=1e-8)
    assert list(no_levels.rates) == ["all levels"]
    assert "coefficient_primary" not in load_catalogue(out_totals).table


# --------------------------------------------------------------------------- §1.2, §1.4
def test_ungroupable_records_minimum_overrides_designated_and_flags(tmp_path):
    """§1.2: records without a group, QY groups and unknown codes are dropped and counted; a
    group under the minimum keeps its previous weight and is unstable; a designated one is
    priced from its few cases; §1.4: an override wins; the grouping rate warns under 95%."""
    catalogue = _catalogue(tmp_path, [1.0, 2.0, 0.7, None])
    rows = ([("G00", "primary", 1000.0)] * 6 + [("G00", "tertiary", 1400.0)] * 6
            + [("G01", "secondary", 3000.0)] * 3 + [("G02", "secondary", 900.0)] * 2
            + [("G03", "tertiary", 5000.0)] * 1
            + [("", "primary", 10.0), ("AQY", "primary", 10.0), ("ZZ99", "primary", 10.0)])
    frame = pd.DataFrame(rows, columns=["drg", "hospital_level", "cost"])
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("title: experts\nweights: {G00: 0.9}\ndesignated: [G03]\n", "utf-8")
    result, out = _calibrate(tmp_path, frame, catalogue, min_cases=5, trim="none",
                             overrides_path=overrides)
    table = load_catalogue(out).table.set_index("code")
    groups = result.groups.set_index("code")
    # kept cases: G00 6 × 1,000 + 6 × 1,400 = 14,400; G01 9,000; G02 1,800; G03 5,000:
    # overall mean 30,200 / 18 = 1,677.78, so G03 weighs 5,000 / 1,677.78 = 2.98013245
    overall = 30_200 / 18
    assert table.loc["G00", "weight"] == 0.9                      # override (§1.4)
    assert groups.loc["G00", "status"] == "expert_override"
    assert table.loc["G01", "weight"] == 2.0                      # 3 cases < 5: kept
    assert groups.loc["G01", "status"] == "kept_previous_below_minimum"
    assert table.loc["G02", "weight"] == 0.7
    assert table.loc["G03", "weight"] == pytest.approx(round(5000 / overall, 8))  # designated
    assert groups.loc["G03", "status"] == "designated_below_minimum"
    assert table["stable"].tolist() == [True, False, False, False]
    # coefficients of G00 from its data: 1,000 / 1,200 and 1,400 / 1,200; others keep theirs
    assert table.loc["G00", "coefficient_primary"] == round(1000 / 1200, 8)
    assert table.loc["G00", "coefficient_tertiary"] == round(1400 / 1200, 8)
    assert np.isnan(table.loc["G01", "coefficient_secondary"])
    counts = result.counts
    assert (counts["dropped_no_group"], counts["dropped_ambiguous"],
            counts["dropped_code_not_in_the_catalogue"]) == (1, 1, 1)
    assert result.grouping_rate == pytest.approx(18 / 21)
    assert any("only 85.7% of records grouped" in w for w in result.warnings)
    report = (tmp_path / "out.csv.report.md").read_text("utf-8")
    assert "grouping rate: 85.71%" in report and "below 95%" in report
    assert "ZZ99 1" in report and "AQY 1" in report
    # §1.5: rate of a level = its cost ÷ Σ published weights of its cases
    assert result.rates["primary"] == pytest.approx(6000 / (6 * 0.9))
    assert result.rates["secondary"] == pytest.approx((9000 + 1800) / (3 * 2.0 + 2 * 0.7))
    card = yaml.safe_load((tmp_path / "out.csv.source.yaml").read_text("utf-8"))
    assert card["inputs"]["overrides"]["file"] == str(overrides)
    assert card["options"] == {"min_cases": 5, "trim": "none", "decimals": 8,
                               "levels": list(LEVELS), "skip_bad_rows": False}


def test_clamped_coefficients_are_listed(tmp_path):
    """§1.6: a lower level above the level above is clamped down and named in the report."""
    catalogue = _catalogue(tmp_path, [1.0, 1.0])
    frame = pd.DataFrame({"drg": ["G00"] * 4 + ["G01"] * 4,
                          "hospital_level": ["primary", "primary", "tertiary", "tertiary"] * 2,
                          "cost": [3000, 3000, 1000, 1000, 1000, 1000, 2000, 2000]})
    result, out = _calibrate(tmp_path, frame, catalogue, min_cases=2, trim="none")
    table = load_catalogue(out).table
    assert table.loc[0, "coefficient_primary"] == table.loc[0, "coefficient_tertiary"] == 0.5
    assert result.counts["coefficients_clamped"] == 1
    report = (tmp_path / "out.csv.report.md").read_text("utf-8")
    assert "Clamped so that no lower level exceeds the level above (1 group(s))" in report


def test_percentile_trimming_leaves_small_cells_whole(tmp_path):
    """§1.3 pct:2.5,97.5 by group × level drops floor(n × 2.5%) cases at each end of each cell:
    groups of 44 cases split 40/2/2 over the levels lose the cheapest and the dearest of their
    40 tertiary cases and nothing else, so every level keeps its coefficient. (Cut at
    interpolated percentiles, each cell lost its minimum and maximum: 6 cases a group, both
    cases of each pair, and the primary and secondary coefficients.)"""
    catalogue = _catalogue(tmp_path, [1.0, 1.0])
    rows = []
    for code, scale in (("G00", 1), ("G01", 2)):
        rows += [(code, "tertiary", 1000.0 * scale)] * 38 + [(code, "tertiary", 100.0 * scale),
                                                               (code, "tertiary", 1e4 * scale)]
        rows += [(code, "primary", 600.0 * scale), (code, "primary", 800.0 * scale)]
        rows += [(code, "secondary", 900.0 * scale)] * 2
    frame = pd.DataFrame(rows, columns=["drg", "hospital_level", "cost"])
    result, out = _calibrate(tmp_path, frame, catalogue, trim="pct:2.5,97.5")
    assert result.counts["trimmed"] == 4
    assert result.groups["cases_trimmed"].tolist() == [2, 2]
    table = load_catalogue(out).table
    # kept: 38 × 1,000 + 600 + 800 + 2 × 900 = 41,200 over 42 cases (G01 twice that); the
    # overall mean is 123,600 / 84, so G00 weighs 2/3 and G01 4/3
    mean = 41_200 / 42
    assert table["weight"].tolist() == [0.66666667, 1.33333333]
    for name, level_mean in (("primary", 700), ("secondary", 900), ("tertiary", 1000)):
        assert table[f"coefficient_{name}"].tolist() == [round(level_mean / mean, 8)] * 2
    # sd:3 never trims a cell of up to 10 cases; here it takes the 10,000 (and 20,000) only
    by_sd, _ = _calibrate(tmp_path, frame, catalogue, "sd.csv", trim="sd:3")
    assert by_sd.groups["cases_trimmed"].tolist() == [1, 1]


def test_a_level_without_cases_is_filled_openly(tmp_path, capsys):
    """§1.5 has no rate for a level without priced cases; the policy format wants a number per
    level, so the rates reform gives it the all-levels rate (cost ÷ case mix of every case),
    says so beside the number and in its rationale, and the console, the report and the source
    card say the same; nothing prints 'nan'."""
    catalogue = _catalogue(tmp_path, [1.0, 2.0])
    frame = pd.DataFrame([("G00", "secondary", 1000.0)] * 2 + [("G00", "tertiary", 1400.0)] * 4
                         + [("G01", "secondary", 2000.0)] * 2 + [("G01", "tertiary", 3000.0)] * 2,
                         columns=["drg", "hospital_level", "cost"])
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "out.csv"
    assert main(["calibrate", "weights", str(data), "--catalogue", str(catalogue), "--out",
                 str(out), "--min-cases", "2", "--trim", "none"]) == 0
    printed = capsys.readouterr()
    # weights 7,600 / 6 ÷ 1,760 = 0.71969697 and 2,500 ÷ 1,760 = 1.42045455; every case:
    # 17,600 ÷ (6 × 0.71969697 + 4 × 1.42045455) = 1,760.00 (the mean of the two level rates,
    # 1,401.77 and 2,028.08, would be 1,714.93)
    pooled = 17_600 / (6 * 0.71969697 + 4 * 1.42045455)
    assert "nan" not in printed.out + printed.err
    assert (f"primary none (no priced cases; out.csv.rates.yaml gives it the all-levels rate "
            f"¥{pooled:,.2f})") in printed.out
    assert "no priced cases at level(s) primary" in printed.err
    fragment = (tmp_path / "out.csv.rates.yaml").read_text("utf-8")
    rates = yaml.safe_load(fragment)["changes"]["rate.base_rate"]
    given = next(iter(rates.values()))
    assert given["primary"] == round(pooled, 2) == 1760.0
    assert given["secondary"] == round(6000 / (2 * 0.71969697 + 2 * 1.42045455), 2)
    assert (f"primary: {round(pooled, 2)}  # no cases at this level: the all-levels rate"
            in fragment)
    assert "No priced case of level(s) primary" in yaml.safe_load(fragment)["rationale"][
        "summary"]
    load_policy(shipped("policies", "rate", ".yaml"), [tmp_path / "out.csv.rates.yaml"])
    report = (tmp_path / "out.csv.report.md").read_text("utf-8")
    assert "| primary | none: no priced cases (the rates reform: 1,760.00, the all-levels " \
           "rate) | none |" in report
    card = yaml.safe_load((tmp_path / "out.csv.source.yaml").read_text("utf-8"))
    assert card["rates_per_level"]["primary"] is None
    assert card["rates_filled"]["levels"] == ["primary"]
    assert card["rates_filled"]["rate"] == 1760.0


def _catalogue_with(tmp_path: Path, weights: list[float | None], **columns) -> Path:
    path = _catalogue(tmp_path, weights)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for name, values in columns.items():
        table[name] = ["" if v is None else repr(float(v)) for v in values]
    table.to_csv(path, index=False)
    return path


def test_groups_below_the_minimum_keep_their_previous_reference_means(tmp_path):
    """§1.2 leaves groups with fewer than the minimum out of the calibration; their reference
    mean costs (§2.3) stay the previous catalogue's, or empty (the settlement then takes the
    settled cases' own), as their weight stays the previous one; groups priced from the data
    publish the data's means. The previous payment standards are dropped (weights × old rates),
    said in the report and the source card. Pluralised: 'fewer than 5 cases', '1 case'."""
    catalogue = _catalogue_with(
        tmp_path, [1.0, 2.0, 0.7],
        mean_cost=[900, 1900, None], mean_cost_secondary=[800, 1800, None],
        mean_cost_tertiary=[1000, 2000, None],
        payment_standard=[7990, 15980, 5593], payment_standard_tertiary=[8000, 16000, 5600])
    frame = pd.DataFrame([("G00", "secondary", 1000.0)] * 5 + [("G00", "tertiary", 1400.0)] * 5
                         + [("G01", "secondary", 3000.0)] * 3 + [("G02", "tertiary", 500.0)] * 2,
                         columns=["drg", "hospital_level", "cost"])
    result, out = _calibrate(tmp_path, frame, catalogue, min_cases=5, trim="none")
    table = load_catalogue(out).table.set_index("code")
    assert table.loc["G00", ["mean_cost", "mean_cost_secondary", "mean_cost_tertiary"]].tolist() \
        == [1200, 1000, 1400]
    assert table.loc["G01", ["weight", "mean_cost", "mean_cost_secondary",
                             "mean_cost_tertiary"]].tolist() == [2.0, 1900, 1800, 2000]
    assert table.loc["G02", ["mean_cost", "mean_cost_secondary", "mean_cost_tertiary"]].isna(
        ).all()
    assert result.counts["cases_in_groups_below_minimum"] == 5
    # the report table still shows what the few cases cost
    assert result.groups.set_index("code").loc["G01", "mean_cost"] == 3000
    assert not [c for c in table.columns if c.startswith("payment_standard")]
    report = (tmp_path / "out.csv.report.md").read_text("utf-8")
    assert "Not carried over from `previous.csv`: `payment_standard`, " \
           "`payment_standard_tertiary`" in report
    card = yaml.safe_load((tmp_path / "out.csv.source.yaml").read_text("utf-8"))
    assert card["columns_dropped"]["columns"] == ["payment_standard", "payment_standard_tertiary"]
    assert "fewer than 5 cases and kept their previous weight and reference mean costs" in \
        " ".join(result.warnings)
    single, _ = _calibrate(tmp_path, frame, catalogue, "single.csv", min_cases=1, trim="none")
    text = (tmp_path / "single.csv.report.md").read_text("utf-8") + " ".join(single.warnings)
    assert "Minimum 1 case (§1.2)" in text and "at least 1 case;" in text
    assert "1 cases" not in text


# --------------------------------------------------------------------------- row problems
ROWS = ("drg,hospital_level,cost\n"
        "G00,tertiary,1000\n"      # row 1
        "G00,tertiary,1100\n"      # 2
        "G00,secondary,900\n"      # 3
        "G00,tertiary,\"1.996,34\"\n"  # 4: a European amount
        "ZZ99,tertiary,500\n"      # 5: not a catalogue group: ungroupable, not a problem
        "G01,secondary,2000\n"     # 6
        "G01,tertiary,2100\n"      # 7
        "G01,clinic,2200\n"        # 8: unknown level
        "G01,tertiary,-5\n")       # 9: negative cost


def test_every_row_problem_at_once_and_in_the_errors_file(tmp_path, capsys):
    """All problems in one line, the first by row (row 4's amount before row 8's level), every
    one in --errors; an unknown group code is an ungroupable record (§1.2), not a problem."""
    catalogue = _catalogue(tmp_path, [1.0, 2.0])
    data = tmp_path / "data.csv"
    data.write_text(ROWS, "utf-8")
    errors = tmp_path / "problems.csv"
    arguments = ["calibrate", "weights", str(data), "--catalogue", str(catalogue), "--out",
                 str(tmp_path / "out.csv"), "--min-cases", "2", "--trim", "none"]
    assert main(arguments + ["--errors", str(errors)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert ("row 4 (line 5), column cost: 3 of 9 row(s) have problems (1 unknown level in "
            "hospital_level, 1 not a number in cost, 1 amount out of range in cost); the first: "
            "not a number '1.996,34'") in err
    assert f"; every problem is in {errors}; --skip-bad-rows calibrates from the other rows" \
        in err
    listed = pd.read_csv(errors, encoding="utf-8-sig", dtype={"value": str})
    assert listed["row"].tolist() == [4, 8, 9]
    assert listed["line"].tolist() == [5, 9, 10]
    assert listed["column"].tolist() == ["cost", "hospital_level", "cost"]
    assert listed["value"].tolist() == ["1.996,34", "clinic", "-5"]
    assert not list(tmp_path.glob("out.csv*"))
    # --errors may not be one of the files --out writes
    assert main(arguments + ["--errors", str(tmp_path / "out.csv.report.csv")]) == 2
    assert "is one of the files --out writes" in capsys.readouterr().err
    assert main(arguments + ["--errors", str(data)]) == 2      # nor an input
    assert "never overwrites its inputs" in capsys.readouterr().err
    data.write_text("drg,hospital_level\nG00,tertiary\n", "utf-8")  # refused whole
    assert main(arguments + ["--errors", str(errors)]) == 2
    assert "missing column 'cost'" in capsys.readouterr().err
    listed = pd.read_csv(errors, encoding="utf-8-sig")
    assert listed["problem"].tolist() == ["missing column 'cost'"]


def test_skip_bad_rows_calibrates_from_the_others_and_lists_the_bad_ones(tmp_path, capsys):
    catalogue = _catalogue(tmp_path, [1.0, 2.0])
    data = tmp_path / "data.csv"
    data.write_text(ROWS, "utf-8")
    errors = tmp_path / "problems.csv"
    out = tmp_path / "out.csv"
    arguments = ["calibrate", "weights", str(data), "--catalogue", str(catalogue), "--out",
                 str(out), "--min-cases", "2", "--trim", "none", "--errors", str(errors)]
    assert main(arguments + ["--skip-bad-rows"]) == 0
    printed = capsys.readouterr()
    assert "3 of 9 row(s) with problems set aside" in printed.err
    assert f"Rows set aside: 3, in {out}.rejected_rows.csv" in printed.out
    rejected = pd.read_csv(tmp_path / "out.csv.rejected_rows.csv", encoding="utf-8-sig",
                           dtype=str)
    assert rejected["row"].tolist() == ["4", "8", "9"]
    assert rejected.columns.tolist() == ["row", "problems", "drg", "hospital_level", "cost"]
    assert rejected["cost"].tolist() == ["1.996,34", "2200", "-5"]
    assert "hospital_level: unknown level 'clinic'" in rejected["problems"][1]
    assert pd.read_csv(errors, encoding="utf-8-sig")["row"].tolist() == [4, 8, 9]
    # the six good rows: ZZ99 ungroupable, G00 1,000, 1,100, 900 and G01 2,000, 2,100
    table = load_catalogue(out).table
    assert table["weight"].tolist() == [round(1000 / 1420, 8), round(2050 / 1420, 8)]
    report = (tmp_path / "out.csv.report.md").read_text("utf-8")
    assert "rows set aside for problems (`--skip-bad-rows`" in report
    assert "## Rows set aside (--skip-bad-rows)" in report
    assert "dropped, code not in the catalogue: 1 (ZZ99 1)" in report
    card = yaml.safe_load((tmp_path / "out.csv.source.yaml").read_text("utf-8"))
    assert card["reading"]["rows_set_aside"] == 3
    assert "out.csv.rejected_rows.csv" in card["companions"]
    assert card["options"]["skip_bad_rows"] is True
    assert card["counts"]["records"] == 6
    # a later clean run replaces the files and takes the stale rejected rows away
    clean = tmp_path / "clean.csv"
    clean.write_text("".join(line + "\n" for i, line in enumerate(ROWS.splitlines())
                             if i not in (4, 8, 9)), "utf-8")
    assert main([a if a != str(data) else str(clean) for a in arguments]) == 0
    assert not (tmp_path / "out.csv.rejected_rows.csv").exists()
    assert pd.read_csv(errors, encoding="utf-8-sig").empty
    assert load_catalogue(out).table["weight"].tolist() == table["weight"].tolist()
    # every row bad: nothing to calibrate from
    (tmp_path / "bad.csv").write_text("drg,cost\nG00,x\nG01,-1\n", "utf-8")
    assert main(["calibrate", "weights", str(tmp_path / "bad.csv"), "--catalogue",
                 str(catalogue), "--out", str(tmp_path / "none.csv"), "--skip-bad-rows"]) == 2
    assert "no row can be calibrated: 2 of 2 row(s)" in capsys.readouterr().err


# --------------------------------------------------------------------------- the bureau
def test_the_bureau_revises_with_the_same_function(tmp_path):
    """The model's yearly revision (§1.7) and the command give the same weights and
    coefficients from the same cases and options."""
    from agents.bureau import year_catalogue
    from sim.inputs.region import build_region, load_region_config

    config = load_region_config("default")[0]
    region = build_region(config, np.random.SeedSequence(1))
    catalogue = region.catalogue
    rng = np.random.default_rng(2)
    priced = np.flatnonzero(np.isfinite(catalogue.weights))
    group = priced[rng.integers(0, len(priced), 60_000)]
    level = rng.integers(0, 3, len(group))
    cost = np.round(catalogue.weights[group] * 7000 * rng.lognormal(0, 0.3, len(group)), 2)
    reform = tmp_path / "revise.yaml"
    reform.write_text("title: revise\nchanges:\n  revision.weights_from_coded_data: "
                      "{2020-01-01: true}\n", "utf-8")
    policy = load_policy(shipped("policies", "point", ".yaml"), [reform])
    published = year_catalogue(region, catalogue, {"coded_group": group, "cost": cost,
                                                   "level": level}, policy,
                               dt.date(2024, 1, 1), first_year=False)
    data = CostData("cases", False, catalogue.codes[group], level, cost, np.ones(len(cost)),
                    len(cost))
    command = calibrate_catalogue(data, catalogue, 30, rules.Trim.parse("sd:3"), Overrides(),
                                  LEVELS)
    np.testing.assert_array_equal(published.weights, command.table["weight"].to_numpy(float))
    for name in LEVELS:
        np.testing.assert_array_equal(published.table[f"coefficient_{name}"].to_numpy(float),
                                      command.table[f"coefficient_{name}"].to_numpy(float))


# --------------------------------------------------------------------------- the command
def _example_catalogue(tmp_path) -> tuple[Path, Path]:
    """A calibrated Guangxi catalogue from 60,000 synthetic cases (and the cases)."""
    from sim.inputs.synthetic import synthetic_year

    guangxi = load_catalogue(shipped("catalogues", "guangxi_2022", ".csv"))
    cases = tmp_path / "cases.csv"
    synthetic_year(guangxi, 60_000, 20, seed=3).to_csv(cases, index=False)
    out = tmp_path / "calibrated.csv"
    assert main(["calibrate", "weights", str(cases), "--catalogue", "guangxi_2022", "--out",
                 str(out)]) == 0
    return cases, out


def test_calibrated_catalogue_is_used_by_settle_and_run(tmp_path, capsys):
    cases, out = _example_catalogue(tmp_path)
    printed = capsys.readouterr().out
    assert "Rates per level (§1.5): primary ¥" in printed
    for name in ("calibrated.csv", "calibrated.csv.source.yaml", "calibrated.csv.rates.yaml",
                 "calibrated.csv.report.md", "calibrated.csv.report.csv"):
        assert (tmp_path / name).is_file(), name
    assert main(["settle", str(cases), "--catalogue", str(out), "--policy", "point", "--out",
                 str(tmp_path / "point"), "--quiet"]) == 0
    assert main(["settle", str(cases), "--catalogue", str(out), "--policy", "rate", "--reform",
                 f"{out}.rates.yaml", "--out", str(tmp_path / "rate"), "--quiet"]) == 0
    summary = yaml.safe_load((tmp_path / "rate" / "summary.json").read_text("utf-8"))
    rates = yaml.safe_load((tmp_path / "calibrated.csv.rates.yaml").read_text("utf-8"))
    assert summary["rate_by_level"] == next(iter(rates["changes"]["rate.base_rate"].values()))
    assert summary["rate_source"] == "rate.base_rate"
    assert main(["run", "--catalogue", str(out), "--policy", "rate", "--reform",
                 f"{out}.rates.yaml", "--years", "1", "--scale", "0.05", "--no-charts",
                 "--out", str(tmp_path / "run")]) == 0
    by_level = pd.read_csv(tmp_path / "run" / "yearly_by_level.csv")
    assert by_level["rate"].tolist() == list(
        next(iter(rates["changes"]["rate.base_rate"].values())).values())


def test_rerun_replaces_its_own_files_and_refuses_others(tmp_path, capsys):
    cases, out = _example_catalogue(tmp_path)
    before = out.read_bytes()
    again = ["calibrate", "weights", str(cases), "--catalogue", "guangxi_2022", "--out",
             str(out)]
    assert main(again) == 0                                    # its own earlier output
    assert out.read_bytes() == before                          # deterministic
    capsys.readouterr()
    foreign = tmp_path / "mine.csv"
    foreign.write_text("not drgsim's\n", "utf-8")
    assert main(again[:-1] + [str(foreign)]) == 2              # a file it did not write
    assert "was not written by drgsim" in capsys.readouterr().err
    assert foreign.read_text("utf-8") == "not drgsim's\n"
    companion = tmp_path / "fresh.csv.report.md"
    companion.write_text("my notes\n", "utf-8")
    assert main(again[:-1] + [str(tmp_path / "fresh.csv")]) == 2
    err = capsys.readouterr().err
    assert "--out (its report)" in err and not (tmp_path / "fresh.csv").exists()
    assert main(again[:-1] + [str(cases)]) == 2                # never its input
    assert "is the input file" in capsys.readouterr().err
    assert main(again[:-1] + [str(tmp_path / "missing" / "c.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_bureau_extract_in_gbk_with_chinese_headers(tmp_path):
    """Cost data as a bureau exports it (read by sim.inputs.extract as for settle): GBK, Chinese
    headers, levels 三级/二级, amounts with thousands separators; and group means as 病例数,
    例均费用."""
    catalogue = _catalogue(tmp_path, [1.0, 2.0])
    rows = ["结算ID,DRG编码,医院等级,医疗总费用"]
    rows += [f"S{i},G00,三级甲等,\"1,{200 + i % 3}.00\"" for i in range(30)]
    rows += [f"T{i},G01,二级,\"2,400.00\"" for i in range(30)]
    data = tmp_path / "extract.csv"
    data.write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    result = calibrate_weights(data, catalogue, tmp_path / "out.csv")
    card = yaml.safe_load((tmp_path / "out.csv.source.yaml").read_text("utf-8"))
    assert card["reading"]["encoding"] == "gb18030"
    assert result.counts["groups_from_data"] == 2
    table = load_catalogue(tmp_path / "out.csv").table
    assert table["weight"].tolist() == [round(1201 / 1800.5, 8), round(2400 / 1800.5, 8)]
    groups = tmp_path / "groups.csv"
    groups.write_text("病组编码,病例数,例均费用\nG00,30,1201\nG01,30,2400\n", "utf-8")
    by_group = calibrate_weights(groups, catalogue, tmp_path / "from_groups.csv")
    assert list(by_group.table["weight"]) == list(table["weight"])


BAD = {
    "no drg column": ("cost\n100\n", [], "missing column 'drg'"),
    "no cost": ("drg,hospital_level\nG00,primary\n", [], "missing column 'cost'"),
    "both forms": ("drg,cost,cases,mean_cost\nG00,1,1,1\n", [], "both 'cost'"),
    "bad cost": ("drg,cost\nG00,100\nG00,abc\n", [], "row 2 (line 3), column cost: 1 of 2 row(s) "
                 "have problems (1 not a number in cost); the first: not a number 'abc'"),
    "negative cost": ("drg,cost\nG00,-1\n", [], "row 1 (line 2), column cost"),
    "unknown level": ("drg,hospital_level,cost\nG00,tertiary,100\nG00,clinic,100\n", [],
                      "row 2 (line 3), column hospital_level: 1 of 2 row(s) have problems "
                      "(1 unknown level in hospital_level); the first: unknown level 'clinic'"),
    "fractional count": ("drg,cases,mean_cost\nG00,1.5,100\n", [],
                         "column cases: 1 of 1 row(s) have problems (1 not a whole number of cases "
                         "in cases); the first: not a whole number of cases '1.5'"),
    "repeated group": ("drg,cases,mean_cost\nG00,3,100\nG00,2,100\n", [],
                       "row 1 (line 2), column drg: 2 of 2 row(s) have problems (2 duplicate group "
                       "in drg); the first: duplicate group 'G00'; expected one row per group"),
    "repeated group and level": (
        "drg,hospital_level,cases,mean_cost\nG00,三级,3,100\nG00,secondary,2,100\n"
        "G00,tertiary,2,100\n", [], "row 1 (line 2), column drg: 2 of 3 row(s) have problems "
        "(2 duplicate group and level in drg)"),
    "trim on means": ("drg,cases,mean_cost\nG00,3,100\n", ["--trim", "sd:3"],
                      "--trim: sd:3 with aggregated data"),
    "bad trim": ("drg,cost\nG00,100\n", ["--trim", "sd:-1"], "argument --trim"),
    # §1.3 sd:K with K < 1 could empty a group (and drops both cases of a pair below 0.71)
    "trim within one sd": ("drg,cost\nG00,100\n", ["--trim", "sd:0.5"],
                           "argument --trim: value 'sd:0.5'; expected none, sd:K (K ≥ 1)"),
    "nothing grouped": ("drg,cost\nZZ99,100\nAQY,200\n", [],
                        "no record fell in a priced group of"),
    "minimum 0": ("drg,cost\nG00,100\n", ["--min-cases", "0"], "argument --min-cases"),
    "no rows": ("drg,cost\n", [], "the table has no rows"),
    "override of an unknown group": ("drg,cost\nG00,100\n", ["--overrides", "OVERRIDES"],
                                     "weights, 'G77': not a group of the catalogue"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, name):
    text, extra, message = BAD[name]
    data = tmp_path / "data.csv"
    data.write_text(text, "utf-8")
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("weights: {G77: 1.2}\n", "utf-8")
    extra = [str(overrides) if a == "OVERRIDES" else a for a in extra]
    catalogue = _catalogue(tmp_path, [1.0, 2.0])
    code = main(["calibrate", "weights", str(data), "--catalogue", str(catalogue), "--out",
                 str(tmp_path / "out.csv"), *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and message in err, err
    assert not list(tmp_path.glob("out.csv*"))


# --------------------------------------------------------------------------- null rate
def _year(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["hospital_id", "hospital_level", "drg", "cost"])
    n = len(frame)
    frame.insert(0, "case_id", [f"C{i}" for i in range(n)])
    frame.insert(1, "patient_id", [f"P{i}" for i in range(n)])
    frame["fund_paid"] = (frame["cost"] * 0.7).round(2)
    frame["patient_paid"] = (frame["cost"] - frame["fund_paid"]).round(2)
    frame["los_days"] = 5
    frame["discharge_date"] = "2023-03-15"
    return frame


def _settle(frame, reform_text=None, tmp_path=None):
    import pyarrow as pa

    catalogue = load_catalogue(Path(__file__).parent / "data" / "handmade" / "catalogue.csv")
    reforms = []
    if reform_text:
        reform = tmp_path / "reform.yaml"
        reform.write_text(textwrap.dedent(reform_text), "utf-8")
        reforms = [reform]
    policy = load_policy(shipped("policies", "rate", ".yaml"), reforms)
    cases = validate_cases(pa.Table.from_pandas(frame, preserve_index=False), "cases",
                           catalogue, policy.levels)
    return settle(cases, catalogue, policy), catalogue


def test_null_rate_is_cost_over_case_mix_per_level(tmp_path):
    """§1.5 in settle: without coefficients, rate(L) = cost of the level's cases ÷ Σ weights;
    worked by hand with the handmade catalogue's weights (ES25 0.9, FM13 1.6)."""
    frame = _year([("H1", "primary", "ES25", 5000.0), ("H1", "primary", "FM13", 9000.0),
                   ("H2", "tertiary", "ES25", 8000.0), ("H2", "tertiary", "ES25", 10000.0)])
    result, catalogue = _settle(frame, """\
        title: no coefficients
        changes:
          rate.use_coefficients: {2020-01-01: false}
        """, tmp_path)
    weights = dict(zip(catalogue.codes, catalogue.weights, strict=True))
    primary = 14_000 / (weights["ES25"] + weights["FM13"])
    tertiary = 18_000 / (2 * weights["ES25"])
    assert result.summary["rate_by_level"]["primary"] == pytest.approx(primary)
    assert result.summary["rate_by_level"]["tertiary"] == pytest.approx(tertiary)
    assert result.summary["rate_source"] == "budget-neutral (§1.5) from the settled cases"


def test_null_rate_pays_each_level_what_its_cases_cost(tmp_path):
    """With coefficients (Σ weight × coefficient, the shipped rate policy) and only normal
    cases, receipts of each level equal its cost: the rate is no artefact; ``rate.adjustment``
    scales it, an explicit rate replaces it."""
    rows = []
    for hospital, level, factor in (("H1", "primary", 0.8), ("H2", "secondary", 1.0),
                                    ("H3", "tertiary", 1.3)):
        for drg, cost in (("ES25", 6000.0), ("FM13", 11000.0)):
            rows += [(hospital, level, drg, cost * factor * s) for s in (0.9, 1.0, 1.1)]
    frame = _year(rows)
    result, _ = _settle(frame)
    assert set(result.case_points["case_class"]) == {"normal"}
    table = result.hospitals
    receipts = table["fund_payable_before_caps"] + table["patient_paid"]
    np.testing.assert_allclose(receipts, table["cost"], atol=0.02)
    cut, _ = _settle(frame, """\
        title: five percent less
        changes:
          rate.adjustment: {2020-01-01: 0.95}
        """, tmp_path)
    assert cut.summary["rate_by_level"]["primary"] == pytest.approx(
        0.95 * result.summary["rate_by_level"]["primary"])
    assert "× rate.adjustment 0.95" in cut.summary["rate_source"]
    fixed, _ = _settle(frame, """\
        title: fixed
        changes:
          rate.base_rate: {2020-01-01: 7990}
        """, tmp_path)
    assert fixed.summary["rate_by_level"] == {name: 7990.0 for name in LEVELS}


def test_model_rate_comes_from_the_year_before_and_is_held(tmp_path):
    """In a run the null rate is last year's cost ÷ case mix when the rate method starts (the
    burn-in year), then held; ``revision.rates_yearly`` recomputes it every January."""
    from sim.inputs.region import load_region_config
    from sim.model.calendar import run_calendar
    from sim.model.model import RegionModel

    config = load_region_config("default")[0]

    def rates(reforms=()):
        model = RegionModel(config, load_policy(shipped("policies", "rate", ".yaml"),
                                                list(reforms)), years=2, seed=4, scale=0.05)
        by_level = run_calendar(model, progress=False).tables()["yearly_by_level"]
        return by_level.pivot(index="year", columns="level", values="rate")

    held = rates()
    assert (held.loc[2023] == held.loc[2024]).all()
    assert held.loc[2023].between(3000, 20000).all()
    reform = tmp_path / "yearly.yaml"
    reform.write_text("title: yearly\nchanges:\n  revision.rates_yearly: {2020-01-01: true}\n",
                      "utf-8")
    yearly = rates([reform])
    assert (yearly.loc[2023] == held.loc[2023]).all()
    assert (yearly.loc[2024] != held.loc[2024]).all()
