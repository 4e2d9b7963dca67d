"""Each fund as it is (issue 10, part 4-5; §2.1, BEHAVIOUR §7): the ledger of each scheme and
the pooled one, the reserve warning, and a default region whose funds start in published
ranges."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sim.commands.compare import compare_to_folder
from sim.inputs.policy import load_policy
from sim.inputs.region import SCHEMES, load_region_config
from sim.model.calendar import run_calendar
from sim.model.fund import LEDGER, reserve_warnings
from sim.model.model import RegionModel
from sim.resources import shipped

SCALE = 0.05


def _row(year, scheme, months, accumulated=1.0):
    return {"year": year, "scheme": scheme, "reserve_months": months,
            "accumulated_balance": accumulated}


def test_the_reserve_warning_fires_when_and_only_when_it_should():
    healthy = [_row(2023, "employee", 9.0), _row(2024, "employee", 6.0),  # 6 is not under 6
               _row(2023, "resident", 7.5), _row(2024, "resident", 6.2)]
    assert reserve_warnings(healthy, 6) == []
    low = healthy[:2] + [_row(2023, "resident", 6.5), _row(2024, "resident", 5.9),
                         _row(2025, "resident", 3.0)]
    (line,) = reserve_warnings(low, 6)
    assert line.startswith("resident fund: months of reserve fall under 6 in 2024 (5.9 months")
    assert "exhausted" not in line
    gone = healthy[:2] + [_row(2023, "resident", 4.0), _row(2024, "resident", -0.5, -2e6)]
    (line,) = reserve_warnings(gone, 6)
    assert "fall under 6 in 2023 (4.0 months" in line
    assert "the reserve is exhausted in 2024 (accumulated balance ¥-2,000,000" in line
    # another threshold, and both schemes
    assert len(reserve_warnings(healthy, 8)) == 2


def _run(config: dict, years: int = 2, seed: int = 4):
    model = RegionModel(config, load_policy(shipped("policies", "point", ".yaml")),
                        years=years, seed=seed, scale=SCALE)
    return run_calendar(model, progress=False)


@pytest.fixture(scope="module")
def default_run():
    config, _ = load_region_config("default")
    return _run(config)


def test_scheme_ledgers_add_up_to_the_pooled_ledger(default_run):
    tables = default_run.tables()
    yearly = tables["yearly"].set_index("year")
    fund = tables["fund_by_scheme"]
    for name in LEDGER:
        if name == "reserve_months":
            continue
        by_scheme = fund.groupby("year")[name].sum()
        assert np.allclose(by_scheme, yearly[name], atol=0.005, rtol=0), name
        columns = [f"{name}_{scheme}" for scheme in SCHEMES]
        assert np.allclose(yearly[columns].sum(axis=1), yearly[name], atol=0.005, rtol=0), name
    # pooled months of reserve: the pooled balance over the pooled monthly spending
    assert np.allclose(yearly["reserve_months"], yearly["accumulated_balance"]
                       / (yearly["fund_spending"] / 12))
    # each year's balance is the change of the accumulated balance, per scheme
    for scheme in SCHEMES:
        own = fund[fund["scheme"] == scheme]
        assert np.allclose(np.diff(own["accumulated_balance"]), own["fund_balance"].iloc[1:])


def test_the_default_funds_start_in_published_ranges(default_run):
    """BEHAVIOUR §8: spending ÷ income ≈ 0.84 (¥2.82 tn ÷ ¥3.35 tn); opening reserves inside the
    6–9 months of 人社部发〔2009〕67号 (the default region opens at 9 and 7)."""
    fund = default_run.tables()["fund_by_scheme"]
    first = fund[fund["year"] == 2023].set_index("scheme")
    ratio = first["fund_spending"] / first["fund_revenue"]
    assert ratio.between(0.80, 0.88).all(), ratio.to_dict()
    opening = first["accumulated_balance"] - first["fund_balance"]
    months = opening / (first["fund_spending"] / 12)
    assert months.between(5.5, 9.5).all(), months.to_dict()
    assert default_run.warnings == [] or not any("fund:" in w for w in default_run.warnings)


def test_a_scheme_opening_balance_in_yuan_is_scaled_with_the_region():
    config, _ = load_region_config("default")
    config["schemes"]["resident"] = {**config["schemes"]["resident"],
                                     "fund_balance": 4.0e8}
    model = _run(config, years=1)
    fund = model.tables()["fund_by_scheme"].set_index("scheme")
    opening = fund.loc["resident", "accumulated_balance"] - fund.loc["resident", "fund_balance"]
    assert opening == pytest.approx(4.0e8 * SCALE)
    # about 2.6 months of spending at this scale: the run warns about the resident fund
    assert any(w.startswith("resident fund: months of reserve fall under 6 in 2023")
               for w in model.warnings)


def test_a_comparison_flags_a_scheme_whose_reserve_runs_low(tmp_path):
    region = tmp_path / "low.yaml"
    region.write_text(f"extends: {shipped('regions', 'default', '.yaml')}\ntitle: low reserve\n"
                      "schemes:\n  resident: {initial_reserve_months: 2}\n", "utf-8")
    reform = shipped("reforms", "audit_double", ".yaml")
    with ThreadPoolExecutor(1) as executor:
        folder, meta = compare_to_folder(str(region), "point", [reform], 1, seed=2, years=1,
                                         start_year=2023, scale=SCALE, out=tmp_path / "out",
                                         lang="en", executor=executor, progress=False,
                                         pdf=False)
    alerts = json.loads((folder / "comparison.json").read_text("utf-8"))["reserve_alerts"]
    assert {a["scheme"] for a in alerts} == {"resident"}
    assert len(alerts) == 2  # baseline and reform
    assert any("resident fund: months of reserve fall under 6 in 2023" in w
               for w in meta["warnings"])
    page = (folder / "report.en.html").read_text("utf-8")
    assert page.count('class="card warn"') == 1  # the resident card of the one reform
    assert "Warning: under 6 months of reserve from 2023" in page
