"""Patients and episodes as columns (BEHAVIOUR §2, §5): incidence, choice, referral, refusal.

Nothing here is a Python object per patient: each function takes and returns arrays for a
month's episodes. Random draws come from named streams passed in by the model, drawn for all
episodes at once, so that a baseline and a reform see the same draws (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.inputs.region import SCHEMES, Region, severity_probabilities


@dataclass
class Episodes:
    """One month's new episodes, before any hospital is involved."""

    scheme: np.ndarray   # index into SCHEMES
    age: np.ndarray      # index into age groups
    county: np.ndarray   # home county
    group: np.ndarray    # true group (catalogue row)
    need: np.ndarray     # true resource need in weight units (cost ÷ base cost at the level)

    def __len__(self) -> int:
        return len(self.group)


def monthly_expected_admissions(region: Region, years_from_start: int) -> np.ndarray:
    """Expected episodes per month by scheme × age group (incidence with a trend, BEHAVIOUR §5)."""
    config = region.config
    ages = config["age_groups"]
    share = np.asarray(ages["population_share"], dtype=float)
    relative = np.asarray(ages["relative_rate"], dtype=float)
    relative = relative / np.sum(share * relative)
    growth = (1 + config["admission_growth"]) ** years_from_start
    rows = []
    for scheme in SCHEMES:
        entry = config["schemes"][scheme]
        rows.append(entry["insured"] * entry["admission_rate"] * share * relative * growth / 12)
    return np.array(rows)


def group_table(region: Region) -> np.ndarray:
    """Families × ranks table of priced group ids by severity rank, as wide as the family with
    the most ranks (at least 3); shorter families repeat their last group as padding, a family
    without a priced group holds -1 (it is never drawn: its incidence probability is 0)."""
    width = max(3, max((len(groups) for groups in region.family_groups), default=0))
    table = np.full((len(region.family_groups), width), -1, dtype=np.int64)
    for f, groups in enumerate(region.family_groups):
        if len(groups):
            table[f, :len(groups)] = groups
            table[f, len(groups):] = groups[-1]
    return table


def draw_episodes(region: Region, expected: np.ndarray, rng: np.random.Generator,
                  groups_by_rank: np.ndarray, scale: float = 1.0) -> Episodes:
    """Episodes of one month: counts by scheme × age, then county, family, severity and need."""
    counts = rng.poisson(expected * scale)
    scheme = np.repeat(np.repeat(np.arange(len(SCHEMES)), counts.shape[1]), counts.ravel())
    age = np.repeat(np.tile(np.arange(counts.shape[1]), len(SCHEMES)), counts.ravel())
    n = len(scheme)
    county_cdf = np.cumsum(region.county_share)
    county = np.searchsorted(county_cdf, rng.random(n) * county_cdf[-1])
    county = np.minimum(county, len(region.county_share) - 1)
    cdf = np.cumsum(region.family_probability)
    family = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1]), len(cdf) - 1)
    ranks = region.family_ranks[family]
    severity_draw = rng.random(n)
    rank = np.zeros(n, dtype=np.int64)
    if region.family_rank_shares is not None:  # a built region: each family's measured shares
        rank = measured_ranks(region, family, age, severity_draw)
    split = np.unique(ranks[ranks > 1]) if region.family_rank_shares is None else ()
    for a in range(counts.shape[1]):
        for k in split:
            mask = (age == a) & (ranks == k)
            if mask.any():
                cumulative = np.cumsum(severity_probabilities(region.config, k, a))
                rank[mask] = np.minimum(np.searchsorted(cumulative, severity_draw[mask]), k - 1)
    group = groups_by_rank[family, rank]
    sd = region.config["behaviour"]["cost_sd"]
    need = region.weight[group] * rng.lognormal(-sd * sd / 2, sd, n)
    return Episodes(scheme=scheme, age=age, county=county, group=group, need=need)


def measured_ranks(region: Region, family: np.ndarray, age: np.ndarray,
                   draw: np.ndarray) -> np.ndarray:
    """Severity rank (0 = lowest) of each episode from its family's measured rank shares
    (``family_incidence`` of a built region), with the age group's log-odds shift per rank."""
    shares = region.family_rank_shares[family]
    shift = np.asarray(region.config["age_groups"]["severity_shift"], dtype=float)[age]
    odds = shares * np.exp(shift[:, None] * np.arange(shares.shape[1])[None, :])
    cumulative = np.cumsum(odds, axis=1)
    cumulative /= cumulative[:, -1:]
    rank = (draw[:, None] >= cumulative).sum(axis=1)
    return np.minimum(rank, region.family_ranks[family] - 1)


