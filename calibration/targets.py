"""Calibration targets (issue 12): published effects of reforms and the simulated quantities they
are compared with. ``calibration/targets.yaml`` holds them (BEHAVIOUR §8); :func:`load_targets`
reads and checks a targets file whole, with one-line errors; :func:`simulated` computes a
target's quantity from a fee-for-service baseline and a reform run over the same years and
random numbers (common random numbers, as ``drgsim compare``).

Quantities (``setting.year`` k is the k-th simulated year; "change" is reform against the
fee-for-service baseline in that year):

- ``cost_per_case_change``, ``out_of_pocket_change``, ``coded_cmi_change``, ``true_cmi_change``,
  ``length_of_stay_change``: relative change of the yearly table's ``cost_per_case``,
  ``out_of_pocket_per_case``, ``coded_cmi``, ``true_cmi``, ``mean_los`` (reform ÷ baseline − 1);
- ``readmission_15d_change``, ``upcoded_share_change``: difference of ``readmission_15d_rate``,
  ``upcoded_share`` (reform − baseline, share points as a fraction);
- ``upcoded_share_private_minus_public``: the difference in differences of the upcoded share
  between private and public hospitals (the yearly table's ``upcoded_share_private`` and
  ``upcoded_share_public``: cases coded up ÷ cases, by the hospital's ownership).

``setting.experiment`` names a reform a target needs beyond the method itself (the Norway target's
complication price ratio: ``scenarios/reforms/complication_price_plus_10pct.yaml``); the
calibration's check runs the method with it and compares it with the method alone (such a
target is held out: the fit's runs are the methods alone).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import InputError, show
from sim.inputs.yamlfile import read_yaml

METHODS = ("point", "rate", "dip", "pool", "all_inclusive")
SCHEMES = ("all", "employee", "resident")
ROLES = ("fitted", "held_out")
SETTING_KEYS = ("method", "year", "scheme", "experiment")
EXPERIMENTS = ("complication_price_plus_10pct",)
FIELDS = ("value", "uncertainty", "uncertainty_source", "source", "setting", "quantity", "role",
          "why")
RELATIVE = {"cost_per_case_change": "cost_per_case",
            "out_of_pocket_change": "out_of_pocket_per_case",
            "coded_cmi_change": "coded_cmi", "true_cmi_change": "true_cmi",
            "length_of_stay_change": "mean_los"}
DIFFERENCE = {"readmission_15d_change": "readmission_15d_rate",
              "upcoded_share_change": "upcoded_share"}
QUANTITIES = (*RELATIVE, *DIFFERENCE, "upcoded_share_private_minus_public")


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    uncertainty: float
    source: str
    method: str
    year: int
    scheme: str
    quantity: str
    role: str
    why: str
    experiment: str | None = None


def _expect(ok: bool, file: str, where: str, problem: str, expected: str) -> None:
    if not ok:
        raise InputError(file, where, problem, expected)


def _one_of(value, allowed, file: str, where: str) -> None:
    if value in allowed:
        return
    close = difflib.get_close_matches(str(value), list(allowed), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise InputError(file, where, f"value {show(value)}", "one of " + ", ".join(allowed) + hint)


def load_targets(path: str | Path) -> list[Target]:
    """Every target of a targets file, checked whole: known fields, numbers, a positive
    uncertainty, a known method, scheme, quantity, role and experiment, a year ≥ 1, and at least
    one fitted target. One :class:`~sim.errors.InputError` line for the first problem."""
    file = str(path)
    document = read_yaml(Path(path))
    given = document.get("targets") if isinstance(document, dict) else document
    _expect(isinstance(given, dict) and bool(given), file, "targets", f"value {show(given)}",
            "a mapping `targets:` of named targets (see calibration/targets.yaml)")
    targets = []
    for name, entry in document["targets"].items():
        where = f"targets.{name}"
        _expect(isinstance(entry, dict), file, where, f"value {show(entry)}", "a mapping")
        unknown = set(entry) - set(FIELDS)
        _expect(not unknown, file, f"{where}.{sorted(unknown)[0] if unknown else ''}",
                "unknown field", "one of " + ", ".join(FIELDS))
        for field in ("value", "uncertainty", "source", "setting", "quantity", "role", "why"):
            _expect(field in entry, file, f"{where}.{field}", "missing", "a value")
        for field in ("value", "uncertainty"):
            number = entry[field]
            _expect(isinstance(number, int | float) and not isinstance(number, bool)
                    and number == number, file, f"{where}.{field}", f"value {show(number)}",
                    "a number")
        _expect(entry["uncertainty"] > 0, file, f"{where}.uncertainty",
                f"value {entry['uncertainty']}", "a standard deviation above 0")
        setting = entry["setting"]
        _expect(isinstance(setting, dict), file, f"{where}.setting", f"value {show(setting)}",
                "a mapping {method, year, scheme}")
        for key in setting:
            if key not in SETTING_KEYS:
                raise InputError(file, f"{where}.setting.{key}", "unknown key",
                                 "one of " + ", ".join(SETTING_KEYS))
        _one_of(setting.get("method"), METHODS, file, f"{where}.setting.method")
        year = setting.get("year")
        _expect(isinstance(year, int) and not isinstance(year, bool) and 1 <= year <= 20, file,
                f"{where}.setting.year", f"value {show(year)}",
                "the year after the reform, a whole number from 1 to 20")
        _one_of(setting.get("scheme", "all"), SCHEMES, file, f"{where}.setting.scheme")
        if setting.get("experiment") is not None:
            _one_of(setting["experiment"], EXPERIMENTS, file, f"{where}.setting.experiment")
        _one_of(entry["quantity"], QUANTITIES, file, f"{where}.quantity")
        _one_of(entry["role"], ROLES, file, f"{where}.role")
        targets.append(Target(name, float(entry["value"]), float(entry["uncertainty"]),
                              str(entry["source"]), setting["method"], year,
                              setting.get("scheme", "all"), entry["quantity"], entry["role"],
                              str(entry["why"]), setting.get("experiment")))
    _expect(any(t.role == "fitted" for t in targets), file, "targets", "no target is fitted",
            "at least one target with role: fitted")
    return targets


def change(quantity: str, base, new):
    """A quantity from the fee-for-service baseline's and the reform's yearly values (rows or
    aligned columns: anything indexed by column name), the one formula of each (module text)."""
    if quantity in RELATIVE:
        return new[RELATIVE[quantity]] / base[RELATIVE[quantity]] - 1.0
    if quantity in DIFFERENCE:
        return new[DIFFERENCE[quantity]] - base[DIFFERENCE[quantity]]
    if quantity == "upcoded_share_private_minus_public":
        return ((new["upcoded_share_private"] - new["upcoded_share_public"])
                - (base["upcoded_share_private"] - base["upcoded_share_public"]))
    raise ValueError(f"unknown quantity {quantity!r}")


def simulated(quantity: str, baseline: dict[str, pd.DataFrame], reform: dict[str, pd.DataFrame],
              year: int) -> float:
    """The simulated value of ``quantity`` in calendar ``year`` from a baseline's and a reform's
    ``yearly`` tables (see the module text)."""
    base = baseline["yearly"].set_index("year").loc[year]
    new = reform["yearly"].set_index("year").loc[year]
    return float(change(quantity, base, new))
