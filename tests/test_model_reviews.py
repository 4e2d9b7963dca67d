"""Special-case reviews as a process in model runs (issue 9, feature b; §2.5, §2.6): a share of
cases submitted, a share approved, a share of cost struck out. The first policy year's cases are
the same in every run (the reviews draw from their own stream after the cases are drawn), so
the annual point value under the fixed budget moves only by the extra points paid."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main


def _first_year(tmp_path: Path, name: str, changes: str = "") -> pd.Series:
    args = ["run", "--policy", "point", "--years", "1", "--scale", "0.05", "--no-charts",
            "--out", str(tmp_path / name)]
    if changes:
        reform = tmp_path / f"{name}.yaml"
        reform.write_text(f"title: {name}\nchanges:\n{changes}", "utf-8")
        args += ["--reform", str(reform)]
    assert main(args) == 0
    return pd.read_csv(tmp_path / name / "yearly.csv").iloc[-1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("reviews")
    return {
        "default": _first_year(tmp_path, "default"),
        "as_before": _first_year(tmp_path, "as_before", """\
  review.submitted_share: {2020-01-01: 1.0}
  review.approved_share: {2020-01-01: 1.0}
  review.unreasonable_share: {2020-01-01: 0.0}
"""),
        "none_submitted": _first_year(tmp_path, "none", "  review.submitted_share: "
                                      "{2020-01-01: 0.0}\n"),
        "half_struck": _first_year(tmp_path, "struck", "  review.unreasonable_share: "
                                   "{2020-01-01: 0.5}\n"),
    }


def test_the_defaults_submit_and_approve_every_case(runs):
    pd.testing.assert_series_equal(runs["default"], runs["as_before"], check_names=False)


def test_fewer_extra_points_raise_the_point_value_under_a_fixed_budget(runs):
    value = {name: row["annual_point_value"] for name, row in runs.items()}
    # no reviews: no extra points at all; half the cost struck: smaller extras (§2.5)
    assert value["none_submitted"] > value["half_struck"] > value["default"]
    assert runs["none_submitted"]["admissions"] == runs["default"]["admissions"]
