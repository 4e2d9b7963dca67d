"""Region files: the shipped ones load; a bad one is one clear line naming file, key and bound."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from sim.commands.cli import main
from sim.errors import InputError
from sim.inputs.region import build_region, load_region_config
from sim.resources import shipped


def _region(tmp_path, body: str):
    path = tmp_path / "region.yaml"
    path.write_text("extends: default\n" + textwrap.dedent(body), "utf-8")
    return path


def test_shipped_regions_load_and_match_their_description():
    config, _ = load_region_config("default")
    region = build_region(config, np.random.SeedSequence(0))
    assert np.bincount(region.hospital_level).tolist() == [60, 15, 4]
    admissions = sum(config["schemes"][s]["insured"] * config["schemes"][s]["admission_rate"]
                     for s in ("employee", "resident"))
    assert 350_000 < admissions < 450_000            # about 0.4 million a year (issue 10)
    province, _ = load_region_config("province")
    assert province["counties"]["count"] == 100
    big = build_region(province, np.random.SeedSequence(0))
    assert 1000 <= big.n_hospitals <= 1100


ERRORS = {
    "unknown key with a suggestion": ("behaviour:\n  learning_rat: 0.3\n",
                                      "key behaviour.learning_rat: unknown key",
                                      "did you mean behaviour.learning_rate?"),
    "out of range": ("self_pay_share: 1.5\n", "self_pay_share: value 1.5",
                     "expected a number in [0, 1]"),
    "not a number": ("schemes:\n  employee:\n    insured: many\n",
                     "schemes.employee.insured: value 'many'", "a number in [0, ∞]"),
    "shares not summing to one": ("severity:\n  three_ranks: [0.5, 0.3, 0.3]\n",
                                  "severity.three_ranks: shares sum to 1.1",
                                  "shares summing to 1"),
    "wrong number of counts": ("hospitals:\n  primary:\n    per_county: [1, 2]\n",
                               "hospitals.primary.per_county", "5 counts, one per county"),
    # issue 7: the region validated whole
    "ragged distance matrix": ("counties:\n  distance_km: [[5, 60, 55, 70, 80], [60, 8], "
                               "[55, 50, 8, 60, 120], [70, 110, 60, 8, 70], "
                               "[80, 90, 120, 70, 8]]\n",
                               "counties.distance_km, row 2: 2 values",
                               "5 distances (a square matrix, one row per county)"),
    "matrix not matching the names": ("counties:\n  distance_km: [[5, 1], [1, 5]]\n",
                                      "counties.names: 5 names", "2 names, one per row"),
    "negative distance": ("counties:\n  distance_km: [[5, -60, 55, 70, 80], [60, 8, 50, 110, "
                          "90], [55, 50, 8, 60, 120], [70, 110, 60, 8, 70], [80, 90, 120, 70, "
                          "8]]\n", "counties.distance_km, row 1: value -60", "a distance in km"),
    "one bed count": ("hospitals:\n  primary: {beds: [300]}\n", "hospitals.primary.beds: "
                      "value [300]", "[fewest, most] beds"),
    "reversed bed range": ("hospitals:\n  primary: {beds: [100, 30]}\n",
                           "hospitals.primary.beds: value [100, 30]", "fewest first"),
    "fractional beds": ("hospitals:\n  primary: {beds: [30.5, 100]}\n",
                        "hospitals.primary.beds: value 30.5", "a whole number ≥ 1"),
    "negative count": ("hospitals:\n  primary: {per_county: -3}\n",
                       "hospitals.primary.per_county: value -3", "a whole number ≥ 0"),
    "fractional count in a list": ("hospitals:\n  primary: {per_county: [8, 13, 13.5, 13, 13]}"
                                   "\n", "hospitals.primary.per_county: value 13.5",
                                   "a whole number ≥ 0"),
    "zero hospitals": ("hospitals:\n  primary: {per_county: 0}\n  secondary: {per_county: 0}\n"
                       "  tertiary: {per_county: 0}\n", "hospitals: no hospital in the region",
                       "at least one hospital"),
    "a county no one can reach": ("hospitals:\n  primary: {per_county: [8, 0, 13, 13, 13]}\n"
                                  "  secondary: {per_county: [3, 0, 3, 3, 3]}\n"
                                  "behaviour:\n  choice_set: {outside_secondary: 0, "
                                  "outside_tertiary: 0}\n",
                                  "patients of county 'north' can reach no hospital",
                                  "a hospital in every populated county"),
    "hospitals in a county that does not exist": (
        "hospitals:\n  tertiary: {per_county: 2, counties: [0, 7]}\n",
        "hospitals.tertiary.counties: county 7 does not exist", "county numbers from 0 to 4"),
    "county shares summing to 1.3": ("counties:\n  population_share: [0.4, 0.3, 0.2, 0.2, "
                                     "0.2]\n", "counties.population_share: shares sum to 1.3",
                                     "shares summing to 1"),
    "negative county share": ("counties:\n  population_share: [0.6, -0.1, 0.5, 0, 0]\n",
                              "counties.population_share: share -0.1", "shares from 0 to 1"),
    "county shares of the wrong length": ("counties:\n  population_share: [0.5, 0.5]\n",
                                          "counties.population_share: 2 shares", "5 shares"),
    "age lists of different lengths": ("age_groups:\n  relative_rate: [0.5, 0.6, 1.1]\n",
                                       "age_groups.relative_rate: 3 values",
                                       "4 values, one per name in age_groups.names"),
    "choice by level of the wrong length": ("behaviour:\n  choice:\n    level: [0, 1]\n",
                                            "behaviour.choice.level: 2 values",
                                            "3 values, one per level"),
    "missing catalogue": ("catalogue: nowhere_2030\n",
                          "catalogue: no such file, and no shipped catalogue of that name",
                          "one of: beijing_2022, changzhou_2022"),
    "missing catalogue path": ("catalogue: tables/mine.csv\n",
                               "catalogue: 'tables/mine.csv' is not a file",
                               "a catalogue file beside the region"),
    "count of counties not whole": ("counties:\n  names: null\n  distance_km: null\n"
                                    "  population_share: uniform\n  count: 2.5\n"
                                    "  spacing_km: 10\n  local_km: 5\n",
                                    "counties.count: value 2.5", "a whole number ≥ 1"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_region_files(name, tmp_path):
    body, where, expected = ERRORS[name]
    path = _region(tmp_path, body)
    with pytest.raises(InputError) as error:
        load_region_config(path)
    message = str(error.value)
    assert str(path) in message and where in message and expected in message


def test_drgsim_run_refuses_a_bad_region_in_one_line(tmp_path, capsys):
    path = _region(tmp_path, "cost_per_admission:\n  tertiary: -5\n")
    assert main(["run", str(path), "--years", "1", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cost_per_admission.tertiary: value -5" in err
    assert not (tmp_path / "out").exists()


def test_extends_cycles_and_bad_extends(tmp_path, refused):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("extends: b.yaml\ntitle: A\n", "utf-8")
    b.write_text("extends: a.yaml\ntitle: B\n", "utf-8")
    out = str(tmp_path / "out")
    refused(main(["run", str(a), "--out", out]), "extends: the chain of extends comes back")
    itself = tmp_path / "self.yaml"
    itself.write_text("extends: self.yaml\ntitle: me\n", "utf-8")
    refused(main(["run", str(itself), "--out", out]), "self.yaml, extends: the chain")
    five = tmp_path / "five.yaml"
    five.write_text("extends: 5\n", "utf-8")
    refused(main(["run", str(five), "--out", out]), "five.yaml, extends: value 5",
            "the file name of a parent region")
    missing = tmp_path / "missing.yaml"
    missing.write_text("extends: nowhere\n", "utf-8")
    refused(main(["run", str(missing), "--out", out]),
            "missing.yaml, extends: no such file, and no shipped region of that name")
    assert not (tmp_path / "out").exists()


def test_a_catalogue_beside_the_region_file_is_found(tmp_path):
    import shutil

    # Suzhou's catalogue holds all 21 basic groups of the default region (its own list)
    shutil.copy(shipped("catalogues", "suzhou_2022", ".csv"), tmp_path / "ours.csv")
    path = _region(tmp_path, "catalogue: ours.csv\n")
    config, _ = load_region_config(path)
    region = build_region(config, np.random.SeedSequence(0))
    assert region.catalogue.source == str(tmp_path / "ours.csv")
