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


@dataclass
class IncidenceTables:
    """What :func:`draw_episodes` looks up every month, made once per region: an alias table of
    the families' incidence (Walker/Vose: one uniform per episode, a constant-time draw instead
    of a binary search over the families) and each age group's cumulative severity-rank shares
    by number of ranks (one row per episode instead of a search per age × ranks)."""

    family_threshold: np.ndarray  # per alias column: keep the column's family below this
    family_alias: np.ndarray      # per alias column: the family drawn above it
    rank_cumulative: np.ndarray | None  # ages × ranks (1..width) × width; +inf past a family


def alias_table(probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table of ``probability`` (any non-negative weights): column k is drawn with
    probability 1/K, then kept with ``threshold[k]`` and else replaced by ``alias[k]``. A
    category of weight 0 is never drawn."""
    weight = np.asarray(probability, dtype=float)
    k = len(weight)
    scaled = weight * (k / weight.sum())
    threshold = np.ones(k)
    alias = np.arange(k)
    small = [i for i in range(k) if scaled[i] < 1.0]
    large = [i for i in range(k) if scaled[i] >= 1.0]
    while small and large:
        low, high = small.pop(), large.pop()
        threshold[low] = scaled[low]
        alias[low] = high
        scaled[high] -= 1.0 - scaled[low]
        (small if scaled[high] < 1.0 else large).append(high)
    # what is left is 1 up to rounding; a category of weight 0 is always replaced
    zero = weight <= 0
    threshold[zero] = 0.0
    alias[zero & (alias == np.arange(k))] = int(np.argmax(weight))
    return threshold, alias


def alias_draw(threshold: np.ndarray, alias: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Categories drawn from an :func:`alias_table` with one uniform in [0, 1) each: its whole
    part × K picks the column, its fractional part decides between the column and its alias."""
    scaled = draw * len(threshold)
    column = np.minimum(scaled.astype(np.int64), len(threshold) - 1)
    scaled -= column
    return np.where(scaled < threshold[column], column, alias[column])


def cdf_search(cdf: np.ndarray, x: np.ndarray, buckets: int = 4096) -> np.ndarray:
    """``np.searchsorted(cdf, x)`` for many keys ``x`` in [0, cdf[-1]], the same numbers ~2×
    faster (issue 13: a binary search per random key, ~60 ns each, was most of the province's
    incidence): the range is cut into equal buckets, a key in a bucket that holds no value of
    ``cdf`` takes the bucket's index, and the others (and any key the bucket arithmetic may have
    put a rounding error away from its bucket) are searched as before."""
    total = float(cdf[-1]) if len(cdf) else 0.0
    if not (np.isfinite(total) and total > 0) or len(x) < 4 * buckets:
        return np.searchsorted(cdf, x)
    edges = np.linspace(0.0, total, buckets + 1)
    first = np.searchsorted(cdf, edges)  # the index of every key at each edge
    bucket = (x * (buckets / total)).astype(np.int64)
    np.clip(bucket, 0, buckets - 1, out=bucket)
    index = first[bucket]
    unsure = np.flatnonzero((first[bucket + 1] != index) | (x < edges[bucket])
                            | (x >= edges[bucket + 1]))
    index[unsure] = np.searchsorted(cdf, x[unsure])
    return index


def incidence_tables(region: Region) -> IncidenceTables:
    """:class:`IncidenceTables` of ``region`` (made once by the model)."""
    threshold, alias = alias_table(region.family_probability)
    cumulative = None
    if region.family_rank_shares is None:  # the region file's shares by number of ranks
        width = int(max(region.family_ranks.max(initial=1), 1))
        ages = len(region.config["age_groups"]["population_share"])
        cumulative = np.full((ages, width, width), np.inf)
        for age in range(ages):
            for ranks in range(1, width + 1):
                cumulative[age, ranks - 1, :ranks] = np.cumsum(
                    severity_probabilities(region.config, ranks, age))
    return IncidenceTables(threshold, alias, cumulative)


def draw_episodes(region: Region, expected: np.ndarray, rng: np.random.Generator,
                  groups_by_rank: np.ndarray, scale: float = 1.0,
                  tables: IncidenceTables | None = None) -> Episodes:
    """Episodes of one month: counts by scheme × age, then county, family, severity and need.
    ``tables``: :func:`incidence_tables` of the region (made here when not given)."""
    tables = tables if tables is not None else incidence_tables(region)
    counts = rng.poisson(expected * scale)
    scheme = np.repeat(np.repeat(np.arange(len(SCHEMES)), counts.shape[1]), counts.ravel())
    age = np.repeat(np.tile(np.arange(counts.shape[1]), len(SCHEMES)), counts.ravel())
    n = len(scheme)
    county_cdf = np.cumsum(region.county_share)
    county = cdf_search(county_cdf, rng.random(n) * county_cdf[-1])
    county = np.minimum(county, len(region.county_share) - 1)
    family = alias_draw(tables.family_threshold, tables.family_alias, rng.random(n))
    severity_draw = rng.random(n)
    if region.family_rank_shares is not None:  # a built region: each family's measured shares
        rank = measured_ranks(region, family, age, severity_draw)
    else:  # the first rank whose cumulative share reaches the draw (a search per episode)
        ranks = region.family_ranks[family]
        ages, width, _ = tables.rank_cumulative.shape
        row = age * width + np.maximum(ranks, 1) - 1  # the episode's row of shares
        cumulative = tables.rank_cumulative.reshape(ages * width, width)
        rank = np.zeros(n, dtype=np.int64)
        for k in range(width - 1):  # one column at a time (a sum along rows is slow)
            rank += cumulative[row, k] < severity_draw
        rank = np.minimum(rank, np.maximum(ranks - 1, 0))
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

    Each choice is a logit draw by inverse CDF — one uniform per episode, not a Gumbel taste per
    episode and candidate: the first choice over the choice set; a first choice that cannot
    treat the case is replaced by a draw over the capable hospitals; a refused case draws again
    over the capable hospitals without the refusing one (the lower-level ones for a basic case
    referred down). Under Gumbel-max these are the same distributions (a logit restricted to a
    subset is the logit over that subset, whatever the draw outside it), so the model is the one
    BEHAVIOUR §5 describes; only the random numbers differ. The utility is computed candidates ×
    episodes in float32 (:func:`candidate_utility`), episodes grouped by county and scheme.
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
    # one uniform per episode and draw: first choice, capable choice, choice after a refusal;
    # and whether the hospital refuses (drawn for all episodes, in episode order)
    first_draw, capable_draw, again_draw = rng_choice.random((3, n), dtype=np.float32)
    refuse_draw = rng_admission.random(n)
    need = episodes.need.astype(np.float32)
    severity = (region.rank[episodes.group] - 1).astype(np.float32)
    needed = region.min_level[episodes.group]
    # episodes by county and scheme once (a stable sort), not one full scan per county
    n_schemes = deductible.shape[0]
    key = episodes.county * n_schemes + episodes.scheme
    if len(region.candidates) * n_schemes < 2**15:  # numpy sorts 16-bit keys by radix
        key = key.astype(np.int16)
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(len(region.candidates) * n_schemes + 1))
    for county, candidates in enumerate(region.candidates):
        level = levels[candidates]
        distance = region.distance_km[county, region.hospital_county[candidates]]
        attraction = (None if region.hospital_attraction is None
                      else region.hospital_attraction[candidates])
        for scheme in range(n_schemes):
            block = county * n_schemes + scheme
            rows = order[bounds[block]:bounds[block + 1]]
            if len(rows) == 0:
                continue
            utility = candidate_utility(behaviour, level, distance, attraction,
                                        expected_cost_factor[candidates],
                                        deductible[scheme, level], ratio[scheme, level],
                                        self_pay_share, need[rows], severity[rows])
            weight = logit_weights(utility)
            first = logit_draw(weight, None, first_draw[rows])
            block_needed = needed[rows]
            up = block_needed > level[first]  # the first choice cannot treat the case
            pick = first.copy()
            if up.any():  # a draw over the capable hospitals, for those rows only
                pick[up] = logit_draw(weight[:, up], block_needed[up][None, :] <= level[:, None],
                                      capable_draw[rows[up]])
            origin = np.where(up, candidates[first], -1)
            # refusal of expected losses (selection lever), then down-referral of basic cases
            refuse = refuse_draw[rows] < refuse_probability(rows, candidates[pick])
            if refuse.any():
                at = np.flatnonzero(refuse)
                # the capable candidates (candidates × refused rows) but the refusing one
                without = block_needed[at][None, :] <= level[:, None]
                without[pick[at], np.arange(len(at))] = False
                lower = without & (level[:, None] < level[pick[at]][None, :])
                down = region.basic[episodes.group[rows[at]]] & lower.any(axis=0)
                moved = without.any(axis=0)
                allowed = np.where(down[None, :], lower, without)
                alternative = logit_draw(weight[:, at], allowed, again_draw[rows[at]])
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
        choice = _reassign(region, episodes, choice, over, stay, capacity_left, referred_from,
                           referred_down)
    return Choice(choice, referred_up, referred_down, refused, referred_from)


