"""The incidence draws' tables (issue 13): an alias table draws each family with its incidence
share and never one of share 0; the severity table gives the rank a search of the cumulative
shares gives; the county search by buckets gives what numpy's search gives."""

from __future__ import annotations

import numpy as np
import pytest

from agents.patients import alias_draw, alias_table, cdf_search, incidence_tables
from sim.inputs.region import build_region, load_region_config, severity_probabilities


def test_alias_table_draws_each_category_with_its_share():
    weight = np.array([0.0, 3.0, 1.0, 0.0, 0.5, 5.5, 0.0])
    threshold, alias = alias_table(weight)
    n = 400_000
    drawn = alias_draw(threshold, alias, np.random.default_rng(2).random(n))
    counts = np.bincount(drawn, minlength=len(weight))
    assert counts[weight == 0].sum() == 0
    np.testing.assert_allclose(counts / n, weight / weight.sum(), atol=0.003)


@pytest.mark.parametrize("size", [1, 2, 979])
def test_alias_table_of_any_size(size):
    weight = np.random.default_rng(size).random(size)
    threshold, alias = alias_table(weight)
    # each category's probability from the table is its share
    share = threshold.copy()
    np.add.at(share, alias, 1 - threshold)
    np.testing.assert_allclose(share / size, weight / weight.sum(), atol=1e-12)
    draw = np.array([0.0, 0.5, np.nextafter(1.0, 0.0)])
    assert ((alias_draw(threshold, alias, draw) >= 0)
            & (alias_draw(threshold, alias, draw) < size)).all()


def test_severity_table_is_the_search_of_cumulative_shares():
    config = load_region_config("default")[0]
    region = build_region(config, np.random.SeedSequence(0))
    tables = incidence_tables(region)
    draw = np.random.default_rng(4).random(2_000)
    for age in range(tables.rank_cumulative.shape[0]):
        for ranks in range(1, tables.rank_cumulative.shape[1] + 1):
            cumulative = np.cumsum(severity_probabilities(config, ranks, age))
            expected = np.minimum(np.searchsorted(cumulative, draw), ranks - 1)
            got = np.minimum((tables.rank_cumulative[age, ranks - 1][None, :]
                              < draw[:, None]).sum(axis=1), ranks - 1)
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", range(6))
def test_the_county_search_by_buckets_is_numpys_search(seed):
    """Every key, also keys on a boundary, at 0, at the total, next to it, with empty
    categories and with shares so small that the bucket arithmetic overflows."""
    rng = np.random.default_rng(seed)
    for _ in range(40):
        k = int(rng.integers(1, 300))
        share = rng.random(k) * (1e-300 if seed == 5 else 1.0)
        share[rng.random(k) < 0.2] = 0.0
        share[0] += share.sum() == 0
        cdf = np.cumsum(share)
        x = rng.random(int(rng.integers(20_000, 60_000))) * cdf[-1]
        x[:k] = cdf
        x[-3:] = [0.0, cdf[-1], np.nextafter(cdf[-1], 0)]
        np.testing.assert_array_equal(cdf_search(cdf, x), np.searchsorted(cdf, x))
