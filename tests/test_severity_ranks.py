"""ADRG families with any number of severity ranks (local catalogues split up to six ways).

Specification: two and three ranks use the region's ``severity.two_ranks`` / ``three_ranks`` as
given; more ranks divide the three-rank severity spectrum into equal steps; the table of groups by
rank is as wide as the widest family; every rank of a six-rank family is drawn with its share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agents.patients import draw_episodes, group_table
from sim.inputs.catalogue import Catalogue, validate_catalogue
from sim.inputs.region import build_region, load_region_config, rank_shares, severity_probabilities


def _catalogue(families: dict[str, list[float | None]]) -> Catalogue:
    """One family per key, its weights lowest rank first (None = unpriced)."""
    rows = []
    for adrg, weights in families.items():
        for rank, weight in enumerate(weights, start=1):
            rows.append({"code": f"{adrg}{rank}", "name": "", "adrg": adrg, "mdc": adrg[0],
                         "severity_rank": rank, "weight": weight, "basic_group": False,
                         "stable": True, "whole_group_review": False})
    table = validate_catalogue(pd.DataFrame(rows), "families")
    return Catalogue(table, "families", "0" * 64)


@pytest.fixture(scope="module")
def config():
    return load_region_config("default")[0]


def test_two_and_three_ranks_are_the_region_shares(config):
    assert rank_shares(config, 1).tolist() == [1.0]
    assert rank_shares(config, 2).tolist() == config["severity"]["two_ranks"]
    assert rank_shares(config, 3).tolist() == config["severity"]["three_ranks"]


def test_more_ranks_divide_the_three_rank_spectrum(config):
    # 0.6/0.3/0.1 cumulative 0/0.6/0.9/1 at steps of 3/4: 0.45, 0.75, 0.925, 1.
    np.testing.assert_allclose(rank_shares(config, 4), [0.45, 0.30, 0.175, 0.075])
    six = rank_shares(config, 6)
    np.testing.assert_allclose(six.reshape(3, 2).sum(axis=1), config["severity"]["three_ranks"])
    for ranks in range(1, 10):
        shares = rank_shares(config, ranks)
        assert len(shares) == ranks and shares.sum() == pytest.approx(1.0)
        assert (shares > 0).all() and (np.diff(shares) <= 1e-12).all()  # fewer severe cases
    for age in range(len(config["age_groups"]["names"])):
        assert severity_probabilities(config, 6, age).sum() == pytest.approx(1.0)


def test_group_table_is_as_wide_as_the_widest_family(config):
    catalogue = _catalogue({"AA1": [1.0], "BB1": [0.5, 0.8], "CC1": [0.4, 0.6, 0.9, 1.2, 1.6, 2.2],
                            "DD1": [None]})
    region = build_region(config, np.random.SeedSequence(0), catalogue)
    table = group_table(region)
    assert table.shape == (4, 6)
    assert table[0].tolist() == [0] * 6                    # AA1: one group repeated
    assert table[1].tolist() == [1, 2, 2, 2, 2, 2]
    assert table[2].tolist() == [3, 4, 5, 6, 7, 8]
    assert table[3].tolist() == [-1] * 6                   # no priced group: never drawn
    assert region.family_probability[3] == 0.0
    assert region.upcode_to[3:9].tolist() == [4, 5, 6, 7, 8, -1]


def test_every_rank_of_a_six_rank_family_is_drawn_with_its_share(config):
    catalogue = _catalogue({"CC1": [0.4, 0.6, 0.9, 1.2, 1.6, 2.2]})
    region = build_region(config, np.random.SeedSequence(0), catalogue)
    expected = np.zeros((2, len(config["age_groups"]["names"])))
    expected[0, 1] = 200_000.0                              # adults only, one scheme
    episodes = draw_episodes(region, expected, np.random.default_rng(5), group_table(region))
    observed = np.bincount(region.rank[episodes.group] - 1, minlength=6) / len(episodes)
    np.testing.assert_allclose(observed, severity_probabilities(config, 6, 1), atol=0.005)