def candidate_utility(choice: dict, level, distance, attraction, cost_factor, deductible, ratio,
                      self_pay_share: float, need: np.ndarray,
                      severity: np.ndarray) -> np.ndarray:
    """:func:`systematic_utility` (+ the built region's attraction) as candidates × episodes,
    float32, for episodes of one scheme (``deductible``, ``ratio`` per candidate): the same
    formula with the out-of-pocket cost opened up, cost − max(cost × (1 − self-pay) −
    deductible, 0) × ratio with cost = need × cost factor, so each term is one pass."""
    per_yuan = choice["out_of_pocket_per_1000"] / 1000.0
    fixed = (np.asarray(choice["level"], dtype=float)[level]
             - choice["distance_per_km"] * distance)
    if attraction is not None:
        fixed = fixed + attraction
    f32 = np.float32
    # the fund's part of the cost (covered above the deductible × ratio), in utility
    utility = np.multiply.outer((cost_factor * (1 - self_pay_share)).astype(f32), need)
    utility -= deductible.astype(f32)[:, None]
    np.maximum(utility, f32(0), out=utility)
    utility *= (per_yuan * ratio).astype(f32)[:, None]
    # − the whole cost, + level preference (more for severe cases), − distance
    utility -= np.multiply.outer((per_yuan * cost_factor).astype(f32), need)
    utility += np.multiply.outer((choice["severity_level"] * level).astype(f32), severity)
    utility += fixed.astype(f32)[:, None]
    return utility


