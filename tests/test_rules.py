"""Every payment rule against its worked cases in tests/rules/worked_cases.yaml (§2–§8)."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import yaml

CASES = yaml.safe_load((Path(__file__).parent / "rules" / "worked_cases.yaml").read_text("utf-8"))


def _array(value):
    return np.asarray(value) if isinstance(value, list) else value


def _compare(actual, expected, rule):
    if isinstance(expected, list) and expected and isinstance(actual, tuple):
        assert len(actual) == len(expected), rule
        for part, want in zip(actual, expected, strict=True):
            _compare(part, want, rule)
        return
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=1e-12, atol=1e-9, err_msg=rule)


@pytest.mark.parametrize("case", CASES, ids=[c["rule"] for c in CASES])
def test_worked_case(case):
    module_name, function_name = case["function"].split(".")
    function = getattr(importlib.import_module(f"sim.rules.{module_name}"), function_name)
    inputs = {name: _array(value) for name, value in case["inputs"].items()}
    _compare(function(**inputs), case["expected"], case["rule"])


def test_every_rule_module_has_worked_cases():
    """Each module of sim.rules is exercised by at least one worked case."""
    rules = Path(__file__).parents[1] / "sim" / "rules"
    modules = {p.stem for p in rules.glob("*.py") if p.stem != "__init__"}
    covered = {c["function"].split(".")[0] for c in CASES}
    assert modules <= covered, f"rule modules without worked cases: {sorted(modules - covered)}"


def test_every_public_rule_function_has_a_worked_case():
    import inspect

    covered = {c["function"] for c in CASES}
    missing = []
    for path in (Path(__file__).parents[1] / "sim" / "rules").glob("*.py"):
        if path.stem == "__init__":
            continue
        module = importlib.import_module(f"sim.rules.{path.stem}")
        for name, member in inspect.getmembers(module, inspect.isfunction):
            if member.__module__ == module.__name__ and not name.startswith("_"):
                if f"{path.stem}.{name}" not in covered:
                    missing.append(f"{path.stem}.{name}")
    assert not missing, f"rule functions without worked cases: {missing}"