def systematic_utility(choice: dict, level: np.ndarray, severity: np.ndarray,
                       distance: np.ndarray, pay: np.ndarray) -> np.ndarray:
    """Episodes × candidates utility before the random taste (BEHAVIOUR §5): preference for the
    level (more for severe cases), distance and out-of-pocket cost (``behaviour.choice``)."""
    preference = np.asarray(choice["level"], dtype=float)
    # in place, term by term in the order of the formula (the same numbers, fewer temporaries):
    # preference + severity term − distance term − out-of-pocket term
    utility = (choice["severity_level"] * severity)[:, None] * level[None, :]
    utility += preference[level][None, :]
    utility -= choice["distance_per_km"] * distance[None, :]
    cost_term = pay * choice["out_of_pocket_per_1000"]
    cost_term /= 1000.0
    utility -= cost_term
    return utility


def out_of_pocket(cost, scheme, level, deductible, ratio, self_pay_share):
    """What the patient pays for a stay (BEHAVIOUR §5): the deductible, the co-payment above it
    and all out-of-policy items; ``deductible`` and ``ratio`` are scheme × level tables."""
    return patient_share(cost, deductible[scheme, level], ratio[scheme, level], self_pay_share)


def patient_share(cost, deductible, ratio, self_pay_share):
    """:func:`out_of_pocket` with each stay's deductible and reimbursement ratio already looked
    up: cost − max(cost × (1 − self-pay share) − deductible, 0) × ratio, computed in place (the
    choice model calls it on rows × candidates; ``cost`` has the result's shape)."""
    pay = cost * (1 - self_pay_share)  # covered, then the fund's part, then the patient's
    pay -= deductible
    np.maximum(pay, 0.0, out=pay)
    pay *= ratio
    return np.subtract(cost, pay, out=pay)


@dataclass
class Choice:
    """Where each episode is treated and how it got there."""

    hospital: np.ndarray
    referred_up: np.ndarray
    referred_down: np.ndarray
    refused: np.ndarray
    referred_from: np.ndarray  # the hospital that referred the episode last (−1: not referred)


