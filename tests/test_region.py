"""Region files: the shipped ones load; a bad one is one clear line naming file, key and bound."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from sim.cli import main
from sim.errors import InputError
from sim.region import build_region, load_region_config


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
    assert 450_000 < admissions < 550_000            # about half a million a year
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
