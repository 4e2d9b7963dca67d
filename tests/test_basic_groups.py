"""A policy's own list of basic groups (``coefficients.basic_groups``, POLICY_RULES §2.2, §2.4):
it replaces the catalogue's flags in settle; codes the catalogue lacks are a warning there."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.commands.cli import main

DATA = Path(__file__).parent / "data" / "handmade"


def _settle(tmp_path: Path, reform: str, capsys) -> tuple[pd.DataFrame, str]:
    path = tmp_path / "reform.yaml"
    path.write_text("title: basic groups\nchanges:\n" + reform, "utf-8")
    out = tmp_path / "out"
    assert main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(DATA / "policy.yaml"), "--reform", str(path), "--out",
                 str(out), "--quiet", "--no-parquet"]) == 0
    points = pd.read_csv(out / "case_points.csv")
    cases = pd.read_csv(DATA / "cases.csv")
    return points.merge(cases[["case_id", "drg", "hospital_level"]], on="case_id"), \
        capsys.readouterr().err


def test_listed_groups_are_paid_the_same_coefficient_at_every_level(tmp_path, capsys):
    # the catalogue marks ES25 basic (coefficient 1 at every level, §2.4) and FM15 not
    # (0.9 / 1.0 / 1.1); the list makes FM15 basic and ES25 an ordinary group
    points, _ = _settle(tmp_path, "  coefficients.basic_groups: {2020-01-01: [FM15]}\n", capsys)
    fm15 = points[points.drg == "FM15"]
    es25 = points[points.drg == "ES25"]
    assert set(fm15.coefficient) == {1.0}
    assert set(zip(es25.hospital_level, es25.coefficient, strict=True)) == {
        ("secondary", 1.0), ("tertiary", 1.1)}


def test_codes_the_catalogue_lacks_are_a_warning_in_settle(tmp_path, capsys):
    _, err = _settle(tmp_path, "  coefficients.basic_groups: {2020-01-01: [FM15, XX11, YY12]}\n",
                     capsys)
    assert "coefficients.basic_groups: 2 of 3 basic-group code(s) are not in the catalogue" in err
    assert "XX11, YY12" in err


@pytest.mark.parametrize("value, problem", [
    ("[]", "is not a list of group codes"), ("[FM15, FM15]", "code 'FM15' is listed twice"),
    ("[1]", "code 1 is not a group code"), ("FM15", "is not a list of group codes"),
])
def test_a_bad_list_is_one_line(value, problem, tmp_path, capsys):
    path = tmp_path / "reform.yaml"
    path.write_text(f"title: t\nchanges:\n  coefficients.basic_groups: {{2020-01-01: {value}}}\n",
                    "utf-8")
    assert main(["settle", str(DATA / "cases.csv"), "--catalogue", str(DATA / "catalogue.csv"),
                 "--policy", str(DATA / "policy.yaml"), "--reform", str(path), "--out",
                 str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert problem in err and str(path) in err
