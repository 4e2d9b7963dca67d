"""The region: counties, hospitals, insured population and case mix, built from a region YAML.

``load_region_config`` reads and checks a region file (``scenarios/regions/default.yaml``);
``build_region`` turns it into arrays: per group (true weight, family, severity rank, next-higher
sibling for upcoding, lowest level able to treat it, basic flag), per family (incidence
probability, number of severity ranks), per hospital (county, level, beds, ownership,
efficiency, coding capacity), per county (population share, distances, candidate hospitals),
and the county alliances (紧密型县域医共体, §2.8) the optional ``alliances`` section names
(:func:`check_alliance_section`, :func:`region_alliances`).
The family incidence exponent is solved so that the true case-mix index is 1 (§6 CMI), unless the
file fixes it. Hospital attributes are drawn from a ``region`` random stream.

A *built* region (``drgsim region build``, :mod:`calibration.region_build`) lists its parts
instead of generating them: ``hospital_list`` names a CSV beside the region file with one row per
hospital (the bureau's id, name, level, county, beds, ownership and the measured cost efficiency
and choice attraction; :func:`load_hospital_list`), replacing ``hospitals``; ``family_incidence``
names a CSV with each ADRG family's share of admissions and its severity shares
(:func:`load_family_incidence`), replacing the exponent. ``sources`` maps each value's path to
where it came from (``measured: …`` / ``assumed: …``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from sim.errors import InputError, show
from sim.inputs.alliances import EXPECTED as ALLIANCE_EXPECTED
from sim.inputs.alliances import Alliance, check_alliances, parse_alliances
from sim.inputs.catalogue import Catalogue, code_list, load_catalogue
from sim.inputs.yamlfile import read_yaml
from sim.resources import resolve

LEVELS = ("primary", "secondary", "tertiary")
SCHEMES = ("employee", "resident")
MIN_ADMISSIONS, MAX_ADMISSIONS = 1_000, 30_000_000  # per year at the chosen --scale
MAX_COUNTIES, MAX_HOSPITALS = 5_000, 20_000


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
    alliances: tuple[Alliance, ...] = ()  # county alliances of the region file (§2.8)
    # built regions (hospital_list, family_incidence); None in generated ones
    listed_ids: np.ndarray | None = None          # the bureau's hospital ids
    hospital_attraction: np.ndarray | None = None  # logit constant per hospital (choice)
    family_rank_shares: np.ndarray | None = None  # families × ranks, severity shares measured

    @property
    def n_hospitals(self) -> int:
        return len(self.hospital_level)

    @cached_property
    def hospital_ids(self) -> np.ndarray:
        if self.listed_ids is not None:
            return self.listed_ids
        return hospital_ids_of(self.hospital_level)


def region_hospital_ids(config: dict, hospital_level) -> np.ndarray:
    """The bureau's ids of a built region's hospitals, else :func:`hospital_ids_of`."""
    if config.get("hospital_list") is not None:
        return load_hospital_list(config["hospital_list"]).ids
    return hospital_ids_of(hospital_level)


def hospital_ids_of(hospital_level) -> np.ndarray:
    """Hospital ids: the level's initial and the hospital's number (P0001, S0061, T0076 …)."""
    return np.array([f"{LEVELS[lv][0].upper()}{i + 1:04d}" for i, lv in enumerate(hospital_level)])


# --------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class Field:
    """One leaf of a region file: what it holds, its bounds, whether it may be left out."""

    kind: str                      # number | text | numbers | texts | levels | any
    low: float | None = None
    high: float | None = None
    optional: bool = False
    nullable: bool = False
    infinite: bool = False         # .inf allowed (capability limits); otherwise finite only


def _number(low=None, high=None, **extra) -> Field:
    return Field("number", low, high, **extra)


_LEVEL_NUMBERS = {level: _number(0) for level in LEVELS}
_HOSPITALS = {"per_county": Field("any"), "counties": Field("numbers", 0, optional=True),
              "beds": Field("numbers", 1, 100_000), "private_share": _number(0, 1)}
REGION_SCHEMA: dict = {
    "title": Field("text"),
    "title_zh": Field("text", optional=True),
    "catalogue": Field("text"),
    "basic_groups": {"source": Field("text", optional=True), "codes": Field("texts")},
    "schemes": {scheme: {"insured": _number(0), "contribution_per_insured": _number(0),
                         "admission_rate": _number(0, 1),
                         # the scheme's fund (sim.model.fund): its own settings where given
                         "fund_balance": _number(optional=True, nullable=True),
                         "initial_reserve_months": _number(0, 600, optional=True),
                         "non_drg_spending_share": _number(0, 1, optional=True)}
                for scheme in SCHEMES},
    "reserve_warning_months": _number(0, 600, optional=True),
    "self_pay_share": _number(0, 1),
    "non_drg_spending_share": _number(0, 1),
    "contribution_growth": _number(-0.5, 1),
    "initial_reserve_months": _number(0, 600),
    "admission_growth": _number(-0.5, 1),
    "age_groups": {"names": Field("texts"), "population_share": Field("numbers", 0, 1),
                   "relative_rate": Field("numbers", 0),
                   "severity_shift": Field("numbers", -10, 10)},
    "counties": {"names": Field("texts", optional=True, nullable=True),
                 "population_share": Field("any", optional=True),
                 "distance_km": Field("any", optional=True, nullable=True),
                 "count": _number(1, optional=True), "spacing_km": _number(0, optional=True),
                 "local_km": _number(0, optional=True)},
    "hospitals": {level: dict(_HOSPITALS) for level in LEVELS},
    "hospital_list": Field("text", optional=True),      # built regions: replaces hospitals
    "family_incidence": Field("text", optional=True),   # built regions: replaces the exponent
    "sources": Field("any", optional=True),             # {path: "measured: …" | "assumed: …"}
    "cost_per_admission": {level: _number(1) for level in LEVELS},
    "capability_max_weight": {level: _number(0, infinite=True) for level in LEVELS},
    "severity": {"two_ranks": Field("numbers", 0, 1), "three_ranks": Field("numbers", 0, 1)},
    "case_mix_exponent": _number(-2, 8, nullable=True),
    "alliances": Field("any", optional=True, nullable=True),  # check_alliance_section
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


REPLACED_BY = {"hospitals": "hospital_list"}  # a required section another key may replace


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
            if not prefix and key in REPLACED_BY and REPLACED_BY[key] in config:
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
        if not spec.infinite and number in (float("inf"), float("-inf")):
            raise InputError(file, where, f"value {show(number)}", "a finite number")


def load_region_config(path: str | Path, chain: tuple[Path, ...] = ()) -> tuple[dict, Path]:
    """Read a region YAML (a path or a shipped name) and check it whole (:func:`check_structure`).

    ``extends`` names a parent region (a file beside this one, or a shipped name) whose keys this
    file overrides; a chain that comes back to a file already in it is refused."""
    path = resolve(str(path), "regions", ".yaml")
    config = read_yaml(path)
    file = str(path)
    if not isinstance(config, dict):
        raise InputError(file, None, f"top level is {show(config)}", "a mapping (a region)")
    if path.resolve() in chain:
        raise InputError(file, "extends", "the chain of extends comes back to this file (a "
                         "cycle)", "a chain of extends without cycles")
    if "extends" in config:
        name = config.pop("extends")
        if not isinstance(name, str) or not name.strip():
            raise InputError(file, "extends", f"value {show(name)}",
                             "the file name of a parent region (e.g. default.yaml) or a shipped "
                             "region name")
        beside = path.parent / name
        parent_path = beside if beside.is_file() else name
        try:
            parent, _ = load_region_config(parent_path, chain + (path.resolve(),))
        except InputError as error:
            if error.file == name:  # the name itself is wrong: say which file asked for it
                raise InputError(file, "extends", error.problem, error.expected) from None
            raise
        config = _merge(parent, config)
    check_region(config, file)
    check_structure(config, file, path)
    return config, path


def _whole_numbers(value, file: str, where: str, low: int = 0) -> list[int]:
    values = value if isinstance(value, list) else [value]
    for number in values:
        if not (_is_number(number) and np.isfinite(number) and number == int(number)
                and number >= low):
            raise InputError(file, where, f"value {show(number)}",
                             f"a whole number ≥ {low}" + (" (or a list of them)"
                                                           if not isinstance(value, list) else ""))
    return [int(v) for v in values]


def _shares(value, file: str, where: str, n: int | None) -> None:
    """Shares: non-negative, summing to 1 (within 1e-6), ``n`` of them when ``n`` is given."""
    if not isinstance(value, list) or not value:
        raise InputError(file, where, f"value {show(value)}", "a list of shares summing to 1")
    if n is not None and len(value) != n:
        raise InputError(file, where, f"{len(value)} shares", f"{n} shares, one per entry")
    for share in value:
        if not (_is_number(share) and 0 <= share <= 1):
            raise InputError(file, where, f"share {show(share)}", "shares from 0 to 1")
    if abs(sum(value) - 1) > 1e-6:
        raise InputError(file, where, f"shares sum to {sum(value):.10g}", "shares summing to 1")


def region_tables(config: dict) -> list[Path]:
    """A built region's tables beside its file (``hospital_list``, ``family_incidence``), as
    checked paths; none for a generated region. Run records hash them with the region file."""
    return [Path(config[key]) for key in ("hospital_list", "family_incidence")
            if config.get(key)]


def catalogue_path(config: dict, region_path: Path | None) -> Path:
    """The catalogue a region names: a file beside the region file, a path, or a shipped name."""
    name = config["catalogue"]
    if region_path is not None and (region_path.parent / name).is_file():
        return region_path.parent / name
    return resolve(name, "catalogues", ".csv")


def check_structure(config: dict, file: str, path: Path | None = None) -> None:
    """Whole-region checks beyond kinds and bounds: list lengths that match their names, shares
    summing to 1, a square distance matrix with one row per county, whole non-negative counts,
    hospitals only in counties that exist, bed ranges in order, at least one hospital reachable
    from every populated county, and a catalogue that exists and holds every basic group."""
    ages = config["age_groups"]
    n_ages = len(ages["names"])
    if n_ages == 0:
        raise InputError(file, "age_groups.names", "empty list", "at least one age group")
    for key in ("population_share", "relative_rate", "severity_shift"):
        if len(ages[key]) != n_ages:
            raise InputError(file, f"age_groups.{key}", f"{len(ages[key])} values",
                             f"{n_ages} values, one per name in age_groups.names")
    _shares(ages["population_share"], file, "age_groups.population_share", n_ages)
    if sum(a * b for a, b in zip(ages["population_share"], ages["relative_rate"],
                                 strict=True)) <= 0:
        raise InputError(file, "age_groups.relative_rate", "no age group is ever admitted",
                         "a relative rate above 0 for at least one populated age group")
    capability = [config["capability_max_weight"][level] for level in LEVELS]
    if any(low > high for low, high in zip(capability, capability[1:], strict=False)):
        raise InputError(file, "capability_max_weight", f"values {show(capability)}",
                         "limits that do not fall from primary to tertiary")
    _shares(config["severity"]["two_ranks"], file, "severity.two_ranks", 2)
    _shares(config["severity"]["three_ranks"], file, "severity.three_ranks", 3)
    if len(config["behaviour"]["choice"]["level"]) != len(LEVELS):
        raise InputError(file, "behaviour.choice.level",
                         f"{len(config['behaviour']['choice']['level'])} values",
                         f"{len(LEVELS)} values, one per level ({', '.join(LEVELS)})")
    _whole_numbers([config["behaviour"]["choice_set"][k] for k in ("outside_secondary",
                                                                   "outside_tertiary")],
                   file, "behaviour.choice_set")

    counties = config["counties"]
    names = counties.get("names")
    if counties.get("distance_km") is not None:
        matrix = counties["distance_km"]
        if not isinstance(matrix, list) or not matrix:
            raise InputError(file, "counties.distance_km", f"value {show(matrix)}",
                             "a square matrix (a list of rows), one row per county")
        n_counties = len(matrix)
        for index, row in enumerate(matrix, start=1):
            if not isinstance(row, list) or len(row) != n_counties:
                raise InputError(file, f"counties.distance_km, row {index}",
                                 f"{len(row) if isinstance(row, list) else show(row)} values",
                                 f"{n_counties} distances (a square matrix, one row per county)")
            for value in row:
                if not (_is_number(value) and 0 <= value < float("inf")):
                    raise InputError(file, f"counties.distance_km, row {index}",
                                     f"value {show(value)}", "a distance in km ≥ 0")
    else:
        for key in ("count", "spacing_km", "local_km"):
            if key not in counties:
                raise InputError(file, f"counties.{key}", "missing",
                                 "distance_km, or count, spacing_km and local_km")
        n_counties = _whole_numbers(counties["count"], file, "counties.count", low=1)[0]
    if n_counties > MAX_COUNTIES:
        raise InputError(file, "counties", f"{n_counties:,} counties",
                         f"at most {MAX_COUNTIES:,} counties")
    if names is not None and len(names) != n_counties:
        raise InputError(file, "counties.names", f"{len(names)} names",
                         f"{n_counties} names, one per row of counties.distance_km")
    shares = counties.get("population_share", "uniform")
    if shares != "uniform":
        _shares(shares, file, "counties.population_share", n_counties)

    populated = county_shares(counties, n_counties) > 0
    if config.get("hospital_list") is not None:
        _check_hospital_list(config, file, path, n_counties, names, populated)
    else:
        _check_generated_hospitals(config, file, n_counties, names, populated)
    _check_sources(config.get("sources"), file)

    check_alliance_section(config, file, n_counties)

    try:
        catalogue = catalogue_path(config, path)
    except InputError as error:
        raise InputError(file, "catalogue", error.problem, error.expected) from None
    if not catalogue.is_file():
        raise InputError(file, "catalogue", f"{str(catalogue)!r} is not a file",
                         "a catalogue file beside the region, a path, or a shipped name")
    if path is not None and (path.parent / config["catalogue"]).is_file():
        config["catalogue"] = str(catalogue)  # beside the region file: build_region finds it
    loaded = load_catalogue(catalogue)
    missing = loaded.missing_codes(config["basic_groups"]["codes"])
    if missing:
        raise InputError(file, "basic_groups.codes", f"{len(missing)} code(s) not in the "
                         f"region's catalogue {catalogue.name}: {code_list(missing)}",
                         "codes of groups in the catalogue (drop them, or name a catalogue "
                         "that has them)")
    if config.get("family_incidence") is not None:
        config["family_incidence"] = str(_beside(config, "family_incidence", file, path))
        load_family_incidence(config["family_incidence"], loaded)


def _check_generated_hospitals(config: dict, file: str, n_counties: int,
                              names: list | None, populated: np.ndarray) -> None:
    """The generative ``hospitals`` section: counts per county, bed ranges, reach."""
    reachable = np.zeros(n_counties, dtype=bool)
    total = 0
    for index, level in enumerate(LEVELS):
        spec = config["hospitals"][level]
        where = f"hospitals.{level}"
        value = spec["per_county"]
        _whole_numbers(value, file, f"{where}.per_county")
        if isinstance(value, list):
            if len(value) != n_counties:
                raise InputError(file, f"{where}.per_county", f"{len(value)} counts",
                                 f"{n_counties} counts, one per county")
            if "counties" in spec:
                raise InputError(file, f"{where}.counties", "given with a list per_county",
                                 "counties only with a single per_county count")
        if "counties" in spec:
            for county in _whole_numbers(spec["counties"], file, f"{where}.counties"):
                if county >= n_counties:
                    raise InputError(file, f"{where}.counties", f"county {county} does not "
                                     f"exist", f"county numbers from 0 to {n_counties - 1}")
        beds = spec["beds"]
        if len(beds) != 2 or beds[0] > beds[1]:
            raise InputError(file, f"{where}.beds", f"value {show(beds)}",
                             "[fewest, most] beds: two whole numbers ≥ 1, fewest first")
        _whole_numbers(beds, file, f"{where}.beds", low=1)
        per = np.array(per_county(spec, n_counties))
        total += int(per.sum())
        if index == 0:
            reachable |= per > 0
        elif per.sum() > 0 and config["behaviour"]["choice_set"][
                "outside_secondary" if index == 1 else "outside_tertiary"] > 0:
            reachable |= True
        else:
            reachable |= per > 0
    if total == 0:
        raise InputError(file, "hospitals", "no hospital in the region",
                         "at least one hospital (per_county counts above 0)")
    if total > MAX_HOSPITALS:
        raise InputError(file, "hospitals", f"{total:,} hospitals",
                         f"at most {MAX_HOSPITALS:,} hospitals (a province has a few thousand)")
    stranded = np.flatnonzero(populated & ~reachable)
    if len(stranded):
        county = names[stranded[0]] if names else stranded[0]
        raise InputError(file, "hospitals", f"patients of county {show(county)} can reach no "
                         "hospital", "a hospital in every populated county, or secondary or "
                         "tertiary hospitals elsewhere with behaviour.choice_set.outside_* > 0")


def hospital_layout(config: dict, n_counties: int) -> tuple[np.ndarray, np.ndarray]:
    """County and level of each hospital, in the order :func:`build_region` numbers them."""
    if config.get("hospital_list") is not None:
        listed = load_hospital_list(config["hospital_list"])
        return listed.county_numbers(config["counties"]["names"]), listed.level
    county, level = [], []
    for level_index, name in enumerate(LEVELS):
        for c, count in enumerate(per_county(config["hospitals"][name], n_counties)):
            county += [c] * int(count)
            level += [level_index] * int(count)
    return np.array(county, dtype=np.int64), np.array(level, dtype=np.int64)


# --------------------------------------------------------------------------- built regions
HOSPITAL_LIST_COLUMNS = ("hospital_id", "level", "county", "beds", "private", "efficiency",
                         "attraction")
HOSPITAL_LIST_OPTIONAL = ("name", "grade", "lat", "lon", "cases", "cost_per_case", "cmi",
                          "efficiency_from", "beds_listed")
MAX_RANKS = 6
FAMILY_COLUMNS = ("adrg", "share") + tuple(f"rank_{k}" for k in range(1, MAX_RANKS + 1))
FAMILY_OPTIONAL = ("cases", "severity_from")


@dataclass(frozen=True)
class HospitalList:
    """The hospitals of a built region, one entry per row of its ``hospital_list`` CSV."""

    ids: np.ndarray
    names: np.ndarray
    level: np.ndarray
    county: np.ndarray          # county names
    beds: np.ndarray
    private: np.ndarray
    efficiency: np.ndarray      # cost per case ÷ the level's cost per weight unit × case mix
    attraction: np.ndarray      # constant of the patients' choice utility

    def county_numbers(self, names: list[str]) -> np.ndarray:
        position = {name: i for i, name in enumerate(names)}
        return np.array([position[c] for c in self.county], dtype=np.int64)


def _beside(config: dict, key: str, file: str, path: Path | None) -> Path:
    """A file a region names: beside the region file, or a path (made absolute)."""
    name = config[key]
    if path is not None and (path.parent / name).is_file():
        return (path.parent / name).resolve()
    if Path(name).is_file():
        return Path(name).resolve()
    raise InputError(file, key, f"{name!r} is not a file", "a CSV file beside the region file "
                     "(as drgsim region build writes it), or a path")


def _read_table(path: str | Path, required: tuple[str, ...], optional: tuple[str, ...],
                what: str):
    """A small CSV of a built region as text columns; unknown or missing columns refused."""
    import pandas as pd

    from sim.errors import check_input_file

    file = str(path)
    check_input_file(Path(path), f"a CSV {what}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(file, None, f"not a readable CSV ({' '.join(str(error).split())[:80]})",
                         f"a UTF-8 CSV {what}") from None
    for column in frame.columns:
        if column not in required + optional:
            raise InputError(file, "header", f"unknown column {column!r}",
                             "the columns " + ", ".join(required + optional))
    for column in required:
        if column not in frame.columns:
            raise InputError(file, "header", f"missing column {column!r}",
                             "the columns " + ", ".join(required))
    if frame.empty:
        raise InputError(file, None, "no rows", f"one row per entry of the {what}")
    return frame


def _column_numbers(frame, column: str, file: str, low: float | None = None,
                    whole: bool = False, positive: bool = False) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(frame[column].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if low is not None:
        bad |= values < low
    if positive:
        bad |= values <= 0
    if whole:
        bad |= np.where(np.isfinite(values), values != np.round(values), False)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        expected = ("a whole number" if whole else "a number") + (
            f" ≥ {low:g}" if low is not None else "") + (" above 0" if positive else "")
        raise InputError(file, f"row {row + 2}, column {column}",
                         f"value {show(frame[column].iloc[row])}", expected)
    return values


def load_hospital_list(path: str | Path) -> HospitalList:
    """The ``hospital_list`` CSV of a built region (``drgsim region build`` writes it): one row
    per hospital, ids unique, a level of ``primary``/``secondary``/``tertiary``, a county name,
    whole beds ≥ 1, ``private`` true/false, an efficiency above 0 and a finite attraction."""
    file = str(path)
    frame = _read_table(path, HOSPITAL_LIST_COLUMNS, HOSPITAL_LIST_OPTIONAL, "hospital list")
    if len(frame) > MAX_HOSPITALS:
        raise InputError(file, None, f"{len(frame):,} hospitals",
                         f"at most {MAX_HOSPITALS:,} hospitals")
    ids = frame["hospital_id"].str.strip()
    repeated = ids.duplicated() | (ids == "")
    if repeated.any():
        row = int(np.flatnonzero(repeated.to_numpy())[0])
        raise InputError(file, f"row {row + 2}, column hospital_id",
                         f"value {show(ids.iloc[row])} " + ("is empty" if ids.iloc[row] == ""
                                                            else "appears twice"),
                         "one row per hospital, each with its own id")
    level_text = frame["level"].str.strip()
    unknown = ~level_text.isin(LEVELS)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(file, f"row {row + 2}, column level",
                         f"value {show(level_text.iloc[row])}", "one of " + ", ".join(LEVELS))
    county = frame["county"].str.strip()
    if (county == "").any():
        row = int(np.flatnonzero((county == "").to_numpy())[0])
        raise InputError(file, f"row {row + 2}, column county", "value is empty",
                         "the name of the hospital's county")
    private_text = frame["private"].str.strip().str.lower()
    flags = {"true": True, "false": False, "1": True, "0": False}
    unknown = ~private_text.isin(list(flags))
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(file, f"row {row + 2}, column private",
                         f"value {show(frame['private'].iloc[row])}", "true or false")
    names = (frame["name"].str.strip() if "name" in frame.columns else ids).to_numpy(dtype=object)
    return HospitalList(
        ids=ids.to_numpy(dtype=object).astype(str), names=names,
        level=np.array([LEVELS.index(v) for v in level_text], dtype=np.int64),
        county=county.to_numpy(dtype=object),
        beds=_column_numbers(frame, "beds", file, low=1, whole=True),
        private=private_text.map(flags).to_numpy(dtype=bool),
        efficiency=_column_numbers(frame, "efficiency", file, positive=True),
        attraction=_column_numbers(frame, "attraction", file))


def _check_hospital_list(config: dict, file: str, path: Path | None, n_counties: int,
                         names: list | None, populated: np.ndarray) -> None:
    """``hospital_list``: the CSV exists and is sound, every county it names is one of
    ``counties.names``, and the patients of every populated county reach a hospital."""
    config["hospital_list"] = str(_beside(config, "hospital_list", file, path))
    listed = load_hospital_list(config["hospital_list"])
    if names is None:
        raise InputError(file, "counties.names", "missing", "the county names the hospital "
                         "list uses (counties.names), with hospital_list")
    known = set(names)
    for row, county in enumerate(listed.county):
        if county not in known:
            raise InputError(config["hospital_list"], f"row {row + 2}, column county",
                             f"value {show(county)}", "one of counties.names of " + file)
    county = listed.county_numbers(names)
    reachable = np.zeros(n_counties, dtype=bool)
    reachable[county] = True
    for index, key in ((1, "outside_secondary"), (2, "outside_tertiary")):
        if (listed.level == index).any() and config["behaviour"]["choice_set"][key] > 0:
            reachable |= True
    stranded = np.flatnonzero(populated & ~reachable)
    if len(stranded):
        raise InputError(file, "hospital_list", f"patients of county "
                         f"{show(names[stranded[0]])} can reach no hospital",
                         "a hospital in every populated county, or secondary or tertiary "
                         "hospitals elsewhere with behaviour.choice_set.outside_* > 0")


def _check_sources(sources, file: str) -> None:
    """``sources``: a mapping from a value's path to where it came from (text)."""
    if sources is None:
        return
    if not isinstance(sources, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        raise InputError(file, "sources", f"value {show(sources)}",
                         "a mapping {path: 'measured: …' or 'assumed: …'}")


@dataclass(frozen=True)
class Families:
    """The ADRG families of a catalogue and their priced groups by severity rank."""

    codes: np.ndarray            # family code per family
    of_group: np.ndarray         # family index per group (catalogue row)
    groups: list[np.ndarray]     # priced group ids by rank, lowest first


def family_structure(catalogue: Catalogue) -> Families:
    """Families (ADRG) of a catalogue with their priced groups ordered by severity rank."""
    table = catalogue.table
    weight = catalogue.weights
    priced = np.isfinite(weight) & (weight > 0)
    codes, family = np.unique(table["adrg"].to_numpy(), return_inverse=True)
    rank = table["severity_rank"].to_numpy().astype(np.int64)
    groups = []
    for f in range(len(codes)):
        members = np.flatnonzero((family == f) & priced)
        groups.append(members[np.argsort(rank[members], kind="stable")])
    return Families(codes, family, groups)


def load_family_incidence(path: str | Path, catalogue: Catalogue
                          ) -> tuple[np.ndarray, np.ndarray]:
    """The ``family_incidence`` CSV of a built region: per ADRG family of the catalogue its
    share of admissions (summing to 1) and the shares of its severity ranks (``rank_1`` …, as
    many as the family has priced groups, summing to 1; empty beyond). Families not listed are
    never drawn. Returns the probability per family and a families × ranks table of shares."""
    import pandas as pd

    file = str(path)
    frame = _read_table(path, FAMILY_COLUMNS[:2], FAMILY_COLUMNS[2:] + FAMILY_OPTIONAL,
                        "family incidence table")
    families = family_structure(catalogue)
    position = {str(code): i for i, code in enumerate(families.codes)}
    codes = frame["adrg"].str.strip()
    unknown = ~codes.isin(list(position)) | codes.duplicated()
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        problem = "appears twice" if codes.iloc[row] in position else \
            f"is not a family of {catalogue.source}"
        raise InputError(file, f"row {row + 2}, column adrg",
                         f"value {show(codes.iloc[row])} {problem}",
                         "each ADRG family of the region's catalogue at most once")
    share = _column_numbers(frame, "share", file, low=0)
    if abs(share.sum() - 1) > 1e-6:
        raise InputError(file, "column share", f"shares sum to {share.sum():.10g}",
                         "shares summing to 1")
    index = codes.map(position).to_numpy(dtype=np.int64)
    probability = np.zeros(len(families.codes))
    probability[index] = share
    ranks = np.array([len(g) for g in families.groups])
    width = max(3, int(ranks.max(initial=1)))
    shares = np.zeros((len(families.codes), width))
    for row, f in enumerate(index):
        if share[row] > 0 and ranks[f] == 0:
            raise InputError(file, f"row {row + 2}, column share", f"value {share[row]:g} for "
                             f"family {codes.iloc[row]}, which has no priced group",
                             "0 for a family without priced groups")
    for k in range(MAX_RANKS):
        column = f"rank_{k + 1}"
        text = frame[column].str.strip() if column in frame.columns else pd.Series(
            [""] * len(frame))
        inside = ranks[index] > k
        given = (text != "").to_numpy()
        wrong = (inside & (share > 0) & ~given) | (~inside & given)
        if wrong.any():
            row = int(np.flatnonzero(wrong)[0])
            raise InputError(file, f"row {row + 2}, column {column}",
                             f"value {show(text.iloc[row])}", f"a share for each of the "
                             f"family's {ranks[index[row]]} severity ranks, empty beyond")
        if given.any():
            values = pd.to_numeric(text.where(given, "0"), errors="coerce").to_numpy(float)
            bad = given & ~((values >= 0) & (values <= 1))
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise InputError(file, f"row {row + 2}, column {column}",
                                 f"value {show(text.iloc[row])}", "a share from 0 to 1")
            shares[index[given], k] = values[given]
    totals = shares[index].sum(axis=1)
    off = (share > 0) & (np.abs(totals - 1) > 1e-6)
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise InputError(file, f"row {row + 2}", f"severity shares sum to {totals[row]:.10g}",
                         "rank shares summing to 1")
    return probability, shares


def minimum_levels(weight: np.ndarray, capability: dict) -> np.ndarray:
    """The lowest level able to treat each group: the first whose heaviest weight it treats
    (``capability_max_weight``) is at least the group's."""
    return np.select([weight <= capability[lv] for lv in LEVELS], [0, 1, 2], default=2)

BY_COUNTY_EXPECTED = ("county names (or numbers when counties have no names), each once, each "
                      "with a secondary or tertiary hospital to lead")


def _alliance_counties(section: dict, counties: dict, n_counties: int, file: str) -> list[int]:
    """The county numbers of ``alliances.by_county``."""
    names = counties.get("names")
    chosen = section.get("by_county") or []
    if not isinstance(chosen, list):
        raise InputError(file, "alliances.by_county", f"value {show(chosen)}", BY_COUNTY_EXPECTED)
    numbers = []
    for county in chosen:
        if names and isinstance(county, str) and county in names:
            number = names.index(county)
        elif (not names and _is_number(county) and county == int(county)
              and 0 <= county < n_counties):
            number = int(county)
        else:
            known = (", ".join(names) if names else f"0 to {n_counties - 1}")
            raise InputError(file, "alliances.by_county", f"county {show(county)} is not a "
                             f"county of the region ({known})", BY_COUNTY_EXPECTED)
        if number in numbers:
            raise InputError(file, "alliances.by_county", f"county {show(county)} is listed "
                             "twice", BY_COUNTY_EXPECTED)
        numbers.append(number)
    return numbers


def check_alliance_section(config: dict, file: str, n_counties: int) -> None:
    """The optional ``alliances`` section (county alliances, 紧密型县域医共体, §2.8):
    ``by_county`` (one alliance per county named: led by its secondary or tertiary hospital
    with the most beds, with the county's primary hospitals as members) and ``named``
    (``{name: {lead, members}}`` of the region's hospital ids, as ``alliances.members`` in a
    policy); no hospital in two alliances, so a named alliance takes no hospital of a county
    in ``by_county``."""
    section = config.get("alliances")
    if section is None:
        return
    if not isinstance(section, dict) or not set(section) <= {"by_county", "named"}:
        raise InputError(file, "alliances", f"value {show(section)}",
                         "a mapping with by_county (a list of counties) and/or named "
                         "({name: {lead, members}})")
    counties = _alliance_counties(section, config["counties"], n_counties, file)
    county, level = hospital_layout(config, n_counties)
    names = config["counties"].get("names")
    for number in counties:
        if not np.any((county == number) & (level > 0)):
            raise InputError(file, "alliances.by_county", f"county "
                             f"{show(names[number] if names else number)} has no secondary or "
                             "tertiary hospital to lead an alliance", BY_COUNTY_EXPECTED)

    def fail(problem: str, expected: str) -> None:
        raise InputError(file, "alliances.named", problem, expected)

    named = section.get("named")
    check_alliances(named, fail)
    ids = region_hospital_ids(config, level)
    position = {h: i for i, h in enumerate(ids)}
    for alliance in parse_alliances(named):
        if alliance.name in {names[c] if names else f"county_{c}" for c in counties}:
            fail(f"alliance {alliance.name}: the name of a by_county alliance",
                 "names other than the counties of by_county")
        for member in alliance.members:
            if member not in position:
                fail(f"alliance {alliance.name}: hospital {member} is not a hospital of the "
                     f"region (ids {ids[0]} to {ids[-1]})", ALLIANCE_EXPECTED)
            home = int(county[position[member]])
            if home in counties:
                fail(f"alliance {alliance.name}: hospital {member} is in county "
                     f"{show(names[home] if names else home)}, which has its own alliance "
                     "(by_county)", "no hospital in two alliances")


def region_alliances(config: dict, county: np.ndarray, level: np.ndarray,
                     beds: np.ndarray) -> tuple[Alliance, ...]:
    """The alliances of a checked region (:func:`check_alliance_section`): per county of
    ``by_county`` (named after the county), lead = the county's secondary or tertiary hospital
    with the most beds (the lower number on a tie), members = the lead and the county's primary
    hospitals; then the ``named`` ones as given."""
    section = config.get("alliances") or {}
    counties_config = config["counties"]
    names = counties_config.get("names")
    n_counties = len(county_distances(counties_config))
    ids = region_hospital_ids(config, level)
    alliances = []
    for number in _alliance_counties(section, counties_config, n_counties, "region"):
        leads = np.flatnonzero((county == number) & (level > 0))
        lead = leads[np.argmax(beds[leads])]  # first of the largest
        primary = np.flatnonzero((county == number) & (level == 0))
        alliances.append(Alliance(names[number] if names else f"county_{number}",
                                  str(ids[lead]), (str(ids[lead]), *map(str, ids[primary]))))
    return tuple(alliances) + parse_alliances(section.get("named"))


def use_catalogue(config: dict, region_path: Path, argument: str
                  ) -> tuple[dict, Path, list[str]]:
    """The region with ``--catalogue`` (a file or a shipped name) in place of its own catalogue.

    Returns the changed configuration, the catalogue's path and warnings: the region's basic
    groups that the catalogue lacks are left out with a warning (the region file itself is not
    wrong, so this is not the error it is in a region file)."""
    try:
        path = resolve(argument, "catalogues", ".csv")
    except InputError as error:
        raise InputError(argument, "--catalogue", error.problem, error.expected) from None
    catalogue = load_catalogue(path)
    config = {**config, "catalogue": str(path)}
    warnings = []
    missing = catalogue.missing_codes(config["basic_groups"]["codes"])
    if missing:
        warnings.append(
            f"--catalogue {path.name}: {len(missing)} of the basic groups of "
            f"{region_path.name} (basic_groups.codes) are not in the catalogue and are left "
            f"out: {code_list(missing)}")
    return config, path, warnings


def check_scale(config: dict, scale: float) -> None:
    """``--scale`` must leave a region with enough admissions for monthly settlement to mean
    something (≥ 1,000 a year) and few enough to fit in memory (≤ 30 million a year)."""
    per_year = sum(config["schemes"][s]["insured"] * config["schemes"][s]["admission_rate"]
                   for s in SCHEMES)
    expected = per_year * scale
    if not MIN_ADMISSIONS <= expected <= MAX_ADMISSIONS:
        low, high = MIN_ADMISSIONS / per_year if per_year else float("inf"), \
            MAX_ADMISSIONS / per_year if per_year else float("inf")
        raise InputError(None, "--scale", f"value {scale:g} gives about {expected:,.0f} "
                         f"admissions a year in {config['title']!r}",
                         f"a scale giving {MIN_ADMISSIONS:,} to {MAX_ADMISSIONS:,} admissions a "
                         f"year (here {low:.3g} to {high:.3g})")


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


def rank_shares(config: dict, ranks: int) -> np.ndarray:
    """Share of a family's cases in each of its ``ranks`` severity ranks, lowest first, before
    the age shift: ``severity.two_ranks`` and ``severity.three_ranks`` as given; a family with
    more ranks (local catalogues split up to six ways) divides the same severity spectrum more
    finely: the three-rank cumulative shares are interpolated linearly at k equal steps, so that
    four ranks of 0.6/0.3/0.1 become 0.45/0.30/0.175/0.075."""
    if ranks == 1:
        return np.ones(1)
    if ranks == 2:
        return np.asarray(config["severity"]["two_ranks"], dtype=float)
    three = np.asarray(config["severity"]["three_ranks"], dtype=float)
    if ranks == 3:
        return three
    cumulative = np.concatenate([[0.0], np.cumsum(three)])
    cumulative /= cumulative[-1]
    steps = np.interp(np.linspace(0.0, 3.0, ranks + 1), np.arange(4.0), cumulative)
    return np.diff(steps)


def severity_probabilities(config: dict, ranks: int, age: int) -> np.ndarray:
    """Share of a family's cases in each severity rank for an age group (lowest rank first):
    :func:`rank_shares` with the age group's log-odds shift per rank above the lowest."""
    if ranks == 1:
        return np.ones(1)
    base = rank_shares(config, ranks)
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
            chosen.append(nearest[: int(spec[key])])
        sets.append(np.unique(np.concatenate(chosen)))
    return sets


def build_region(config: dict, seed_sequence: np.random.SeedSequence,
                 catalogue: Catalogue | None = None) -> Region:
    """Arrays of a region from its configuration; hospital attributes drawn reproducibly (a
    generated region) or read from its ``hospital_list`` (a built one)."""
    rng = np.random.default_rng(seed_sequence)
    if catalogue is None:
        catalogue = load_catalogue(catalogue_path(config, None))
    table = catalogue.table
    weight = catalogue.weights.copy()
    priced = np.isfinite(weight) & (weight > 0)
    families = family_structure(catalogue)
    family, family_groups = families.of_group, families.groups
    rank = table["severity_rank"].to_numpy().astype(np.int64)
    basic_codes = set(config.get("basic_groups", {}).get("codes", []))
    basic = table["code"].isin(basic_codes).to_numpy()

    upcode_to = np.full(len(table), -1, dtype=np.int64)
    for members in family_groups:
        upcode_to[members[:-1]] = members[1:]
    family_mean = np.array([weight[g].mean() if len(g) else np.nan for g in family_groups])
    usable = np.isfinite(family_mean)
    exponent = config.get("case_mix_exponent")
    family_ranks = np.array([len(g) for g in family_groups])
    rank_shares_table = None
    if config.get("family_incidence") is not None:  # a built region: measured incidence
        probability, rank_shares_table = load_family_incidence(config["family_incidence"],
                                                               catalogue)
        exponent = np.nan
    else:
        adult = min(1, len(config["age_groups"]["names"]) - 1)  # the reference age group
        # expected weight of a family's case under the adult severity mix
        expected = np.array([
            np.sum(weight[g] * severity_probabilities(config, len(g), adult)) if len(g)
            else np.nan for g in family_groups])
        if exponent is None:
            exponent = _solve_case_mix_exponent(expected[usable])
        probability = np.where(usable, np.nan_to_num(expected, nan=1.0) ** (-exponent), 0.0)
        probability /= probability.sum()

    capability = config["capability_max_weight"]
    heaviest = float(np.max(weight[priced])) if priced.any() else 0.0
    if capability["tertiary"] < heaviest:
        raise InputError(None, "capability_max_weight.tertiary", f"value "
                         f"{capability['tertiary']:g} is below the heaviest group's weight "
                         f"{heaviest:g} in {catalogue.source}",
                         "tertiary hospitals able to treat every group (e.g. .inf)")
    min_level = minimum_levels(weight, capability)

    counties = config["counties"]
    n_counties = len(county_distances(counties))
    listed_ids = attraction = None
    if config.get("hospital_list") is not None:  # a built region: the bureau's hospitals
        listed = load_hospital_list(config["hospital_list"])
        county, level = listed.county_numbers(counties["names"]), listed.level
        beds, private = listed.beds.astype(float), listed.private
        efficiency, attraction, listed_ids = listed.efficiency, listed.attraction, listed.ids
    else:
        hospitals = config["hospitals"]
        county, level, beds, private = [], [], [], []
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
        case_mix_exponent=float(exponent),
        alliances=region_alliances(config, county, level, beds),
        listed_ids=listed_ids, hospital_attraction=attraction,
        family_rank_shares=rank_shares_table)