UTILITY_FLOOR = -80.0  # exp(-80) ≈ 2e-35: still a normal float32, so no weight is exactly 0


def logit_weights(utility: np.ndarray) -> np.ndarray:
    """exp(utility − the episode's best), in place; candidates × episodes. Utilities more than
    80 below the best are raised to −80 (their share, < 1e-34, is immaterial), so a candidate
    allowed in a draw never has a weight of zero."""
    utility -= utility.max(axis=0)[None, :]
    np.maximum(utility, np.float32(UTILITY_FLOOR), out=utility)
    return np.exp(utility, out=utility)


def logit_draw(weight: np.ndarray, allowed: np.ndarray | None, draw: np.ndarray) -> np.ndarray:
    """Per episode (column), the candidate (row) drawn with probability ∝ weight among the
    ``allowed`` ones, by inverse CDF with the episode's uniform ``draw`` in [0, 1). An episode
    with no candidate allowed gets 0."""
    cumulative = weight * allowed if allowed is not None else weight.copy()
    for k in range(1, len(cumulative)):  # np.cumsum along axis 0 is ~10× slower here
        cumulative[k] += cumulative[k - 1]
    target = (1 - draw) * cumulative[-1]  # in (0, total]: the first candidate reaching it
    below = cumulative < target[None, :]
    return below.view(np.int8).sum(axis=0, dtype=np.int16).astype(np.int64)


