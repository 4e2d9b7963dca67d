"""One Mesa agent per patient (benchmarks/patients_as_agents.py) behaves like the columns model.

A tiny default region (scale 0.005, ~250 episodes a month). One month is run many times with
different seeds (the same month, fresh named streams each time): the per-agent version gives the
same admissions (new episodes are the same Poisson counts; follow-ups and induced cases are drawn
separately) and the same shares by level as the columns model, in the burn-in month (fee for
service, no levers) and in a point-method month with every lever set (refusal, down-referral,
cost cutting, splits, induction, upcoding all at work). Tolerances are about four standard errors
of the pooled samples.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.inputs.policy import load_policy
from sim.inputs.region import load_region_config
from sim.model.model import RegionModel
from sim.model.streams import Streams
from sim.resources import resolve

ROOT = Path(__file__).resolve().parents[1]
SCALE = 0.005
SEEDS_COLUMNS = range(100, 140)    # the columns month is cheap: many seeds, a precise reference
SEEDS_AGENTS = range(100, 112)     # the first 12 of the same seeds
LEVERS = {"upcoding": 0.6, "selection": 0.25, "cost_cutting": 0.4, "split": 0.15,
          "induction": 0.6}


def _import_patients_as_agents():
    spec = importlib.util.spec_from_file_location(
        "patients_as_agents", ROOT / "benchmarks" / "patients_as_agents.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("patients_as_agents", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def models():
    module = _import_patients_as_agents()
    config, _ = load_region_config("default")
    policy = load_policy(resolve("point", "policies", ".yaml"), [])
    columns = RegionModel(config, policy, years=1, seed=1, scale=SCALE)
    agents = module.PatientAgentsModel(config, policy, years=1, seed=1, scale=SCALE)
    return columns, agents


def _months(model, seeds) -> list[dict]:
    """Month 0 of the current year, once per seed; the chunks of cases."""
    chunks = []
    for seed in seeds:
        model.streams = Streams(seed)
        model.cases, model.monthly_rows = [], []
        model.month_flow(0)
        chunks.append(model.cases[0])
    return chunks


def _pooled(chunks: list[dict]) -> dict:
    cases = {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}
    n = len(cases["level"])
    return {"admissions": n / len(chunks),
            "shares": np.bincount(cases["level"], minlength=3) / n,
            "upcoded": cases["upcoded"].mean(), "refused": cases["refused"].mean(),
            "follow_up": cases["follow_up"].mean(), "induced": cases["induced"].mean()}


def _compare(columns, agents) -> tuple[dict, dict]:
    reference = _months(columns, SEEDS_COLUMNS)
    per_agent = _months(agents, SEEDS_AGENTS)
    assert set(per_agent[0]) == set(reference[0])
    for name, values in reference[0].items():
        assert per_agent[0][name].dtype.kind == values.dtype.kind, name
    same_seeds = _pooled(reference[:len(SEEDS_AGENTS)])
    pooled_columns, pooled_agents = _pooled(reference), _pooled(per_agent)
    assert pooled_agents["admissions"] == pytest.approx(same_seeds["admissions"], rel=0.04)
    assert np.max(np.abs(pooled_agents["shares"] - pooled_columns["shares"])) <= 0.04
    assert pooled_agents["follow_up"] == pytest.approx(pooled_columns["follow_up"], abs=0.03)
    return pooled_columns, pooled_agents


def test_same_region_and_hospitals(models):
    columns, agents = models
    for name in ("hospital_level", "hospital_county", "hospital_beds", "hospital_efficiency",
                 "base_cost"):
        np.testing.assert_array_equal(getattr(agents.region, name),
                                      getattr(columns.region, name))


def test_burn_in_month_like_columns(models):
    columns, agents = models
    columns.year_start(0)
    agents.year_start(0)
    pooled_columns, pooled_agents = _compare(columns, agents)
    assert pooled_agents["upcoded"] == pooled_columns["upcoded"] == 0.0
    # no selection in the burn-in: refusals are capacity overflow only (beds scale with the
    # population, so a tiny region is crowded in the same proportion as the full one)
    assert pooled_agents["refused"] == pytest.approx(pooled_columns["refused"], abs=0.04)


def test_point_month_with_levers_like_columns(models):
    columns, agents = models
    columns.year_start(0)
    for month in range(12):
        columns.month_flow(month)
    columns.year_end()
    columns.year_start(1)
    agents.state = columns.state  # the same catalogue, coefficients and expected point value
    for model in (columns, agents):
        for hospital in model.hospitals:
            for lever, value in LEVERS.items():
                setattr(hospital, lever, value)
    pooled_columns, pooled_agents = _compare(columns, agents)
    assert pooled_columns["upcoded"] > 0.1 and pooled_columns["refused"] > 0.02
    assert pooled_agents["upcoded"] == pytest.approx(pooled_columns["upcoded"], abs=0.04)
    assert pooled_agents["refused"] == pytest.approx(pooled_columns["refused"], abs=0.025)
    assert pooled_agents["induced"] == pytest.approx(pooled_columns["induced"], abs=0.02)
