"""The region: counties, hospitals, insured population and case mix, built from a region YAML.

``load_region_config`` reads and checks a region file (``scenarios/regions/default.yaml``);
``build_region`` turns it into arrays: per group (true weight, family, severity rank, next-higher
sibling for upcoding, lowest level able to treat it, basic flag), per family (incidence
probability, number of severity ranks), per hospital (county, level, beds, ownership,
efficiency, coding capacity), per county (population share, distances, candidate hospitals).
The family incidence exponent is solved so that the true case-mix index is 1 (§6 CMI), unless the
file fixes it. Hospital attributes are drawn from a ``region`` random stream.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from sim.catalogue import Catalogue, load_catalogue
from sim.errors import InputError, show
from sim.resources import resolve
from sim.yamlfile import read_yaml

LEVELS = ("primary", "secondary", "tertiary")
SCHEMES = ("employee", "resident")


@dataclass
class Region:
    """Everything fixed about a region, as arrays (hospitals, groups, families, counties)."""

    title: str
    catalogue: Catalogue
    config: dict
    # groups (catalogue rows)
    weight: np.ndarray
    family: np.ndarray
    rank: np.ndarray
    upcode_to: np.ndarray          # group id of the next-higher sibling, -1 if none
    min_level: np.ndarray          # lowest level able to treat the group
    basic: np.ndarray
    # families
    family_groups: list[np.ndarray]  # group ids by rank, lowest first
    family_probability: np.ndarray
    family_ranks: np.ndarray
    # hospitals
    hospital_county: np.ndarray
    hospital_level: np.ndarray
    hospital_beds: np.ndarray
    hospital_private: np.ndarray
    hospital_efficiency: np.ndarray
    hospital_coding_capacity: np.ndarray
    # counties
    county_share: np.ndarray
    distance_km: np.ndarray
    candidates: list[np.ndarray]   # hospitals a patient of each county may choose
    # money
    base_cost: np.ndarray          # yuan per weight unit by level (calibrated in the burn-in)
    case_mix_exponent: float

    @property
    def n_hospitals(self) -> int:
        return len(self.hospital_level)

    @cached_property
    def hospital_ids(self) -> np.ndarray:
        return np.array([f"{LEVELS[lv][0].upper()}{i + 1:04d}"
                         for i, lv in enumerate(self.hospital_level)])


# --------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class Field:
    """One leaf of a region file: what it holds, its bounds, whether it may be left out."""

    kind: str                      # number | text | numbers | texts | levels | any
    low: float | None = None
    high: float | None = None
    optional: bool = False
    nullable: bool = False


def _number(low=None, high=None, **extra) -> Field:
    return Field("number", low, high, **extra)


_LEVEL_NUMBERS = {level: _number(0) for level in LEVELS}
_HOSPITALS = {"per_county": Field("any"), "counties": Field("numbers", 0, optional=True),
              "beds": Field("numbers", 1), "private_share": _number(0, 1)}
REGION_SCHEMA: dict = {
    "title": Field("text"),
    "title_zh": Field("text", optional=True),
    "catalogue": Field("text"),
    "basic_groups": {"source": Field("text", optional=True), "codes": Field("texts")},
    "schemes": {scheme: {"insured": _number(0), "contribution_per_insured": _number(0),
                         "admission_rate": _number(0, 1)} for scheme in SCHEMES},
    "self_pay_share": _number(0, 1),
    "non_drg_spending_share": _number(0, 1),
    "contribution_growth": _number(-0.5, 1),
    "initial_reserve_months": _number(0, 600),
    "admission_growth": _number(-0.5, 1),
    "age_groups": {"names": Field("texts"), "population_share": Field("numbers", 0, 1),
                   "relative_rate": Field("numbers", 0), "severity_shift": Field("numbers")},
    "counties": {"names": Field("texts", optional=True, nullable=True),
                 "population_share": Field("any", optional=True),
                 "distance_km": Field("any", optional=True, nullable=True),
                 "count": _number(1, optional=True), "spacing_km": _number(0, optional=True),
                 "local_km": _number(0, optional=True)},
    "hospitals": {level: dict(_HOSPITALS) for level in LEVELS},
    "cost_per_admission": {level: _number(1) for level in LEVELS},
    "capability_max_weight": {level: _number(0) for level in LEVELS},
    "severity": {"two_ranks": Field("numbers", 0, 1), "three_ranks": Field("numbers", 0, 1)},
    "case_mix_exponent": _number(-2, 8, nullable=True),
    "behaviour": {
        "efficiency_sd": _number(0, 2), "cost_sd": _number(0, 2),
        "choice_set": {"outside_secondary": _number(0), "outside_tertiary": _number(0)},
        "choice": {"level": Field("numbers"), "severity_level": _number(),
                   "distance_per_km": _number(0), "out_of_pocket_per_1000": _number(0)},
        "stay_days_per_sqrt_weight": _number(0), "readmission_base": _number(0, 1),
        "readmission_per_cut": _number(0, 1), "cut_depth": _number(0, 1),
        "split_cost_share": _number(0, 2), "induced_rate": _number(0, 1),
        "induced_weight_max": _number(0), "bed_occupancy_max": _number(0, 1),
        "learning_rate": _number(0, 1), "lever_noise": _number(0, 1),
        "upcoding_ethics_cost": {"public": _number(0), "private": _number(0)},
        "upcoding_scale": _number(1e-9), "selection_tolerance": _number(0),
        "selection_scale": _number(1e-9), "cutting_scale": _number(1e-9),
        "split_penalty_probability": _number(0, 1), "split_scale": _number(1e-9),
        "induction_scale": _number(1e-9),
        "lever_max": {lever: _number(0, 1) for lever in
                      ("upcoding", "selection", "cost_cutting", "split", "induction")},
    },
}


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def check_region(config: dict, file: str, schema: dict = REGION_SCHEMA, prefix: str = "") -> None:
    """Every key known, every required key present, every value of the right kind and range."""
    for key in config:
        if key not in schema:
            close = difflib.get_close_matches(str(key), list(schema), n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            raise InputError(file, f"key {prefix}{key}", "unknown key",
                             "one of " + ", ".join(schema) + hint)
    for key, spec in schema.items():
        where = f"{prefix}{key}"
        if key not in config:
            if isinstance(spec, Field) and spec.optional:
                continue
            raise InputError(file, f"key {where}", "missing", "see scenarios/regions/default.yaml")
        value = config[key]
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                raise InputError(file, where, f"value {show(value)}", "a mapping")
            check_region(value, file, spec, where + ".")
        else:
            _check_field(value, spec, file, where)


def _check_field(value, spec: Field, file: str, where: str) -> None:
    if value is None:
        if spec.nullable:
            return
        raise InputError(file, where, "value is empty", "a value")
    bounds = (f"a number in [{'−∞' if spec.low is None else f'{spec.low:g}'}, "
              f"{'∞' if spec.high is None else f'{spec.high:g}'}]")
    if spec.kind == "text" and not (isinstance(value, str) and value.strip()):
        raise InputError(file, where, f"value {show(value)}", "a non-empty text")
    if spec.kind == "texts" and not (isinstance(value, list)
                                     and all(isinstance(v, str) for v in value)):
        raise InputError(file, where, f"value {show(value)}", "a list of texts")
    numbers = [value] if spec.kind == "number" else value if spec.kind == "numbers" else []
    if spec.kind == "numbers" and not isinstance(value, list):
        raise InputError(file, where, f"value {show(value)}", "a list of numbers")
    for number in numbers:
        if not _is_number(number) or (spec.low is not None and number < spec.low) or (
                spec.high is not None and number > spec.high):
            raise InputError(file, where, f"value {show(number)}", bounds)


def load_region_config(path: str | Path) -> tuple[dict, Path]:
    """Read a region YAML (a path or a shipped name) and check its top-level shape."""
    path = resolve(str(path), "regions", ".yaml")
    config = read_yaml(path)
    file = str(path)
    if not isinstance(config, dict):
        raise InputError(file, None, f"top level is {show(config)}", "a mapping (a region)")
    if "extends" in config:
        name = str(config.pop("extends"))
        parent_path = path.parent / name if name.endswith(".yaml") else name
        parent, _ = load_region_config(parent_path)
        config = _merge(parent, config)
    check_region(config, file)
    for group in ("age_groups", "severity"):
        for key, shares in config[group].items():
            if key in ("population_share", "two_ranks", "three_ranks") and abs(
                    sum(shares) - 1) > 1e-6:
                raise InputError(file, f"{group}.{key}", f"shares sum to {sum(shares):g}",
                                 "shares summing to 1")
    counties = config["counties"]
    distance = county_distances(counties)
    n_counties = distance.shape[0]
    if distance.shape != (n_counties, n_counties) or (
            counties.get("names") and len(counties["names"]) != n_counties):
        raise InputError(file, "counties.distance_km", f"shape {distance.shape}",
                         "a square matrix, one row per county name")
    if len(county_shares(counties, n_counties)) != n_counties:
        raise InputError(file, "counties.population_share", "wrong length",
                         f"{n_counties} shares, one per county")
    for level in LEVELS:
        counts = config["hospitals"][level]["per_county"]
        if isinstance(counts, list) and len(counts) != n_counties:
            raise InputError(file, f"hospitals.{level}.per_county", f"value {show(counts)}",
                             f"{n_counties} counts, one per county")
    return config, path


def _merge(parent: dict, child: dict) -> dict:
    """A child region's keys replace the parent's; mappings merge key by key."""
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(parent.get(key), dict):
            merged[key] = _merge(parent[key], value)
        else:
            merged[key] = value
    return merged


def _solve_case_mix_exponent(mean_weight: np.ndarray, target: float = 1.0) -> float:
    """Exponent a with P(family) ∝ mean weight^(−a) giving an expected weight of ``target``."""
    low, high = -2.0, 8.0
    for _ in range(80):
        middle = (low + high) / 2
        p = mean_weight ** (-middle)
        value = np.sum(p * mean_weight) / np.sum(p)
        low, high = (middle, high) if value > target else (low, middle)
    return (low + high) / 2


def severity_probabilities(config: dict, ranks: int, age: int) -> np.ndarray:
    """Share of a family's cases in each severity rank for an age group (lowest rank first)."""
    if ranks == 1:
        return np.ones(1)
    base = np.asarray(config["severity"]["two_ranks" if ranks == 2 else "three_ranks"],
                      dtype=float)
    if len(base) != ranks:
        base = np.full(ranks, 1.0 / ranks)
    shift = config["age_groups"]["severity_shift"][age]
    odds = base * np.exp(shift * np.arange(ranks))
    return odds / odds.sum()