def choose_hospitals(region: Region, episodes: Episodes, expected_cost_factor: np.ndarray,
                     deductible: np.ndarray, ratio: np.ndarray, refuse_probability,
                     capacity_left: np.ndarray, rng_choice: np.random.Generator,
                     rng_admission: np.random.Generator) -> Choice:
    """Multinomial logit choice among reachable hospitals, then capability, refusal, capacity.

    ``expected_cost_factor[h]`` is hospital h's yuan per unit of need (level base cost ×
    efficiency × cost cutting). ``refuse_probability(case_index, hospital)`` gives, for the cases
    offered to a hospital, the chance it refuses them (selection lever × expected loss).
    A refused basic case at a secondary or tertiary hospital is referred down when a lower-level
    hospital is reachable; other refused cases go to their next choice. ``referred_from`` is the
    hospital that referred an episode: the first choice that could not treat it (up), or the
    hospital that referred it down (the later of the two when both happen).
    """
    n = len(episodes)
    choice = np.full(n, -1, dtype=np.int64)
    referred_up = np.zeros(n, dtype=bool)
    referred_down = np.zeros(n, dtype=bool)
    refused = np.zeros(n, dtype=bool)
    referred_from = np.full(n, -1, dtype=np.int64)
    behaviour = region.config["behaviour"]["choice"]
    levels = region.hospital_level
    self_pay_share = region.config["self_pay_share"]
    # episodes by county once (a stable sort), not one full scan per county
    order = np.argsort(episodes.county, kind="stable")
    bounds = np.searchsorted(episodes.county[order], np.arange(len(region.candidates) + 1))
    for county, candidates in enumerate(region.candidates):
        rows = order[bounds[county]:bounds[county + 1]]
        if len(rows) == 0:
            continue
        noise = rng_choice.gumbel(size=(len(rows), len(candidates)))
        group = episodes.group[rows]
        severity = region.rank[group] - 1
        level = levels[candidates]
        cost = episodes.need[rows, None] * expected_cost_factor[candidates][None, :]
        # the scheme × level tables gathered per candidate, then a row take per episode (not a
        # rows × candidates fancy index)
        scheme = episodes.scheme[rows]
        pay = patient_share(cost, deductible[:, level][scheme], ratio[:, level][scheme],
                            self_pay_share)
        distance = region.distance_km[county, region.hospital_county[candidates]]
        utility = systematic_utility(behaviour, level, severity, distance, pay)
        utility += noise
        if region.hospital_attraction is not None:  # a built region: volumes as measured
            utility += region.hospital_attraction[candidates][None, :]
        first = np.argmax(utility, axis=1)
        needed = region.min_level[group]
        up = needed > level[first]  # the first choice cannot treat the case
        pick = first.copy()
        if up.any():  # the best capable choice, for those rows only
            pick[up] = np.argmax(np.where(needed[up][:, None] <= level[None, :], utility[up],
                                          -np.inf), axis=1)
        origin = np.where(up, candidates[first], -1)
        # refusal of expected losses (selection lever), then down-referral of basic cases
        refuse = rng_admission.random(len(rows)) < refuse_probability(rows, candidates[pick])
        if refuse.any():
            at = np.flatnonzero(refuse)
            without = np.where(needed[at][:, None] <= level[None, :], utility[at], -np.inf)
            without[np.arange(len(at)), pick[at]] = -np.inf
            lower = np.where(level[None, :] < level[pick[at]][:, None], without, -np.inf)
            has_lower = np.isfinite(lower.max(axis=1))
            down = region.basic[group[at]] & has_lower
            alternative = np.where(down, np.argmax(lower, axis=1), np.argmax(without, axis=1))
            moved = np.isfinite(without.max(axis=1))
            origin[at] = np.where(down & moved, candidates[pick[at]], origin[at])
            pick[at] = np.where(moved, alternative, pick[at])
            refused[rows[at]] = moved
            referred_down[rows[at]] = down & moved
        choice[rows] = candidates[pick]
        referred_up[rows] = up
        referred_from[rows] = origin
    # capacity: bed-days beyond what is left this month go to the next capable choice
    over, stay = _over_capacity(choice, episodes, capacity_left, rng_admission, region)
    if over.any():
        refused |= over
        choice = _reassign(region, episodes, choice, over, stay, capacity_left)
    return Choice(choice, referred_up, referred_down, refused, referred_from)


def _over_capacity(choice, episodes, capacity_left, rng, region):
    """Cases beyond a hospital's remaining bed-days (a random subset, drawn for all cases)."""
    stay = region.config["behaviour"]["stay_days_per_sqrt_weight"] * np.sqrt(episodes.need)
    order_draw = rng.random(len(choice))
    load = np.bincount(choice, weights=stay, minlength=len(capacity_left))
    crowded = np.flatnonzero(load > capacity_left)
    over = np.zeros(len(choice), dtype=bool)
    for hospital in crowded:
        rows = np.flatnonzero(choice == hospital)
        rows = rows[np.argsort(order_draw[rows])]
        cumulative = np.cumsum(stay[rows])
        over[rows[cumulative > capacity_left[hospital]]] = True
    return over, stay


def _reassign(region, episodes, choice, over, stay, capacity_left):
    """Send over-capacity cases to the nearest capable hospital with bed-days left, county by
    county (one pass: the receiving hospital's room is judged before the move)."""
    choice = choice.copy()
    used = np.bincount(choice[~over], weights=stay[~over], minlength=len(capacity_left))
    room = capacity_left > used
    for county, candidates in enumerate(region.candidates):
        rows = np.flatnonzero(over & (episodes.county == county))
        if len(rows) == 0:
            continue
        ok = ((region.min_level[episodes.group[rows]][:, None]
               <= region.hospital_level[candidates][None, :])
              & room[candidates][None, :] & (candidates[None, :] != choice[rows][:, None]))
        distance = (region.distance_km[county, region.hospital_county[candidates]]
                    - 0.001 * region.hospital_level[candidates])
        score = np.where(ok, distance[None, :], np.inf)
        has_room = np.isfinite(score.min(axis=1))
        choice[rows[has_room]] = candidates[np.argmin(score[has_room], axis=1)]
    return choice

