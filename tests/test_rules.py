"""Every payment rule against its worked cases in tests/rules/worked_cases.yaml (§2–§8)."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.rules import points

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


# ------------------------------------------------------------------------ the case chain, fast
def _case_points_by_select(case_class, base, coefficient, cost, unreasonable_cost,
                           region_mean_cost, level_mean_cost, threshold_multiple, approved,
                           mean_cost_all_cases):
    """§2.5 points as they were computed before issue 13: every formula on every case, then
    np.select by class (the reference)."""
    from sim.rules.classes import HIGH, LOW, UNSTABLE, WHOLE_GROUP

    with np.errstate(invalid="ignore", divide="ignore"):
        normal = points.normal_points(base, coefficient)
        low = points.low_multiple_points(base, cost, region_mean_cost)
        extra = np.where(case_class == HIGH, points.high_multiple_extra_points(
            base, coefficient, cost, unreasonable_cost, level_mean_cost, threshold_multiple,
            approved), 0.0)
        whole = points.whole_group_points(cost, unreasonable_cost, mean_cost_all_cases)
    total = np.select([case_class <= HIGH, case_class == LOW, case_class == UNSTABLE,
                       case_class == WHOLE_GROUP], [normal + extra, low, base, whole],
                      default=0.0)
    return total, extra


@pytest.mark.parametrize("seed", range(30))
def test_case_points_by_class_are_the_select_of_every_formula(seed):
    """Each class's formula on its own cases gives, bit for bit, what every formula on every
    case and a select by class gave — with zero, negative-zero, NaN and infinite means and costs
    among the cases, all six classes, and unapproved high multiples."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    odd = np.array([0.0, -0.0, np.nan, np.inf, 1e-300])

    def values(low, high):
        v = rng.uniform(low, high, n)
        pick = rng.random(n) < 0.1
        v[pick] = rng.choice(odd, pick.sum())
        return v

    case_class = rng.integers(0, 6, n).astype(np.int8)
    args = (case_class, values(0, 300), values(0, 2), values(0, 5e4), values(0, 5e3),
            values(0, 2e4), values(0, 2e4), rng.choice([2.0, 3.0, 5.0], n),
            rng.random(n) < 0.7, float(rng.choice([8000.0, 0.0, np.nan])))
    got, got_extra = points.case_points(*args)
    want, want_extra = _case_points_by_select(*args)
    assert got.dtype == want.dtype == np.float64
    # bit for bit: equal values, NaN where NaN, and the same sign of zero
    for mine, theirs in ((got, want), (got_extra, want_extra)):
        assert np.array_equal(mine, theirs, equal_nan=True)
        assert np.array_equal(np.signbit(mine), np.signbit(theirs))


def test_case_classes_in_one_byte_are_the_classes():
    from sim.rules.classes import HIGH, LOW, NORMAL, UNSTABLE, WHOLE_GROUP, case_class

    rng = np.random.default_rng(5)
    n = 500
    cost = rng.uniform(0, 3e4, n)
    cost[::17] = np.nan
    mean = rng.uniform(0, 1e4, n)
    mean[::13] = 0.0
    k = rng.choice([2.0, 3.0], n)
    stable, whole = rng.random(n) < 0.8, rng.random(n) < 0.1
    got = case_class(cost, mean, k, 0.4, stable, whole)
    want = np.where(whole, WHOLE_GROUP, np.where(stable, np.where(
        cost > k * mean, HIGH, np.where(cost < 0.4 * mean, LOW, NORMAL)), UNSTABLE))
    assert got.dtype == np.int8 and np.array_equal(got, want)