def per_county(spec: dict, n_counties: int) -> list[int]:
    """Hospitals of a level per county: a list, or one count in each of ``counties`` (all)."""
    value = spec["per_county"]
    if isinstance(value, list):
        return [int(v) for v in value]
    where = spec.get("counties", list(range(n_counties)))
    return [int(value) if c in where else 0 for c in range(n_counties)]


def county_shares(counties: dict, n_counties: int) -> np.ndarray:
    shares = counties.get("population_share", "uniform")
    if shares == "uniform":
        return np.full(n_counties, 1.0 / n_counties)
    return np.asarray(shares, dtype=float)


def county_distances(counties: dict) -> np.ndarray:
    """Distances between county seats: a given matrix, or a square grid of ``count`` counties
    ``spacing_km`` apart (straight-line distance, at least ``local_km`` within a county)."""
    if counties.get("distance_km") is not None:
        return np.asarray(counties["distance_km"], dtype=float)
    side = int(np.ceil(np.sqrt(counties["count"])))
    index = np.arange(counties["count"])
    x, y = index % side, index // side
    distance = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) * counties["spacing_km"]
    return np.maximum(distance, counties["local_km"])


def choice_sets(distance: np.ndarray, county: np.ndarray, level: np.ndarray,
                spec: dict) -> list[np.ndarray]:
    """Hospitals a patient of each county considers: every hospital of the home county plus the
    nearest few secondary and tertiary hospitals elsewhere (BEHAVIOUR §5: reachable hospitals)."""
    sets = []
    for home in range(distance.shape[0]):
        chosen = [np.flatnonzero(county == home)]
        for level_index, key in ((1, "outside_secondary"), (2, "outside_tertiary")):
            outside = np.flatnonzero((county != home) & (level == level_index))
            nearest = outside[np.argsort(distance[home, county[outside]], kind="stable")]
            chosen.append(nearest[: spec[key]])
        sets.append(np.unique(np.concatenate(chosen)))
    return sets