def _over_capacity(choice, episodes, capacity_left, rng, region):
    """Cases beyond a hospital's remaining bed-days (a random subset, drawn for all cases)."""
    stay = region.config["behaviour"]["stay_days_per_sqrt_weight"] * np.sqrt(episodes.need)
    order_draw = rng.random(len(choice))
    load = np.bincount(choice, weights=stay, minlength=len(capacity_left))
    crowded = load > capacity_left
    over = np.zeros(len(choice), dtype=bool)
    # the crowded hospitals' cases, grouped by hospital (a stable sort keeps each hospital's
    # rows in episode order, as one scan per hospital found them: issue 13)
    rows = np.flatnonzero(crowded[choice])
    if len(rows) == 0:  # no hospital over its beds (or only ones without a case this month)
        return over, stay
    rows = rows[np.argsort(choice[rows], kind="stable")]
    owner = choice[rows]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    for start, end in zip(starts, np.r_[starts[1:], len(rows)], strict=True):
        mine = rows[start:end]
        mine = mine[np.argsort(order_draw[mine])]
        cumulative = np.cumsum(stay[mine])
        over[mine[cumulative > capacity_left[owner[start]]]] = True
    return over, stay


def _reassign(region, episodes, choice, over, stay, capacity_left, referred_from,
              referred_down):
    """Send over-capacity cases to the nearest capable hospital with bed-days left, county by
    county (one pass: the receiving hospital's room is judged before the move); never back to
    the hospital that referred the case, and a case referred down only to a level below the
    referring hospital's (else it stays where it was sent, as a case with no room anywhere)."""
    choice = choice.copy()
    used = np.bincount(choice[~over], weights=stay[~over], minlength=len(capacity_left))
    room = capacity_left > used
    # the over-capacity rows by county, each county's in episode order (one stable sort, not a
    # scan of the month per county: issue 13)
    moved = np.flatnonzero(over)
    moved = moved[np.argsort(episodes.county[moved], kind="stable")]
    bounds = np.searchsorted(episodes.county[moved], np.arange(len(region.candidates) + 1))
    for county, candidates in enumerate(region.candidates):
        rows = moved[bounds[county]:bounds[county + 1]]
        if len(rows):
            _spill_in_county(region, episodes, county, candidates, rows, choice, room,
                             referred_from, referred_down)
    return choice


def _spill_in_county(region, episodes, county, candidates, rows, choice, room, referred_from,
                     referred_down) -> None:
    """:func:`_reassign` for the over-capacity ``rows`` of one county: each to the nearest
    capable hospital with room, in ``choice`` (in place); a row with none keeps its hospital."""
    ok = ((region.min_level[episodes.group[rows]][:, None]
           <= region.hospital_level[candidates][None, :])
          & room[candidates][None, :] & (candidates[None, :] != choice[rows][:, None])
          & (candidates[None, :] != referred_from[rows][:, None]))
    down = referred_down[rows]
    if down.any():
        ceiling = region.hospital_level[referred_from[rows[down]]]
        ok[down] &= region.hospital_level[candidates][None, :] < ceiling[:, None]
    distance = (region.distance_km[county, region.hospital_county[candidates]]
                - 0.001 * region.hospital_level[candidates])
    score = np.where(ok, distance[None, :], np.inf)
    has_room = np.isfinite(score.min(axis=1))
    choice[rows[has_room]] = candidates[np.argmin(score[has_room], axis=1)]

