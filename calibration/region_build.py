"""``drgsim region build``: a region file from a year of discharges, the hospitals and the insured.

Inputs: a case table (any extract ``drgsim settle`` reads, by the same reader,
:func:`sim.inputs.cases.load_cases`), the catalogue its groups belong to, optionally the bureau's
hospital list (CSV/Excel/Parquet: ``hospital_id, name, level, county, beds, ownership`` and
optionally ``lat, lon``; Chinese headers and values such as 医院编码, 等级/三甲, 所在区县, 床位数,
公立/民营) and its insured by scheme (YAML ``{employee: {insured, contribution_per_insured,
fund_balance}, resident: {…}}``).

Output (``--out REGION.yaml``), written together and only when complete: the region file, with a
``sources`` mapping saying for every value whether it was measured (from which input) or assumed,
and beside it ``REGION.hospitals.csv`` (one row per hospital: the bureau's id, name, level,
county, beds, ownership, and the measured cost efficiency and choice attraction) and
``REGION.families.csv`` (each ADRG family's share of admissions and its severity shares). A
built region runs like the default one (``drgsim run REGION.yaml``).

What is measured, all vectorised (numpy group-bys), in order:

1. first stays and readmissions: a stay beginning 0–15 days after the same patient's previous
   discharge is a readmission (§6); the model adds readmissions itself
   (``behaviour.readmission_base`` = readmissions ÷ first stays, measured), so incidence,
   admission rates and cost per admission are taken from the first stays;
2. per scheme, admission rate = first stays ÷ insured ÷ (1 + admission_growth), so that the
   *first simulated year* (one year of growth after the burn-in) reproduces the input year;
3. per level, cost per admission (first stays) and cost per weight unit; per hospital, the cost
   efficiency = its cost per first stay ÷ (its case mix × its level's cost per weight unit);
4. per ADRG family, its share of first stays, and its severity shares (measured where the family
   has at least :data:`MIN_FAMILY_CASES` first stays, else those of all families with as many
   ranks);
5. per level, the heaviest group it treated (``capability_max_weight``; tertiary: all);
6. counties from the hospital list, populations from where patients were treated (a patient is
   assumed to live in the county of the hospital that treated them: case tables have no home
   county), distances between county centroids (haversine, at least :data:`LOCAL_KM`) or, without
   coordinates, an assumed grid :data:`SPACING_KM` apart;
7. each hospital's attraction, the constant of the patients' logit choice that reproduces its
   volume: the model's own utility (:func:`agents.patients.systematic_utility`, capability,
   fee-for-service cost sharing) evaluated on the expected episodes of each county (every
   scheme × group, at its mean need), and the constants solved by the fixed point
   δ ← δ + log(measured ÷ expected volume) (deterministic; no random draws).

The case table has no age: the built region has one age group (assumed). Everything else
(behaviour, growth, the share of fund spending outside DRG …) is the default region's, marked
assumed.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from agents.patients import out_of_pocket, systematic_utility
from sim.errors import InputError, show
from sim.inputs.cases import SCHEMES, level_and_grade, load_cases
from sim.inputs.catalogue import Catalogue, load_catalogue
from sim.inputs.extract import Problems, as_text, read_extract
from sim.inputs.policy import DEFAULT_LEVELS, load_policy
from sim.inputs.region import (
    HOSPITAL_LIST_COLUMNS,
    LEVELS,
    MAX_RANKS,
    choice_sets,
    family_structure,
    load_region_config,
    minimum_levels,
    rank_shares,
)
from sim.inputs.yamlfile import read_yaml
from sim.resources import resolve, shipped
from sim.store import check_output_file, write_files_atomically

HEADER = ("# Region built by drgsim region build (calibration.region_build) from a year of\n"
          "# discharges. Every value's origin is in `sources` (measured: which input; assumed:\n"
          "# what and why). Run it with: drgsim run THIS_FILE\n")
MIN_FAMILY_CASES = 30      # first stays for a family's own severity shares
READMISSION_DAYS = 15      # §6: a stay starting within 15 days of the patient's last discharge
LOCAL_KM = 5.0             # assumed: least distance within a county (or between close centroids)
SPACING_KM = 50.0          # assumed: county seats this far apart on a grid without coordinates
OCCUPANCY = 0.85           # assumed: beds of a hospital missing from a list (bed-days ÷ 365 ÷ this)
ABSENT = -30.0             # attraction of a listed hospital without cases: never chosen
SPENDING_RATIO = 0.84      # BEHAVIOUR §8: national fund spending ÷ income (¥2.82 tn ÷ ¥3.35 tn)
ITERATIONS, TOLERANCE = 2000, 1e-6
EXPECTED_LIST = ("a hospital list (CSV, Excel or Parquet) with columns hospital_id, name, level, "
                 "county, beds, ownership [, lat, lon]")
EXPECTED_INSURED = ("a YAML file {employee: {insured: N, contribution_per_insured: Y, "
                    "fund_balance: Z}, resident: {...}}")
LIST_ALIASES: dict[str, tuple[str, ...]] = {
    "hospital_id": ("医院编码", "医疗机构编码", "医疗机构代码", "定点医疗机构编码",
                    "定点医疗机构编号", "定点医疗机构代码", "定点医药机构编号", "医院代码",
                    "机构编码", "机构代码", "fixmedins_code"),
    "name": ("医院名称", "医疗机构名称", "定点医疗机构名称", "定点医药机构名称", "机构名称", "名称",
             "hospital_name", "fixmedins_name"),
    "level": ("等级", "医院等级", "医疗机构等级", "机构等级", "级别", "医院级别", "hospital_level"),
    "county": ("所在区县", "区县", "县区", "所在县区", "所属区县", "区县名称", "县(区)",
               "county_name", "district"),
    "beds": ("床位数", "实有床位数", "开放床位数", "编制床位数", "核定床位数", "床位", "bed_count"),
    "ownership": ("所有制", "所有制性质", "性质", "经营性质", "机构性质", "举办性质", "公立/民营"),
    "lat": ("纬度", "latitude"),
    "lon": ("经度", "longitude", "lng"),
}
PRIVATE_WORDS = {"private": True, "民营": True, "私立": True, "民办": True, "非公立": True,
                 "社会办": True, "public": False, "公立": False, "公办": False, "国有": False}
SCHEME_KEYS = {"employee": "employee", "职工": "employee", "resident": "resident",
               "居民": "resident"}
INSURED_KEYS = ("insured", "contribution_per_insured", "fund_balance")


# --------------------------------------------------------------------------- outputs
def output_paths(out: Path) -> dict[str, Path]:
    """The region file and the two tables beside it, named after it."""
    stem = out.name[: -len(".yaml")] if out.name.lower().endswith(".yaml") else out.stem
    return {"region": out, "hospitals": out.with_name(stem + ".hospitals.csv"),
            "families": out.with_name(stem + ".families.csv")}


def built_by_drgsim(path: Path) -> bool:
    """A region file this command wrote (it starts with :data:`HEADER`), or one of its tables
    (the region file beside it is ours and names it)."""
    name = path.name
    for suffix in (".hospitals.csv", ".families.csv"):
        if name.endswith(suffix):
            region = path.with_name(name[: -len(suffix)] + ".yaml")
            return _starts_with_header(region, f"\nhospital_list: {name}\n"
                                       if suffix == ".hospitals.csv"
                                       else f"\nfamily_incidence: {name}\n")
    return _starts_with_header(path, "")


def _starts_with_header(path: Path, naming: str) -> bool:
    try:
        if not path.is_file() or path.stat().st_size > 64 << 20:
            return False
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return text.startswith(HEADER) and naming in text


def check_outputs(out: Path, inputs: list[Path]) -> dict[str, Path]:
    """Refuse ``--out`` before any work: each file must be new or written by this command, and
    none may be an input (:func:`sim.store.check_output_file`)."""
    if not str(out).strip():
        raise InputError("--out", None, "is empty", "a region path ending in .yaml")
    paths = output_paths(out)
    for key, (suffix, what) in {"region": (".yaml", "region file"),
                                "hospitals": (".csv", "hospital table"),
                                "families": (".csv", "family table")}.items():
        argument = "--out" if key == "region" else f"--out (its {what})"
        check_output_file(paths[key], argument, inputs, suffix, built_by_drgsim, what)
    return paths


# --------------------------------------------------------------------------- the hospital list
@dataclass
class HospitalInput:
    ids: np.ndarray
    names: np.ndarray
    level: np.ndarray
    grade: np.ndarray
    county: np.ndarray
    beds: np.ndarray
    private: np.ndarray
    lat: np.ndarray | None
    lon: np.ndarray | None
    reading: dict


def read_hospital_list(path: Path, encoding: str | None = None) -> HospitalInput:
    """The bureau's hospital list, read like a case table (:func:`read_extract`): every row
    checked; a bad one is one line naming file, row, column, value and what was expected."""
    extract = read_extract(path, LIST_ALIASES, expected=EXPECTED_LIST, encoding=encoding)
    table, file = extract.table, extract.file
    unknown = [name for name in table.column_names if name not in LIST_ALIASES]
    required = ("hospital_id", "level", "county", "beds", "ownership")
    for name in required:
        if name not in table.column_names:
            others = ", ".join(LIST_ALIASES[name][:3])
            raise InputError(file, "header", f"missing column {name!r}",
                             f"a column {name} (or {others} …); columns "
                             + ", ".join(("hospital_id", "name", "level", "county", "beds",
                                          "ownership")) + " [, lat, lon]")
    if table.num_rows == 0:
        raise InputError(file, None, "the file has no hospitals", "one row per hospital")
    problems = Problems(extract, table.num_rows)
    text = {name: as_text(table[name]).to_numpy(zero_copy_only=False).astype(str)
            for name in table.column_names if name in LIST_ALIASES}
    ids = text["hospital_id"]
    problems.add(ids == "", "hospital_id", "empty id", "the hospital's id, as in the cases", ids)
    seen = pd.Series(ids).duplicated().to_numpy() & (ids != "")
    problems.add(seen, "hospital_id", "repeated id", "one row per hospital", ids)
    parsed = [level_and_grade(value, DEFAULT_LEVELS) for value in text["level"]]
    level = np.array([lv for lv, _ in parsed], dtype=np.int64)
    problems.add(level < 0, "level", "unknown level", "primary, secondary or tertiary (一级, "
                 "二级, 三级, or with a sub-grade such as 三甲)", text["level"])
    county = text["county"]
    problems.add(county == "", "county", "empty county", "the county (区县) of the hospital",
                 county)
    beds = pd.to_numeric(pd.Series(text["beds"]).str.replace(",", ""), errors="coerce"
                         ).to_numpy(dtype=float)
    bad_beds = ~np.isfinite(beds) | (beds < 1) | (beds != np.round(beds))
    problems.add(bad_beds, "beds", "bad bed count",
                 "a whole number of beds ≥ 1", text["beds"])
    ownership = [PRIVATE_WORDS.get(value.strip().lower()) for value in text["ownership"]]
    problems.add(np.array([o is None for o in ownership]), "ownership", "unknown ownership",
                 "public or private (公立/民营)", text["ownership"])
    lat = lon = None
    if ("lat" in text) != ("lon" in text):
        raise InputError(file, "header", "only one of lat and lon", "both lat and lon, or "
                         "neither")
    if "lat" in text:
        lat = pd.to_numeric(pd.Series(text["lat"]), errors="coerce").to_numpy(dtype=float)
        lon = pd.to_numeric(pd.Series(text["lon"]), errors="coerce").to_numpy(dtype=float)
        problems.add(~(np.abs(lat) <= 90), "lat", "bad latitude", "degrees from -90 to 90",
                     text["lat"])
        problems.add(~(np.abs(lon) <= 180), "lon", "bad longitude",
                     "degrees from -180 to 180", text["lon"])
    if problems.items:
        raise problems.summary()
    names = text.get("name", ids)
    reading = extract.record()
    if unknown:
        reading["not_read"] = unknown
    return HospitalInput(ids=ids, names=np.where(names == "", ids, names), level=level,
                         grade=np.array([g for _, g in parsed], dtype=object),
                         county=county, beds=beds,
                         private=np.array(ownership, dtype=bool), lat=lat, lon=lon,
                         reading=reading)


# --------------------------------------------------------------------------- the insured
def read_insured(path: Path) -> dict:
    """``{scheme: {insured, contribution_per_insured, fund_balance}}`` for both schemes
    (职工/居民 accepted as scheme names); fund_balance may be left out (then assumed)."""
    file = str(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(file, None, f"top level is {show(data)}", EXPECTED_INSURED)
    schemes: dict = {}
    for key, entry in data.items():
        scheme = SCHEME_KEYS.get(str(key).strip().lower())
        if scheme is None:
            raise InputError(file, f"key {key}", "unknown scheme",
                             "employee and resident (职工, 居民)")
        if scheme in schemes:
            raise InputError(file, f"key {key}", f"scheme {scheme} given twice", "each once")
        if not isinstance(entry, dict):
            raise InputError(file, scheme, f"value {show(entry)}",
                             "a mapping with insured, contribution_per_insured, fund_balance")
        for name, value in entry.items():
            if name not in INSURED_KEYS:
                raise InputError(file, f"{scheme}.{name}", "unknown key",
                                 "insured, contribution_per_insured, fund_balance")
            number = isinstance(value, int | float) and not isinstance(value, bool) \
                and math.isfinite(value)
            low = {"insured": 1, "contribution_per_insured": 0}.get(name)
            if not number or (low is not None and value < low) or (
                    name == "insured" and value != int(value)):
                expected = {"insured": "a whole number of insured ≥ 1",
                            "contribution_per_insured": "yuan per insured per year, ≥ 0",
                            "fund_balance": "the accumulated balance in yuan (a number)"}[name]
                raise InputError(file, f"{scheme}.{name}", f"value {show(value)}", expected)
        for name in INSURED_KEYS[:2]:
            if name not in entry:
                raise InputError(file, f"{scheme}.{name}", "missing", EXPECTED_INSURED)
        schemes[scheme] = entry
    for scheme in SCHEMES:
        if scheme not in schemes:
            raise InputError(file, scheme, "missing scheme", "both employee and resident ("
                             + EXPECTED_INSURED + ")")
    return schemes


# --------------------------------------------------------------------------- the build
@dataclass
class Build:
    """What ``drgsim region build`` measured and assumed."""

    config: dict
    hospitals: pd.DataFrame
    families: pd.DataFrame
    sources: dict
    lines: list[str] = field(default_factory=list)      # the console summary
    assumed: list[str] = field(default_factory=list)    # assumptions said on the console
    warnings: list[str] = field(default_factory=list)
    volume_error: float = 0.0                           # max |expected ÷ measured − 1|


def _pretty(value: float, digits: int = 8) -> float:
    return float(f"{value:.{digits}g}")


def first_stays(cases) -> np.ndarray:
    """Cases that are not a readmission: no stay of the same patient ended 0–15 days before
    this one began (§6)."""
    order = np.lexsort((cases.discharge_day, cases.admission_day, cases.patient))
    patient = cases.patient[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = patient[1:] == patient[:-1]
    gap = np.zeros(len(order), dtype=np.int64)
    gap[1:] = cases.admission_day[order][1:] - cases.discharge_day[order][:-1]
    readmission = same & (gap >= 0) & (gap <= READMISSION_DAYS)
    first = np.ones(len(order), dtype=bool)
    first[order] = ~readmission
    return first


def haversine_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distances between points (degrees), km."""
    phi, lam = np.radians(lat), np.radians(lon)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    a = np.sin(dphi / 2) ** 2 + np.cos(phi[:, None]) * np.cos(phi[None, :]) * np.sin(dlam / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def build(cases_path: Path, catalogue_arg: str, hospitals_path: Path | None,
          insured_path: Path | None, title: str | None, out: Path,
          encoding: str | None = None, columns: Path | None = None,
          year: int | None = None) -> Build:
    """Measure a region from the inputs (nothing is written here)."""
    default, _ = load_region_config("default")
    catalogue_file = resolve(catalogue_arg, "catalogues", ".csv")
    catalogue = load_catalogue(catalogue_file)
    listed = read_hospital_list(hospitals_path, encoding) if hospitals_path else None
    insured_given = read_insured(insured_path) if insured_path else None
    cases = load_cases(cases_path, catalogue, DEFAULT_LEVELS, year, encoding=encoding,
                       columns=columns)
    data = cases_path.name
    sources: dict[str, str] = {}
    assumed: list[str] = []
    warnings = list(cases.warnings)
    n_cases = len(cases)
    measured = f"measured: {data} ({n_cases:,} cases, {cases.year})"

    # hospitals: the list's, in its order, else the table's
    n_table = cases.n_hospitals
    if listed is not None:
        position = {h: i for i, h in enumerate(listed.ids)}
        where = np.array([position.get(h, -1) for h in cases.hospital_ids])
        if (where < 0).any():
            missing = cases.hospital_ids[where < 0]
            row = int(np.flatnonzero(cases.hospital == np.flatnonzero(where < 0)[0])[0])
            raise InputError(str(cases_path), f"case {cases.case_id[row]}, column hospital_id",
                             f"hospital {show(str(missing[0]))} is not in the hospital list "
                             f"{hospitals_path} ({len(missing):,} such hospital(s))",
                             "every hospital of the cases in the hospital list")
        differs = listed.level[where] != cases.hospital_level
        if differs.any():
            h = int(np.flatnonzero(differs)[0])
            raise InputError(str(hospitals_path), f"hospital {cases.hospital_ids[h]}, column "
                             "level", f"{LEVELS[listed.level[where[h]]]} in the list but "
                             f"{LEVELS[cases.hospital_level[h]]} in {data}",
                             "the same level in the list and in the cases")
        hospital = where[cases.hospital]
        ids, names, level = listed.ids, listed.names, listed.level
        n_h = len(ids)
    else:
        hospital = cases.hospital
        ids = cases.hospital_ids.astype(str)
        names = (cases.hospital_names if cases.hospital_names is not None else ids)
        names = np.where(np.asarray(names, dtype=object) == "", ids, names)
        level = cases.hospital_level
        n_h = n_table

    weight = catalogue.weights[cases.group]
    cost = cases.cost
    first = first_stays(cases)
    n_first = int(first.sum())
    readmission_rate = (n_cases - n_first) / max(n_first, 1)
    sources["behaviour.readmission_base"] = (
        f"{measured}: {n_cases - n_first:,} readmissions within {READMISSION_DAYS} days ÷ "
        f"{n_first:,} first stays")

    # per hospital and level (first stays)
    cases_h = np.bincount(hospital, minlength=n_h)
    first_h = np.bincount(hospital[first], minlength=n_h)
    cost_h = np.bincount(hospital[first], weights=cost[first], minlength=n_h)
    weight_h = np.bincount(hospital[first], weights=weight[first], minlength=n_h)
    all_cost_h = np.bincount(hospital, weights=cost, minlength=n_h)
    all_weight_h = np.bincount(hospital, weights=weight, minlength=n_h)
    level_case = level[hospital]
    cost_l = np.bincount(level_case[first], weights=cost[first], minlength=3)
    weight_l = np.bincount(level_case[first], weights=weight[first], minlength=3)
    first_l = np.bincount(level_case[first], minlength=3)
    per_weight = np.divide(cost_l, weight_l, out=np.full(3, np.nan), where=weight_l > 0)
    cost_per_admission = {}
    for index, name in enumerate(LEVELS):
        if first_l[index]:
            cost_per_admission[name] = _pretty(cost_l[index] / first_l[index], 10)
            sources[f"cost_per_admission.{name}"] = (
                f"{measured}: cost of {first_l[index]:,} first stays at {name} hospitals ÷ "
                "their number")
        else:
            cost_per_admission[name] = default["cost_per_admission"][name]
            sources[f"cost_per_admission.{name}"] = "assumed: the default region's (no case " \
                                                    f"at a {name} hospital)"
    with np.errstate(invalid="ignore", divide="ignore"):
        efficiency = (cost_h / weight_h) / per_weight[level]
    treated = (first_h > 0) & np.isfinite(efficiency) & (efficiency > 0)
    efficiency = np.where(treated, efficiency, 1.0)
    if (~treated).any():
        assumed.append(f"{int((~treated).sum()):,} listed hospital(s) without cases: "
                       "efficiency 1 and never chosen (attraction "
                       f"{ABSENT:g})")

    # schemes
    if cases.scheme is not None:
        first_s = np.bincount(cases.scheme[first], minlength=2).astype(float)
        scheme_source = f"{measured}: first stays by scheme"
    else:
        base = np.array([default["schemes"][s]["admission_rate"] * (
            insured_given[s]["insured"] if insured_given else default["schemes"][s]["insured"])
            for s in SCHEMES])
        first_s = n_first * base / base.sum()
        scheme_source = ("assumed: the case table has no scheme column; first stays split by "
                         "insured × the default region's admission rates")
        assumed.append("no scheme column: " + scheme_source[len("assumed: "):])
    growth = default["admission_growth"]
    schemes_config: dict = {}
    for index, scheme in enumerate(SCHEMES):
        entry: dict = {}
        if insured_given is not None:
            given = insured_given[scheme]
            entry["insured"] = int(given["insured"])
            sources[f"schemes.{scheme}.insured"] = f"measured: {insured_path.name}"
            entry["contribution_per_insured"] = float(given["contribution_per_insured"])
            sources[f"schemes.{scheme}.contribution_per_insured"] = \
                f"measured: {insured_path.name}"
        else:
            rate = default["schemes"][scheme]["admission_rate"]
            entry["insured"] = max(1, int(round(first_s[index] / rate)))
            sources[f"schemes.{scheme}.insured"] = (
                f"assumed: no insured file; {scheme} first stays ÷ the default region's "
                f"admission rate {rate:g}")
            entry["contribution_per_insured"] = default["schemes"][scheme][
                "contribution_per_insured"]
            sources[f"schemes.{scheme}.contribution_per_insured"] = \
                "assumed: no insured file; the default region's"
        rate = first_s[index] / entry["insured"] / (1 + growth)
        if rate > 1:
            raise InputError(str(insured_path), f"{scheme}.insured", f"value "
                             f"{entry['insured']:,} is fewer than the {first_s[index]:,.0f} "
                             f"{scheme} admissions of {data}",
                             "the number of insured of the scheme (more than its admissions)")
        entry["admission_rate"] = _pretty(rate, 10)
        sources[f"schemes.{scheme}.admission_rate"] = (
            f"{scheme_source.split(':')[0]}: {first_s[index]:,.0f} first stays ÷ insured ÷ "
            f"(1 + admission_growth {growth:g}), so that the first simulated year reproduces "
            f"the input year")
        if insured_given is not None and "fund_balance" in insured_given[scheme]:
            entry["fund_balance"] = float(insured_given[scheme]["fund_balance"])
            sources[f"schemes.{scheme}.fund_balance"] = f"measured: {insured_path.name}"
        else:  # the default region's opening months of the scheme (inside 6–9, assumed)
            months = default["schemes"][scheme].get("initial_reserve_months",
                                                    default["initial_reserve_months"])
            entry["initial_reserve_months"] = months
            sources[f"schemes.{scheme}.initial_reserve_months"] = (
                "assumed: no fund_balance; the default region's opening months of spending")
        # spending outside DRG inpatient care: what makes the scheme spend the national ratio
        # of its income (BEHAVIOUR §8: ¥2.82 tn ÷ ¥3.35 tn = 0.84) in the input year, given the
        # fund's payments for these cases (fee-for-service, as billed)
        income = entry["insured"] * entry["contribution_per_insured"]
        paid = (float(np.sum(cases.fund_paid[cases.scheme == index])) if cases.scheme is not None
                else float(np.sum(cases.fund_paid)) * first_s[index] / max(first_s.sum(), 1e-9))
        inpatient = paid / income if income > 0 else 0.0
        entry["non_drg_spending_share"] = _pretty(max(SPENDING_RATIO - inpatient, 0.0), 6)
        sources[f"schemes.{scheme}.non_drg_spending_share"] = (
            f"assumed: {SPENDING_RATIO:g} − the input year's inpatient fund payments ÷ income "
            f"({inpatient:.3f}), so that the scheme spends {SPENDING_RATIO:g} of its income "
            "(the national ratio, BEHAVIOUR §8)")
        if inpatient > SPENDING_RATIO:
            assumed.append(f"{scheme}: inpatient fund payments are {inpatient:.0%} of its "
                           "income, above the national spending ratio: nothing is spent "
                           "outside DRG inpatient care (check insured and contributions)")
        schemes_config[scheme] = entry
    reserve = ", ".join(f"{s} {schemes_config[s]['initial_reserve_months']:g}"
                        for s in SCHEMES if "initial_reserve_months" in schemes_config[s])
    if insured_given is None:
        assumed.append("no insured file: insured = first stays ÷ the default region's "
                       "admission rates; contributions and the opening reserve (months: "
                       f"{reserve}) the default region's")
    elif reserve:
        assumed.append(f"{insured_path.name} gives no fund_balance for some scheme: its "
                       f"opening reserve is the default region's (months: {reserve})")
    assumed.append("spending outside DRG inpatient care per scheme: set so that each scheme "
                   f"spends {SPENDING_RATIO:g} of its income in the input year (national ratio)")

    # families and severity (first stays)
    families = family_structure(catalogue)
    n_f = len(families.codes)
    ranks = np.array([len(g) for g in families.groups])
    position = np.full(len(catalogue.table), -1, dtype=np.int64)
    for members in families.groups:
        position[members] = np.arange(len(members))
    fam = families.of_group[cases.group[first]]
    pos = position[cases.group[first]]
    counts = np.bincount(fam * MAX_RANKS + pos, minlength=n_f * MAX_RANKS).reshape(n_f,
                                                                                  MAX_RANKS)
    per_family = counts.sum(axis=1)
    pooled = {}
    for k in np.unique(ranks[ranks > 0]):
        total = counts[ranks == k].sum(axis=0)[:k]
        pooled[int(k)] = (total / total.sum(), "pooled") if total.sum() > 0 else (
            rank_shares(default, int(k)), "assumed")
    shares = np.zeros((n_f, MAX_RANKS))
    how = np.full(n_f, "", dtype=object)
    for f in np.flatnonzero(per_family > 0):
        k = ranks[f]
        if per_family[f] >= MIN_FAMILY_CASES or k == 1:
            shares[f, :k] = counts[f, :k] / per_family[f]
            how[f] = "measured"
        else:
            shares[f, :k] = pooled[int(k)][0]
            how[f] = f"{pooled[int(k)][1]}: families with {k} ranks"
    used = per_family > 0
    width = max(3, int(ranks[used].max(initial=1)))
    family_frame = pd.DataFrame({"adrg": families.codes[used].astype(str),
                                 "cases": per_family[used],
                                 "share": per_family[used] / per_family.sum()})
    for k in range(width):
        family_frame[f"rank_{k + 1}"] = [f"{shares[f, k]:.12g}" if k < ranks[f] else ""
                                         for f in np.flatnonzero(used)]
    family_frame["severity_from"] = how[used]
    severity = {name: [_pretty(v, 10) for v in (pooled[k][0] if k in pooled
                                                 else rank_shares(default, k))]
                for name, k in (("two_ranks", 2), ("three_ranks", 3))}
    for name in severity:  # exact sums after rounding
        severity[name][-1] = _pretty(1 - sum(severity[name][:-1]), 10)

    # capability: the heaviest group each level treated (tertiary treats all)
    heaviest = [float(weight[level_case == index].max()) if (level_case == index).any()
                else np.nan for index in range(3)]
    capability = {}
    running = 0.0
    for index, name in enumerate(LEVELS[:2]):
        value = heaviest[index] if np.isfinite(heaviest[index]) else \
            default["capability_max_weight"][name]
        running = max(running, value)
        capability[name] = _pretty(running, 10)
        sources[f"capability_max_weight.{name}"] = (
            f"{measured}: the heaviest group (weight) a {name} hospital treated"
            if np.isfinite(heaviest[index]) else "assumed: the default region's")
    capability["tertiary"] = float("inf")
    sources["capability_max_weight.tertiary"] = "assumed: tertiary hospitals treat every group"

    # counties, beds, ownership, distances
    local = LOCAL_KM
    if listed is not None:
        county_names = list(dict.fromkeys(listed.county.tolist()))
        county_of = {c: i for i, c in enumerate(county_names)}
        county = np.array([county_of[c] for c in listed.county], dtype=np.int64)
        beds = listed.beds
        private = listed.private
        sources["hospital_list"] = (f"measured: {hospitals_path.name} (id, name, level, county, "
                                    f"beds, ownership); efficiency and attraction {measured}")
        sources["counties.names"] = f"measured: {hospitals_path.name}, column county"
    else:
        county_names = ["region"]
        county = np.zeros(n_h, dtype=np.int64)
        stay_days = np.bincount(hospital, weights=np.maximum(
            cases.length_of_stay, default["behaviour"]["stay_days_per_sqrt_weight"]
            * np.sqrt(weight)), minlength=n_h)
        beds = np.maximum(1.0, np.ceil(stay_days / 365.0 / OCCUPANCY))
        private = np.zeros(n_h, dtype=bool)
        sources["hospital_list"] = (
            f"{measured}: hospitals and levels; assumed (no hospital list): one county, "
            f"beds = bed-days (the larger of the recorded stay and the model's stay rule) ÷ 365 ÷ "
            f"{OCCUPANCY:g}, all public")
        sources["counties.names"] = "assumed: no hospital list, one county"
        assumed.append("no hospital list: hospitals from the cases, one county ('region'), "
                       f"beds from their bed-days at {OCCUPANCY:.0%} occupancy, all public")
    n_c = len(county_names)
    people = np.bincount(county[hospital[first]], minlength=n_c).astype(float)
    population_share = people / people.sum()
    counties: dict = {"names": county_names,
                      "population_share": [float(v) for v in population_share]}
    if listed is not None and listed.lat is not None:
        lat = np.bincount(county, weights=listed.lat, minlength=n_c) / np.bincount(county)
        lon = np.bincount(county, weights=listed.lon, minlength=n_c) / np.bincount(county)
        distance = np.maximum(haversine_km(lat, lon), local)
        counties["distance_km"] = [[round(float(v), 1) for v in row] for row in distance]
        sources["counties.distance_km"] = (
            f"measured: {hospitals_path.name}, lat/lon: straight-line (haversine) distance "
            f"between the mean positions of each county's hospitals, at least {local:g} km "
            "(assumed, also within a county)")
    else:
        counties.update({"count": n_c, "spacing_km": SPACING_KM, "local_km": local,
                         "distance_km": None})
        side = int(np.ceil(np.sqrt(n_c)))
        index = np.arange(n_c)
        distance = np.maximum(np.hypot(index[:, None] % side - index[None, :] % side,
                                       index[:, None] // side - index[None, :] // side)
                              * SPACING_KM, local)
        sources["counties.distance_km"] = (
            f"assumed: no coordinates; counties on a square grid {SPACING_KM:g} km apart in "
            f"the order first listed, {local:g} km within a county")
        if n_c > 1:
            assumed.append(f"no coordinates: counties {SPACING_KM:g} km apart on a grid")

    # the region configuration (behaviour and the rest: the default region's, assumed)
    behaviour = dict(default["behaviour"])
    behaviour["readmission_base"] = _pretty(readmission_rate, 10)
    self_pay = float(cases.self_pay.sum() / max(cost.sum(), 1e-9))
    config: dict = {
        "title": title or f"Region built from {data} ({cases.year})",
        "catalogue": _catalogue_name(catalogue_arg, catalogue_file, out),
        "basic_groups": {"source": default["basic_groups"].get("source", "default region"),
                         "codes": [c for c in default["basic_groups"]["codes"]
                                   if not catalogue.missing_codes([c])]},
        "schemes": schemes_config,
        "self_pay_share": _pretty(self_pay, 10) if self_pay > 0 else default["self_pay_share"],
        "non_drg_spending_share": default["non_drg_spending_share"],
        "contribution_growth": default["contribution_growth"],
        "initial_reserve_months": default["initial_reserve_months"],
        "admission_growth": growth,
        "age_groups": {"names": ["all"], "population_share": [1.0], "relative_rate": [1.0],
                       "severity_shift": [0.0]},
        "counties": counties,
        "hospital_list": output_paths(out)["hospitals"].name,
        "cost_per_admission": cost_per_admission,
        "capability_max_weight": capability,
        "severity": severity,
        "case_mix_exponent": None,
        "family_incidence": output_paths(out)["families"].name,
        "behaviour": behaviour,
    }
    sources.update({
        "catalogue": f"given: --catalogue {catalogue_arg}",
        "basic_groups": "assumed: the default region's basic groups found in the catalogue",
        "self_pay_share": (f"{measured}: self-pay ÷ cost" if self_pay > 0 else
                           "assumed: the default region's (no self_pay in the cases)"),
        "non_drg_spending_share": "assumed: the default region's (each scheme gives its own)",
        "contribution_growth": "assumed: the default region's",
        "initial_reserve_months": "assumed: the default region's (used for a scheme without "
                                  "fund_balance)",
        "admission_growth": "assumed: the default region's",
        "age_groups": "assumed: one age group (the case table has no age)",
        "cost_per_admission": f"{measured}: first stays by level",
        "severity": f"{measured}: first stays of all families with 2 (3) ranks, by rank",
        "family_incidence": f"{measured}: first stays by ADRG family and severity rank "
                            f"(a family's own shares from {MIN_FAMILY_CASES} first stays, else "
                            "those of all families with as many ranks)",
        "case_mix_exponent": "not used: family_incidence gives the incidence",
        "behaviour": "assumed: the default region's (readmission_base measured)",
    })
    if self_pay <= 0:
        assumed.append(f"no self-pay amounts: self_pay_share {default['self_pay_share']:g} "
                       "(the default region's)")
    assumed.append("one age group (the case table has no age); behaviour and growth are the "
                   "default region's")

    # attraction: reproduce each hospital's volume under the model's own choice
    # beds: enough for the input year's first stays under the model's stay rule in (almost)
    # every month (mean + 3 sd of a month's bed-days, at bed_occupancy_max), so that the
    # capacity rule does not move the volumes the attraction reproduces
    stay_rule = behaviour["stay_days_per_sqrt_weight"]
    month_mean = stay_rule * np.bincount(hospital[first], weights=np.sqrt(weight[first]),
                                         minlength=n_h) / 12
    month_sd = stay_rule * np.sqrt(np.bincount(hospital[first], weights=weight[first],
                                               minlength=n_h) / 12)
    needed = np.ceil((month_mean + 3 * month_sd) / (30.4 * behaviour["bed_occupancy_max"]))
    raised = needed > beds
    beds_listed = beds.copy()
    beds = np.maximum(beds, needed)
    if raised.any():
        sources["hospital_list.beds"] = (
            f"measured ({'the hospital list' if listed is not None else 'bed-days'}), raised at "
            f"{int(raised.sum()):,} hospital(s) to the beds the input year's first stays need "
            f"under the model's stay rule ({stay_rule:g} × √weight days) in almost every month "
            f"(mean + 3 sd of a month's bed-days at {behaviour['bed_occupancy_max']:.0%} "
            "occupancy); the listed beds are in beds_listed")
        assumed.append(f"{int(raised.sum()):,} hospital(s) get more beds than listed (kept in "
                       "beds_listed), so that the model's capacity rule lets their input-year "
                       "volume through")

    attraction, population, volume_error = calibrate_attraction(
        config, catalogue, families, family_frame, level, county, efficiency * per_weight[level],
        first_h.astype(float), distance, first_s, cases.year)
    attraction = np.where(first_h > 0, attraction, ABSENT)
    counties["population_share"] = [float(v) for v in population]
    moved = float(np.abs(population - population_share).sum() / 2)
    sources["counties.population_share"] = (
        f"{measured}: first stays treated in each county, then {moved:.1%} of the population "
        "moved between counties so that the model's own cross-county choices (heavy cases to "
        "tertiary hospitals elsewhere, the nearest hospitals outside) give each county's "
        "hospitals their measured volume (assumed: case tables carry no home county)")
    assumed.append("home counties: case tables carry none; patients are placed where they were "
                   f"treated, then {moved:.1%} of them moved so that the model's cross-county "
                   "choices reproduce each county's volume")

    frame = pd.DataFrame({
        "hospital_id": ids, "name": names, "level": [LEVELS[v] for v in level],
        "grade": (listed.grade if listed is not None else
                  (cases.hospital_grades if cases.hospital_grades is not None
                   else np.full(n_h, "", dtype=object))),
        "county": [county_names[c] for c in county], "beds": beds.astype(np.int64),
        "beds_listed": beds_listed.astype(np.int64),
        "private": np.where(private, "true", "false"),
        "efficiency": [f"{v:.10g}" for v in efficiency],
        "attraction": [f"{v:.10g}" for v in attraction],
        "efficiency_from": np.where(treated, "measured", "assumed"),
        "cases": cases_h,
        "cost_per_case": np.round(np.divide(all_cost_h, cases_h, out=np.zeros(n_h),
                                            where=cases_h > 0), 2),
        "cmi": np.round(np.divide(all_weight_h, cases_h, out=np.zeros(n_h),
                                  where=cases_h > 0), 6),
    })
    if listed is not None and listed.lat is not None:
        frame["lat"], frame["lon"] = listed.lat, listed.lon
    assert list(frame.columns[:2]) == ["hospital_id", "name"] and set(
        HOSPITAL_LIST_COLUMNS) <= set(frame.columns)

    config["sources"] = sources
    lines = [
        f"Read {n_cases:,} cases of {n_table:,} hospitals ({cases.year}) from {data}: "
        f"{n_first:,} first stays, {n_cases - n_first:,} readmissions "
        f"({readmission_rate:.1%}), CMI {weight.mean():.4f}",
        "Cost per admission: " + ", ".join(f"{k} ¥{v:,.0f}" for k, v in
                                           cost_per_admission.items()),
        "Admission rate: " + ", ".join(f"{s} {schemes_config[s]['admission_rate']:.4f} of "
                                       f"{schemes_config[s]['insured']:,} insured"
                                       for s in SCHEMES),
        f"{n_h:,} hospitals in {n_c:,} count{'y' if n_c == 1 else 'ies'}, "
        f"{int(used.sum()):,} families with cases; choice calibrated to expected volumes "
        f"within {volume_error:.2e}",
    ]
    return Build(config, frame, family_frame, sources, lines, assumed, warnings, volume_error)


def _catalogue_name(argument: str, path: Path, out: Path) -> str:
    """How the region names its catalogue: the shipped name, or the path (relative to the
    region file when the catalogue is in its folder or below)."""
    if not Path(argument).exists() and "/" not in argument and "\\" not in argument:
        return argument  # a shipped name
    base = Path(os.path.abspath(out)).parent
    full = Path(os.path.abspath(path))
    try:
        return str(full.relative_to(base))
    except ValueError:
        return str(full)


def calibrate_attraction(config: dict, catalogue: Catalogue, families, family_frame,
                         level: np.ndarray, county: np.ndarray, cost_factor: np.ndarray,
                         target: np.ndarray, distance: np.ndarray, first_s: np.ndarray,
                         year: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Attraction constants δ and county populations with which the model's expected choices
    give each hospital its measured volume (``target``, first stays).

    Expected episodes: every county × scheme × group at its share (population × scheme × family ×
    rank) and its mean need; the choice probabilities are the logit of
    :func:`systematic_utility` + δ over the capable hospitals of the county's choice set (the
    model's rule). Starting from the populations where patients were treated, two updates are
    repeated until every volume agrees (relative error below ``TOLERANCE``): each county's
    population × (its hospitals' measured ÷ expected volume), and each hospital's δ by a Newton
    step on log(measured ÷ expected volume), then centred on 0 within its county (how much a
    county's hospitals attract outsiders is the model's distance and level preference, not a
    constant). Populations move only as far as the model's own choices send patients across
    county lines (heavy cases to tertiary hospitals elsewhere); with no such flow they stay where
    the patients were treated. Returns δ, the population shares and the largest relative volume
    error reached."""
    weight = catalogue.weights
    rank = catalogue.table["severity_rank"].to_numpy().astype(np.int64)
    behaviour = config["behaviour"]
    min_level = minimum_levels(weight, config["capability_max_weight"])
    policy = load_policy(shipped("policies", "ffs", ".yaml"))
    on = dt.date(year, 1, 1)
    deductible = policy.value("patients.deductible", on)
    ratio = policy.value("patients.reimbursement_ratio", on)
    deductible = np.array([[deductible[s][lv] for lv in LEVELS] for s in SCHEMES], dtype=float)
    ratio = np.array([[ratio[s][lv] for lv in LEVELS] for s in SCHEMES], dtype=float)
    # expected episodes of one unit of population: scheme × group with their probability
    position = {str(code): i for i, code in enumerate(families.codes)}
    group, probability = [], []
    rank_columns = [c for c in family_frame.columns if c.startswith("rank_")]
    for row in family_frame.itertuples(index=False):
        members = families.groups[position[row.adrg]]
        values = [float(getattr(row, c)) for c in rank_columns[: len(members)]]
        group.extend(members.tolist())
        probability.extend((row.share * np.array(values)).tolist())
    group, probability = np.array(group, dtype=np.int64), np.array(probability)
    keep = probability > 0
    group, probability = group[keep], probability[keep]
    scheme_share = first_s / first_s.sum()
    scheme = np.repeat(np.arange(2), len(group))
    group = np.tile(group, 2)
    probability = np.concatenate([probability * scheme_share[0], probability * scheme_share[1]])
    need, severity = weight[group], rank[group] - 1
    n_c = distance.shape[0]
    total = target.sum()
    people = np.array(config["counties"]["population_share"], dtype=float) * total
    candidates = choice_sets(distance, county, level, behaviour["choice_set"])
    blocks = []
    for c, chosen in enumerate(candidates):
        if people[c] <= 0 or len(chosen) == 0:
            continue
        hospital_level = level[chosen]
        pay = out_of_pocket(need[:, None] * cost_factor[chosen][None, :], scheme[:, None],
                            hospital_level[None, :], deductible, ratio, config["self_pay_share"])
        utility = systematic_utility(behaviour["choice"], hospital_level, severity,
                                     distance[c, county[chosen]], pay)
        capable = min_level[group][:, None] <= hospital_level[None, :]
        utility = np.where(capable, utility - utility.max(axis=1, keepdims=True), -np.inf)
        blocks.append((c, chosen, np.exp(utility)))
    chosen_any = target > 0
    in_county = np.bincount(county[chosen_any], minlength=n_c)
    target_c = np.bincount(county, weights=target, minlength=n_c)
    delta = np.zeros(len(target))
    error = np.inf
    for _ in range(ITERATIONS):
        expected = np.zeros(len(target))
        own = np.zeros(len(target))  # Σ mass × share²: how much of a volume is captive
        scale = np.exp(delta - delta[chosen_any].max())
        for c, chosen, base in blocks:
            numerator = base * scale[chosen][None, :]
            denominator = numerator.sum(axis=1)
            share = numerator / np.where(denominator > 0, denominator, 1.0)[:, None]
            mass = probability * people[c]
            expected[chosen] += mass @ share  # a hospital is once in a choice set
            own[chosen] += mass @ (share * share)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio_volume = np.where(chosen_any, target / np.maximum(expected, 1e-300), 1.0)
            # d log(volume) / d δ = 1 − (mean own share): a Newton step on each hospital's
            # constant converges where the plain fixed point crawls (captive patients)
            slope = np.clip(1 - own / np.maximum(expected, 1e-300), 0.1, 1.0)
            ratio_county = np.where(target_c > 0, target_c / np.maximum(
                np.bincount(county, weights=expected, minlength=n_c), 1e-300), 1.0)
        error = float(np.max(np.abs(ratio_volume[chosen_any] - 1))) if chosen_any.any() else 0.0
        if error < TOLERANCE:
            break
        people = people * ratio_county
        people *= total / people.sum()
        step = np.clip(np.log(ratio_volume) / slope, -1.0, 1.0)
        delta = np.where(chosen_any, delta + step, 0.0)
        centre = np.bincount(county[chosen_any], weights=delta[chosen_any], minlength=n_c)
        delta = np.where(chosen_any, delta - (centre / np.maximum(in_county, 1))[county], ABSENT)
    return delta, people / total, error


# --------------------------------------------------------------------------- writing
def write_region(result: Build, paths: dict[str, Path]) -> None:
    """The region file and its two tables, staged and renamed into place together."""
    text = HEADER + yaml.safe_dump(result.config, allow_unicode=True, sort_keys=False,
                                   width=100)
    write_files_atomically({
        paths["region"]: lambda p: p.write_text(text, encoding="utf-8", newline="\n"),
        paths["hospitals"]: lambda p: result.hospitals.to_csv(p, index=False,
                                                              encoding="utf-8-sig"),
        paths["families"]: lambda p: result.families.to_csv(p, index=False,
                                                            encoding="utf-8-sig"),
    }, "--out")


def build_region_file(cases_path: Path, catalogue: str, out: Path,
                      hospitals_path: Path | None = None, insured_path: Path | None = None,
                      title: str | None = None, encoding: str | None = None,
                      columns: Path | None = None) -> Build:
    """``drgsim region build``: check ``--out``, read and measure, write the three files."""
    inputs = [cases_path, resolve(catalogue, "catalogues", ".csv")] + [
        p for p in (hospitals_path, insured_path, columns) if p is not None]
    paths = check_outputs(out, inputs)
    if encoding is not None:
        from sim.inputs.extract import check_encoding

        encoding = check_encoding(encoding)
    result = build(cases_path, catalogue, hospitals_path, insured_path, title, out, encoding,
                   columns)
    write_region(result, paths)
    return result


# --------------------------------------------------------------------------- a model-made year
def model_year_extract(model) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The last settled year of a :class:`~sim.model.model.RegionModel` as a bureau would hand
    it over: the case table (one row per case, drgsim's column names), the hospital list (beds
    at the run's scale) and the insured by scheme (at the run's scale, with the ledger's
    accumulated balance). For round-trip tests and benchmarks."""
    region, cases, scale = model.region, model.last_year, model.scale
    ids = region.hospital_ids
    discharge = cases["discharge_day"].astype("datetime64[D]")
    stay = cases["length_of_stay"].astype(np.int64)
    codes = region.catalogue.table["code"].to_numpy()
    frame = pd.DataFrame({
        "case_id": np.arange(len(stay)), "patient_id": cases["patient"],
        "hospital_id": ids[cases["hospital"]],
        "hospital_level": np.array(LEVELS)[cases["level"]],
        "drg": codes[cases["coded_group"]], "cost": cases["cost"],
        "fund_paid": cases["fund_paid"], "patient_paid": cases["patient_paid"],
        "self_pay": cases["self_pay"], "los_days": stay,
        "admission_date": (discharge - stay.astype("timedelta64[D]")).astype(str),
        "discharge_date": discharge.astype(str),
        "scheme": np.array(SCHEMES)[cases["scheme"]]})
    names = model.config["counties"].get("names") or [
        f"county_{c}" for c in range(len(region.county_share))]
    hospitals = pd.DataFrame({
        "hospital_id": ids, "name": [f"Hospital {h}" for h in ids],
        "level": [LEVELS[v] for v in region.hospital_level],
        "county": [names[c] for c in region.hospital_county],
        "beds": np.maximum(1, np.round(region.hospital_beds * scale)).astype(np.int64),
        "ownership": np.where(region.hospital_private, "private", "public")})
    schemes = model.config["schemes"]
    insured = {s: {"insured": int(round(schemes[s]["insured"] * scale)),
                   "contribution_per_insured": float(schemes[s]["contribution_per_insured"]),
                   "fund_balance": float(model.ledger.accumulated[i])}
               for i, s in enumerate(SCHEMES)}
    return frame, hospitals, insured