def build_region(config: dict, seed_sequence: np.random.SeedSequence,
                 catalogue: Catalogue | None = None) -> Region:
    """Arrays of a region from its configuration; hospital attributes drawn reproducibly."""
    rng = np.random.default_rng(seed_sequence)
    if catalogue is None:
        catalogue = load_catalogue(resolve(config["catalogue"], "catalogues", ".csv"))
    table = catalogue.table
    weight = catalogue.weights.copy()
    priced = np.isfinite(weight) & (weight > 0)
    family_codes, family = np.unique(table["adrg"].to_numpy(), return_inverse=True)
    rank = table["severity_rank"].to_numpy().astype(np.int64)
    basic_codes = set(config.get("basic_groups", {}).get("codes", []))
    basic = table["code"].isin(basic_codes).to_numpy()

    family_groups, family_mean = [], []
    upcode_to = np.full(len(table), -1, dtype=np.int64)
    for f in range(len(family_codes)):
        members = np.flatnonzero((family == f) & priced)
        members = members[np.argsort(rank[members], kind="stable")]
        family_groups.append(members)
        family_mean.append(weight[members].mean() if len(members) else np.nan)
        upcode_to[members[:-1]] = members[1:]
    family_mean = np.asarray(family_mean)
    usable = np.isfinite(family_mean)
    exponent = config.get("case_mix_exponent")
    family_ranks = np.array([len(g) for g in family_groups])
    # expected weight of a family's case under the adult severity mix
    expected = np.array([
        np.sum(weight[g] * severity_probabilities(config, len(g), 1)) if len(g) else np.nan
        for g in family_groups])
    if exponent is None:
        exponent = _solve_case_mix_exponent(expected[usable])
    probability = np.where(usable, np.nan_to_num(expected, nan=1.0) ** (-exponent), 0.0)
    probability /= probability.sum()

    capability = config["capability_max_weight"]
    min_level = np.select([weight <= capability[lv] for lv in LEVELS], [0, 1, 2], default=2)

    counties = config["counties"]
    hospitals = config["hospitals"]
    county, level, beds, private = [], [], [], []
    n_counties = len(county_distances(counties))
    for level_index, name in enumerate(LEVELS):
        spec = hospitals[name]
        for c, count in enumerate(per_county(spec, n_counties)):
            for _ in range(int(count)):
                county.append(c)
                level.append(level_index)
                beds.append(rng.integers(spec["beds"][0], spec["beds"][1] + 1))
                private.append(rng.random() < spec["private_share"])
    county, level = np.array(county), np.array(level)
    beds, private = np.array(beds, dtype=float), np.array(private)
    efficiency = rng.lognormal(0.0, config["behaviour"]["efficiency_sd"], len(level))
    coding_capacity = np.clip(0.5 + 0.5 * beds / beds.max(), 0.5, 1.0)
    distance = county_distances(counties)
    candidates = choice_sets(distance, county, level, config["behaviour"]["choice_set"])
    cost_targets = np.array([config["cost_per_admission"][lv] for lv in LEVELS], dtype=float)
    return Region(
        title=config["title"], catalogue=catalogue, config=config, weight=weight,
        family=family, rank=rank, upcode_to=upcode_to, min_level=min_level, basic=basic,
        family_groups=family_groups, family_probability=probability,
        family_ranks=family_ranks, hospital_county=county, hospital_level=level,
        hospital_beds=beds, hospital_private=private, hospital_efficiency=efficiency,
        hospital_coding_capacity=coding_capacity,
        county_share=county_shares(counties, n_counties),
        distance_km=distance, candidates=candidates, base_cost=cost_targets.copy(),
        case_mix_exponent=float(exponent))
