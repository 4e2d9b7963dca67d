"""Policies as data: a YAML tree of dated, documented parameters; reforms as deltas; strict checks.

A policy file has a header (``title``, ``method``, ``levels``, optional ``extends``) and a
``parameters`` tree whose leaves carry ``description``, ``unit``, ``reference`` (a § of
POLICY_RULES or a publication) and dated ``values``. ``extends`` names files (relative to the
policy) whose leaves this file adds to or overrides; a leaf that only gives ``values`` keeps the
inherited description. Which parameters exist, their kind, bounds and the payment methods they
belong to is declared once in :data:`SCHEMA`; anything else is an error naming the file, the
parameter path, the date and the bound. A reform is a delta ``{path: {date: value}}`` with a title,
validated whole before it is applied; reforms compose in the order given.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError, show
from sim.inputs import behaviour as behaviour_parameters
from sim.inputs.alliances import check_alliances
from sim.inputs.yamlfile import read_yaml
from sim.rules.weights import Trim

METHODS = ("point", "rate", "pool", "all_inclusive", "dip", "ffs")
POINT_FAMILY = ("point", "pool", "dip")
SETTLED = ("point", "rate", "pool", "all_inclusive", "dip")
RATE_FAMILY = ("rate", "all_inclusive")
DEFAULT_LEVELS = ("primary", "secondary", "tertiary")


@dataclass(frozen=True)
class Spec:
    """What a parameter may hold: its kind, bounds, whether null is allowed, where it applies."""

    kind: str  # number | integer | boolean | levels | number_or_levels | bands | months | hospitals
    #          | scheme_levels | trim (a §1.3 trimming rule: none, sd:K, pct:LO,HI)
    #          | codes (a list of group codes) | schemes (a number per scheme)
    #          | carve_outs (per scheme, named yuan amounts)
    #          | alliances (county alliances: {name: {lead, members}}, sim.inputs.alliances)
    low: float | None = None
    high: float | None = None
    nullable: bool = False
    methods: tuple[str, ...] = METHODS
    warn_below: float | None = None  # a rule's floor that is advice, not a hard bound
    warn_text: str = ""


SCHEMA: dict[str, Spec] = {
    # groups and outliers (§2.2, §2.3)
    "groups.unstable_max_cases": Spec("integer", 0, None),
    "outliers.low_multiple": Spec("number", 0, 1),
    "outliers.high_multiple_bands": Spec("bands", 1, None),
    # coefficients (§1.6, §2.4)
    "coefficients.level": Spec("levels", 0, 10, nullable=True),
    "coefficients.basic_groups_same_price": Spec("boolean"),
    "coefficients.basic_groups": Spec("codes", nullable=True),
    "indicators.readmission_excluded_adrgs": Spec("codes", nullable=True),
    "coefficients.basic_group_coefficient": Spec("number", 0, 10),
    "coefficients.decimals": Spec("integer", 0, 12),
    # the price of complications (§1.4 override; BEHAVIOUR §8 Norway)
    "weights.complication_multiplier": Spec("number", 0.5, 2.0),
    "coefficients.level_adjustment": Spec("levels", 0, 3),
    # supervision (§2.8)
    "audit.sample_rate": Spec("number", 0, 1, warn_below=0.10,
                              warn_text="§2.8 asks for at least 10% of records"),
    "audit.detection_probability": Spec("number", 0, 1),
    "audit.penalty_multiple": Spec("number", 0, None),
    # county alliances (§2.8; Guigang 第八条): separate accounting, a package to the lead
    "alliances.members": Spec("alliances", nullable=True),
    "alliances.package_to_lead": Spec("boolean"),
    # money flow and year end (§2.6, §2.7)
    "settlement.prepay_ratio": Spec("number", 0, 1, methods=SETTLED, warn_below=0.90,
                                    warn_text="§2.6 asks for a prepay ratio of at least 90%"),
    "settlement.advance_months": Spec("number", 0, 12, methods=SETTLED),
    "settlement.whole_group_monthly_share": Spec("number", 0, 1, methods=SETTLED),
    # special-case reviews as a process in model runs (§2.5, §2.6)
    "review.submitted_share": Spec("number", 0, 1, methods=SETTLED),
    "review.approved_share": Spec("number", 0, 1, methods=SETTLED),
    "review.unreasonable_share": Spec("number", 0, 1, methods=SETTLED),
    "settlement.assessment_coefficient": Spec("number", 0, 2, methods=SETTLED),
    "settlement.surplus_cap": Spec("number", 0, None, nullable=True, methods=SETTLED),
    "settlement.self_pay_cap": Spec("number", 0, 1, nullable=True, methods=SETTLED),
    "settlement.monthly_shares": Spec("months", 0, 1, nullable=True, methods=SETTLED),
    "settlement.assessment_readmission_weight": Spec("number", 0, 10, methods=SETTLED),
    "settlement.assessment_floor": Spec("number", 0, 2, methods=SETTLED),
    "settlement.assessment_ceiling": Spec("number", 0, 2, methods=SETTLED),
    # the scored assessment's other indicators (§2.8, §6; sim.rules.assessment)
    "settlement.assessment_admissions_per_person_weight": Spec("number", 0, 10, methods=SETTLED),
    "settlement.assessment_self_pay_ratio_weight": Spec("number", 0, 10, methods=SETTLED),
    "settlement.assessment_cost_per_case_growth_weight": Spec("number", 0, 10, methods=SETTLED),
    "settlement.assessment_cmi_growth_weight": Spec("number", 0, 10, methods=SETTLED),
    "settlement.assessment_referral_rate_weight": Spec("number", 0, 10, methods=SETTLED),
    "settlement.assessment_scored_in_settle": Spec("boolean", methods=SETTLED),
    # global budget (§2.1)
    "budget.annual": Spec("number", 0, 1e13, nullable=True, methods=POINT_FAMILY),
    "budget.annual_growth": Spec("number", -0.5, 1, methods=POINT_FAMILY),
    "budget.separate_schemes": Spec("boolean", methods=POINT_FAMILY),
    "budget.by_scheme": Spec("schemes", 0, 1e13, nullable=True, methods=POINT_FAMILY),
    "budget.fund_total": Spec("schemes", 0, 1e13, nullable=True, methods=POINT_FAMILY),
    "budget.carve_outs": Spec("carve_outs", 0, 1e13, nullable=True, methods=POINT_FAMILY),
    # rate method (§3)
    "rate.base_rate": Spec("number_or_levels", 0, 1e8, nullable=True, methods=RATE_FAMILY),
    "rate.adjustment": Spec("number", 0.01, 10, methods=RATE_FAMILY),  # 0 would pay nothing
    "rate.use_coefficients": Spec("boolean", methods=RATE_FAMILY),
    "rate.whole_group_at_reviewed_cost": Spec("boolean", methods=RATE_FAMILY),
    # incentive pool (§4)
    "pool.share": Spec("number", 0, 0.5, methods=("pool",)),
    "pool.incentive_coefficients": Spec("hospitals", 0, 2, nullable=True, methods=("pool",)),
    # all-inclusive price (§5)
    "all_inclusive.fund_share": Spec("levels", 0, 1, nullable=True, methods=("all_inclusive",)),
    "all_inclusive.short_stay_days": Spec("number", 0, None, methods=("all_inclusive",)),
    "all_inclusive.long_stay_days": Spec("number", 0, None, methods=("all_inclusive",)),
    "all_inclusive.low_price_multiple": Spec("number", 0, 1, methods=("all_inclusive",)),
    "all_inclusive.high_price_multiple": Spec("number", 1, None, methods=("all_inclusive",)),
    # DIP (§8)
    "dip.fix_inversions": Spec("boolean", methods=("dip",)),
    # rollout of hospitals and groups (§7)
    "rollout.hospital_share": Spec("number", 0, 1, methods=SETTLED),
    "rollout.group_share": Spec("number", 0, 1, methods=SETTLED),
    # yearly revision from last year's data (§1.7, BEHAVIOUR §6)
    "revision.weights_from_coded_data": Spec("boolean"),
    "revision.coefficients_yearly": Spec("boolean"),
    "revision.min_cases": Spec("integer", 1, None),
    "revision.rates_yearly": Spec("boolean", methods=RATE_FAMILY),
    "revision.trim": Spec("trim"),
    # patients' cost sharing (BEHAVIOUR §5), by scheme and level
    "patients.reimbursement_ratio": Spec("scheme_levels", 0, 1),
    "patients.deductible": Spec("scheme_levels", 0, None),
}
SCHEMES = ("employee", "resident")

LEAF_KEYS = {"description", "unit", "reference", "values"}
HEADER_KEYS = {"title", "title_zh", "method", "levels", "extends", "reference", "description",
               "parameters"}
REFORM_KEYS = {"title", "title_zh", "rationale", "changes"}


# --------------------------------------------------------------------------- dates
def parse_date(value: object, file: str, where: str) -> dt.date:
    """A real calendar date written ``YYYY-MM-DD``."""
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise InputError(file, where, f"{show(value)} is not a calendar date",
                             "a real date written YYYY-MM-DD") from None
        raise InputError(file, where, f"bad date {show(value)}",
                         "a date written YYYY-MM-DD") from None


# --------------------------------------------------------------------------- values
def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value \
        and value not in (float("inf"), float("-inf"))


def _bound_text(spec: Spec) -> str:
    low = "−∞" if spec.low is None else f"{spec.low:g}"
    high = "∞" if spec.high is None else f"{spec.high:g}"
    return f"a number in [{low}, {high}]"


def _check_number(value: object, spec: Spec, fail: Callable[[str, str], None]) -> None:
    if not _is_number(value):
        fail(f"value {show(value)} is not a number", _bound_text(spec))
    if spec.low is not None and value < spec.low:
        fail(f"value {value} is below the lower bound {spec.low:g}", _bound_text(spec))
    if spec.high is not None and value > spec.high:
        fail(f"value {value} is above the upper bound {spec.high:g}", _bound_text(spec))


def check_value(path: str, value: object, levels: tuple[str, ...],
                fail: Callable[[str, str], None]) -> None:
    """Check one dated value of parameter ``path``; ``fail(problem, expected)`` raises."""
    spec = SCHEMA[path]
    if value is None:
        if not spec.nullable:
            fail("value is empty", "a value (this parameter cannot be null)")
        return
    if spec.kind == "number":
        _check_number(value, spec, fail)
    elif spec.kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            fail(f"value {show(value)} is not a whole number", "an integer")
        _check_number(value, spec, fail)
    elif spec.kind == "boolean":
        if not isinstance(value, bool):
            fail(f"value {show(value)} is not true or false", "true or false")
    elif spec.kind in ("levels", "number_or_levels"):
        if spec.kind == "number_or_levels" and not isinstance(value, dict):
            _check_number(value, spec, fail)
            return
        _check_levels(value, spec, levels, fail)
    elif spec.kind == "scheme_levels":
        if not isinstance(value, dict) or set(value) != set(SCHEMES):
            fail(f"value {show(value)} does not give one entry per scheme",
                 "a mapping with the schemes " + ", ".join(SCHEMES))
        for scheme in SCHEMES:
            _check_levels(value[scheme], spec, levels,
                          lambda problem, expected, sc=scheme: fail(f"scheme {sc}: {problem}",
                                                                    expected))
    elif spec.kind == "hospitals":
        if not isinstance(value, dict) or not value:
            fail(f"value {show(value)} is not a mapping of hospital ids to numbers",
                 "hospital_id: number pairs")
        for hospital, number in value.items():
            _check_number(number, spec,
                          lambda problem, expected, h=hospital: fail(f"hospital {h}: {problem}",
                                                                     expected))
    elif spec.kind == "months":
        if not isinstance(value, list) or len(value) != 12:
            fail(f"value {show(value)} is not a list of 12 shares", "12 shares summing to 1")
        for number in value:
            _check_number(number, spec, fail)
        if abs(sum(value) - 1.0) > 1e-9:
            fail(f"the 12 monthly shares sum to {sum(value):.10g}", "12 shares summing to 1")
    elif spec.kind == "bands":
        _check_bands(value, fail)
    elif spec.kind == "schemes":
        if not isinstance(value, dict) or set(value) != set(SCHEMES):
            fail(f"value {show(value)} does not give one number per scheme",
                 "a mapping with the schemes " + ", ".join(SCHEMES) + " (a number or null each)")
        for scheme in SCHEMES:
            if value[scheme] is not None:
                _check_number(value[scheme], spec,
                              lambda problem, expected, sc=scheme: fail(f"scheme {sc}: {problem}",
                                                                        expected))
    elif spec.kind == "carve_outs":
        if (not isinstance(value, dict) or not value or not set(value) <= set(SCHEMES)
                or not all(isinstance(items, dict) for items in value.values())):
            fail(f"value {show(value)} is not a mapping of schemes to named amounts",
                 "per scheme (" + ", ".join(SCHEMES) + ") a mapping of names to yuan, e.g. "
                 "{employee: {per_diem: 12000000, reserve: 3000000}}")
        for scheme, items in value.items():
            for name, amount in items.items():
                _check_number(amount, spec, lambda problem, expected, sc=scheme, nm=name: fail(
                    f"scheme {sc}, carve-out {nm}: {problem}", expected))
    elif spec.kind == "codes":
        if not isinstance(value, list) or not value:
            fail(f"value {show(value)} is not a list of group codes",
                 "a list of group codes such as [ES25, GZ15], or null")
        for code in value:
            if not isinstance(code, str) or not code.strip():
                fail(f"code {show(code)} is not a group code", "group codes as text, e.g. ES25")
        if len(set(value)) != len(value):
            twice = next(code for code in value if value.count(code) > 1)
            fail(f"code {show(twice)} is listed twice", "each group code once")
    elif spec.kind == "alliances":
        check_alliances(value, fail)
    elif spec.kind == "trim":
        try:
            Trim.parse(value) if isinstance(value, str) else Trim.parse("?")
        except ValueError as error:
            fail(f"value {show(value)} is not a trimming rule", str(error))
    else:  # pragma: no cover - schema error
        raise AssertionError(spec.kind)


def _check_levels(value: object, spec: Spec, levels: tuple[str, ...],
                  fail: Callable[[str, str], None]) -> None:
    if not isinstance(value, dict) or set(value) != set(levels):
        fail(f"value {show(value)} does not give one number per level",
             "a mapping with exactly the levels " + ", ".join(levels))
    for level in levels:
        _check_number(value[level], spec,
                      lambda problem, expected, lv=level: fail(f"level {lv}: {problem}",
                                                               expected))


def _check_bands(value: object, fail: Callable[[str, str], None]) -> None:
    """High-multiple bands (§2.3): base-point upper limits strictly increasing, last open."""
    expected = "a list of {up_to_base_points, multiple} with increasing limits, the last null"
    if not isinstance(value, list) or not value:
        fail(f"value {show(value)} is not a list of bands", expected)
    previous = None
    for position, band in enumerate(value, start=1):
        if not isinstance(band, dict) or set(band) != {"up_to_base_points", "multiple"}:
            fail(f"band {position} is {show(band)}", expected)
        limit, multiple = band["up_to_base_points"], band["multiple"]
        last = position == len(value)
        if last and limit is not None:
            fail(f"the last band ends at {limit} base points", "the last band's limit null (open)")
        if not last:
            if not _is_number(limit):
                fail(f"band {position} limit {show(limit)} is not a number", expected)
            if previous is not None and limit <= previous:
                fail(f"band {position} limit {limit} is not above band {position - 1} limit "
                     f"{previous}", "limits in increasing order")
            previous = limit
        if not _is_number(multiple) or multiple <= 1:
            fail(f"band {position} multiple {show(multiple)} is not above 1",
                 "a high-multiple threshold above 1× the group's mean cost")


# --------------------------------------------------------------------------- policy
@dataclass
class Parameter:
    path: str
    description: str
    unit: str
    reference: str
    values: dict[dt.date, Any]
    file: str  # where its values were last set


@dataclass
class Policy:
    """A resolved policy: header, parameters with dated values, and the files it came from."""

    title: str
    method: str
    levels: tuple[str, ...]
    parameters: dict[str, Parameter]
    files: list[str] = field(default_factory=list)
    title_zh: str | None = None
    reforms: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # behavioural parameters a reform or sweep sets (``behaviour.<path>``: value), for the whole
    # run; the region file gives the others (sim.inputs.behaviour). Not dated: the date a reform
    # gave, and its file, are kept to refuse a date after the run starts (check_in_force).
    behaviour: dict[str, Any] = field(default_factory=dict)
    behaviour_dates: dict[str, tuple[dt.date, str]] = field(default_factory=dict)

    def value(self, path: str, on: dt.date) -> Any:
        """The value of ``path`` in force on date ``on`` (latest dated value not after it)."""
        if path not in self.parameters:
            raise KeyError(f"{path} is not a parameter of the {self.method} policy")
        parameter = self.parameters[path]
        dates = [d for d in parameter.values if d <= on]
        if not dates:
            first = min(parameter.values)
            raise InputError(parameter.file, f"parameter {path}",
                             f"no value in force on {on.isoformat()}",
                             f"a value dated on or before it (the first is {first.isoformat()})")
        return copy.deepcopy(parameter.values[max(dates)])

    def values_in_year(self, path: str, year: int) -> list[Any]:
        """The value of ``path`` in force in each month of ``year`` (12 values, January first):
        the value in force on the first day of the month, so a change dated after the 1st
        takes effect the month after (:meth:`changes_in_year` names such dates)."""
        return [self.value(path, dt.date(year, month, 1)) for month in range(1, 13)]

    def changes_in_year(self, path: str, year: int) -> list[dt.date]:
        """Dates after 1 January of ``year`` and inside it on which ``path`` takes a new value."""
        parameter = self.parameters[path]
        changes = []
        for date in sorted(parameter.values):
            if date.year != year or date == dt.date(year, 1, 1):
                continue
            earlier = [d for d in parameter.values if d < date]
            if not earlier or parameter.values[max(earlier)] != parameter.values[date]:
                changes.append(date)
        return changes

    def has(self, path: str) -> bool:
        return path in self.parameters

    def resolved(self, on: dt.date) -> dict[str, Any]:
        """Every parameter's value in force on ``on``, by path."""
        return {path: self.value(path, on) for path in sorted(self.parameters)}

    def describe(self, on: dt.date) -> list[str]:
        """Lines of the resolved tree with units and references (for ``drgsim params``)."""
        lines = [f"{self.title}  [method: {self.method}; levels: {', '.join(self.levels)}; "
                 f"in force on {on.isoformat()}]"]
        previous: list[str] = []
        for path in sorted(self.parameters):
            parameter = self.parameters[path]
            parts = path.split(".")
            for depth, part in enumerate(parts[:-1]):
                if previous[: depth + 1] != parts[: depth + 1]:
                    lines.append("  " * depth + part + ":")
            previous = parts
            value = self.value(path, on)
            indent = "  " * (len(parts) - 1)
            lines.append(f"{indent}{parts[-1]}: {_format_value(value)}"
                         f"  [{parameter.unit}]  ({parameter.reference})")
            lines.append(f"{indent}    {parameter.description}")
            if len(parameter.values) > 1:
                history = ", ".join(f"{d.isoformat()}: {_format_value(v)}"
                                    for d, v in sorted(parameter.values.items()))
                lines.append(f"{indent}    dated values: {history}")
        return lines

    def as_record(self) -> dict[str, Any]:
        """The whole dated tree as plain JSON-able data (for run records)."""
        return {
            "title": self.title,
            "title_zh": self.title_zh,
            "method": self.method,
            "levels": list(self.levels),
            "files": self.files,
            "reforms": self.reforms,
            "behaviour": dict(sorted(self.behaviour.items())),
            "parameters": {
                path: {d.isoformat(): v for d, v in sorted(p.values.items())}
                for path, p in sorted(self.parameters.items())
            },
        }


def _format_value(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "; ".join(f"≤{b['up_to_base_points']}: {b['multiple']}" if b["up_to_base_points"]
                         is not None else f"above: {b['multiple']}" for b in value)
    return "null" if value is None else str(value)


def _walk_leaves(tree: Any, file: str, prefix: str = "") -> Iterable[tuple[str, dict]]:
    if not isinstance(tree, dict):
        raise InputError(file, f"parameters.{prefix}".rstrip("."), f"value {show(tree)}",
                         "a mapping of parameter groups")
    for key, node in tree.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(node, dict) and "values" in node:
            yield path, node
        elif isinstance(node, dict) and path not in SCHEMA:
            yield from _walk_leaves(node, file, path)
        else:
            raise InputError(file, f"parameter {path}", "has no 'values'",
                             "description, unit, reference and values: {date: value}")


def _suggest(path: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(path, list(candidates), n=1, cutoff=0.5)
    if not close:
        tail = path.rsplit(".", 1)[-1]
        close = [c for c in candidates if c.rsplit(".", 1)[-1] == tail][:1]
    return f" (did you mean {close[0]}?)" if close else ""


def _read_policy_file(path: Path, seen: tuple[Path, ...]) -> tuple[dict, dict[str, Parameter],
                                                                   list[str]]:
    """Read one policy file and the files it extends; return header, parameters, file list."""
    file = str(path)
    if path.resolve() in seen:
        raise InputError(file, "extends", "the file extends itself (a cycle)",
                         "a chain of extends without cycles")
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise InputError(file, None, f"top level is {show(document)}", "a mapping (a policy)")
    unknown = [k for k in document if k not in HEADER_KEYS]
    if unknown:
        raise InputError(file, f"key {unknown[0]!r}", "unknown top-level key",
                         "one of " + ", ".join(sorted(HEADER_KEYS)))
    header: dict = {}
    parameters: dict[str, Parameter] = {}
    files: list[str] = []
    extends = document.get("extends") or []
    extends = [extends] if isinstance(extends, str) else extends
    if not isinstance(extends, list) or not all(isinstance(n, str) and n.strip()
                                                for n in extends):
        raise InputError(file, "extends", f"value {show(document.get('extends'))}",
                         "a policy file name beside this one (or a list of them)")
    for parent_name in extends:
        parent_header, parent_parameters, parent_files = _read_policy_file(
            path.parent / str(parent_name), seen + (path.resolve(),))
        header.update(parent_header)
        parameters.update(parent_parameters)
        files += parent_files
    for key in ("title", "title_zh", "method", "levels", "reference", "description"):
        if key in document:
            header[key] = document[key]
    if "title" in document and "title_zh" not in document:
        header.pop("title_zh", None)  # a new title makes the inherited translation wrong
    for leaf_path, node in _walk_leaves(document.get("parameters") or {}, file):
        where = f"parameter {leaf_path}"
        unknown = [k for k in node if k not in LEAF_KEYS]
        if unknown:
            raise InputError(file, where, f"unknown key {unknown[0]!r}",
                             "description, unit, reference, values")
        if leaf_path not in SCHEMA:
            raise InputError(file, where, "unknown parameter",
                             "a documented parameter path" + _suggest(leaf_path, SCHEMA))
        inherited = parameters.get(leaf_path)
        meta = {}
        for key in ("description", "unit", "reference"):
            meta[key] = node.get(key, getattr(inherited, key, None) if inherited else None)
            if not meta[key]:
                raise InputError(file, where, f"missing {key}",
                                 "description, unit and reference on every parameter")
        values = node["values"]
        if not isinstance(values, dict) or not values:
            raise InputError(file, where, f"values {show(values)}",
                             "a mapping of dates to values, e.g. 2024-01-01: 0.9")
        dated = {parse_date(d, file, f"{where}, date {d}"): v for d, v in values.items()}
        parameters[leaf_path] = Parameter(leaf_path, meta["description"], meta["unit"],
                                          meta["reference"], dated, file)
    files.append(file)
    return header, parameters, files


def _check_policy(policy: Policy, file_of: Callable[[str], str]) -> None:
    """Whole-policy checks: every value in bounds, required parameters present, consistency."""
    for path, parameter in policy.parameters.items():
        spec = SCHEMA[path]
        if policy.method not in spec.methods:
            raise InputError(file_of(path), f"parameter {path}",
                             f"is not a parameter of the {policy.method} method",
                             f"parameters of {policy.method}"
                             + _suggest(path, _paths_for(policy.method)))
        for date, value in sorted(parameter.values.items()):
            where = f"parameter {path}, date {date.isoformat()}"

            def fail(problem: str, expected: str, where: str = where, path: str = path) -> None:
                raise InputError(file_of(path), where, problem, expected)

            check_value(path, value, policy.levels, fail)
            if spec.warn_below is not None and _is_number(value) and value < spec.warn_below:
                policy.warnings.append(f"{file_of(path)}, {where}: {value} is below "
                                       f"{spec.warn_below:g} ({spec.warn_text})")
            if path == "coefficients.level" and value is not None:
                _check_level_order(value, policy.levels, fail)
    missing = [p for p in _paths_for(policy.method) if p not in policy.parameters]
    if missing:
        raise InputError(policy.files[-1], f"parameter {missing[0]}", "missing",
                         f"every parameter of the {policy.method} method")
    if policy.method == "all_inclusive":
        for date in policy.parameters["all_inclusive.short_stay_days"].values:
            short = policy.value("all_inclusive.short_stay_days", date)
            long = policy.value("all_inclusive.long_stay_days", date)
            if short >= long:
                raise InputError(file_of("all_inclusive.long_stay_days"),
                                 f"parameter all_inclusive.long_stay_days, date {date}",
                                 f"value {long} is not above short_stay_days {short}",
                                 "long stay threshold > short stay threshold (§5)")


def _check_level_order(value: dict, levels: tuple[str, ...], fail) -> None:
    """§1.6: a lower level may not have a higher coefficient than the level above it."""
    for lower, higher in zip(levels, levels[1:], strict=False):
        if value[lower] > value[higher]:
            fail(f"level {lower} coefficient {value[lower]} is above level {higher} "
                 f"coefficient {value[higher]}", "coefficients non-decreasing with level (§1.6)")


def _paths_for(method: str) -> list[str]:
    return [path for path, spec in SCHEMA.items() if method in spec.methods]


def load_policy(path: str | Path, reforms: Iterable[str | Path] = ()) -> Policy:
    """Load a policy file (and what it extends), apply reforms in order, validate everything."""
    path = Path(path)
    header, parameters, files = _read_policy_file(path, ())
    file = str(path)
    if "parameters" not in read_yaml(path) and not files[:-1]:
        raise InputError(file, None, "no parameters", "a 'parameters' tree or 'extends'")
    method = header.get("method")
    if method not in METHODS:
        raise InputError(file, "method", f"value {show(method)}", "one of " + ", ".join(METHODS))
    levels = header.get("levels", list(DEFAULT_LEVELS))
    if (not isinstance(levels, list) or not levels or len(set(levels)) != len(levels)
            or not all(isinstance(level, str) and level for level in levels)):
        raise InputError(file, "levels", f"value {show(levels)}",
                         "a list of distinct level names, lowest first")
    title = header.get("title")
    _check_title(title, file, "title")
    title_zh = header.get("title_zh")
    if title_zh is not None:
        _check_title(title_zh, file, "title_zh")
    policy = Policy(title, method, tuple(levels), parameters, files, title_zh=title_zh)
    main = str(path)

    def file_of(parameter_path: str) -> str:
        """The file that set the value; an inherited value names the file that extends it too,
        since that file's method or levels may be what makes the value wrong."""
        source = policy.parameters[parameter_path].file
        return source if source == main else f"{main} (value from {source}, which it extends)"

    _check_policy(policy, file_of)
    for reform_path in reforms:
        apply_reform(policy, Path(reform_path))
    return policy


MAX_TITLE, MAX_RATIONALE = 200, 20_000


def _check_title(title: object, file: str, key: str) -> None:
    if title is None or (isinstance(title, str) and not title.strip()):
        raise InputError(file, key, "missing", "a one-line title")
    if not isinstance(title, str) or "\n" in title.strip() or len(title) > MAX_TITLE:
        raise InputError(file, key, f"value {show(title)}",
                         f"a one-line title of at most {MAX_TITLE} characters")


def apply_reform(policy: Policy, path: Path) -> None:
    """Validate a reform file whole, then apply its dated changes to ``policy`` (in place)."""
    file = str(path)
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise InputError(file, None, f"top level is {show(document)}",
                         "a mapping with title, rationale and changes")
    unknown = [k for k in document if k not in REFORM_KEYS]
    if unknown:
        raise InputError(file, f"key {unknown[0]!r}", "unknown top-level key",
                         "title, title_zh (optional), rationale (optional), changes")
    title = document.get("title")
    _check_title(title, file, "title")
    title_zh = document.get("title_zh")
    if title_zh is not None:
        _check_title(title_zh, file, "title_zh")
    rationale = document.get("rationale")
    if rationale is not None and len(json.dumps(rationale, default=str)) > MAX_RATIONALE:
        raise InputError(file, "rationale", f"{len(json.dumps(rationale, default=str)):,} "
                         "characters", f"a rationale of at most {MAX_RATIONALE:,} characters")
    changes = document.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise InputError(file, "changes", f"value {show(changes)}",
                         "a mapping of parameter paths to {date: value}")
    parsed: dict[str, dict[dt.date, Any]] = {}
    behaviour: dict[str, tuple[dt.date, Any]] = {}
    valid_paths = _paths_for(policy.method)
    for change_path, dated in changes.items():
        change_path = str(change_path)
        where = f"changes.{change_path}"
        if behaviour_parameters.is_behaviour(change_path):
            behaviour[change_path] = _behaviour_change(change_path, dated, file, where)
            continue
        if change_path not in SCHEMA:
            raise InputError(file, where, "unknown parameter",
                             "a documented parameter path" + _suggest(
                                 change_path, valid_paths + behaviour_parameters.behaviour_paths()))
        if change_path not in policy.parameters:
            raise InputError(file, where,
                             f"is not a parameter of the baseline policy ({policy.method} method)",
                             "one of its parameters" + _suggest(change_path, valid_paths))
        if not isinstance(dated, dict) or not dated:
            raise InputError(file, where, f"value {show(dated)}",
                             "a mapping of dates to values, e.g. 2024-01-01: 0.2")
        parsed[change_path] = {parse_date(d, file, f"{where}, date {d}"): v
                               for d, v in dated.items()}
    trial = copy.deepcopy(policy)
    for change_path, dated in parsed.items():
        parameter = trial.parameters[change_path]
        parameter.values = {**parameter.values, **dated}
        parameter.file = file
    trial.warnings = []
    _check_policy(trial, lambda p: trial.parameters[p].file)
    policy.parameters = trial.parameters
    policy.warnings += trial.warnings
    for change_path, (date, value) in behaviour.items():
        policy.behaviour[change_path] = value
        policy.behaviour_dates[change_path] = (date, file)
    policy.files.append(file)
    policy.reforms.append({"file": file, "title": title.strip(), "title_zh": title_zh,
                           "rationale": document.get("rationale")})


def _behaviour_change(path: str, dated: object, file: str, where: str) -> tuple[dt.date, Any]:
    """A reform's change of ``behaviour.<path>``: one value, dated (behaviour is not dated: the
    value holds for the whole run; :func:`check_in_force` refuses a date after the start)."""

    def fail(problem: str, expected: str) -> None:
        raise InputError(file, where, problem, expected)

    behaviour_parameters.check_behaviour_path(path, fail)
    if not isinstance(dated, dict) or not dated:
        fail(f"value {show(dated)}", "one dated value for the whole run, e.g. 2020-01-01: 900")
    if len(dated) > 1:
        fail(f"{len(dated)} dated values: behavioural parameters are not dated",
             "one value for the whole run, dated on or before its first year")
    (date_text, value), = dated.items()
    date = parse_date(date_text, file, f"{where}, date {date_text}")
    behaviour_parameters.check_behaviour_value(
        path, value, lambda problem, expected: fail(
            f"date {date.isoformat()}: {problem}", expected))
    return date, value


def set_values(policy: Policy, values: dict[str, Any], source: str) -> None:
    """Give parameters one value for the whole run (a sweep's design point; issue 11): a policy
    parameter's dated history is replaced by the value (from its first date), a behavioural one
    is set for the run; everything is checked as a reform is, and ``policy`` is changed only when
    all of it is valid. ``source`` names where the values come from in errors and records."""
    trial = copy.deepcopy(policy)
    valid_paths = _paths_for(policy.method)
    for path, value in values.items():
        where = f"parameter {path}"

        def fail(problem: str, expected: str, where: str = where) -> None:
            raise InputError(source, where, problem, expected)

        if behaviour_parameters.is_behaviour(path):
            behaviour_parameters.check_behaviour_path(path, fail)
            behaviour_parameters.check_behaviour_value(path, value, fail)
            trial.behaviour[path] = value
            trial.behaviour_dates.pop(path, None)
            continue
        if path not in trial.parameters:
            fail(f"is not a parameter of the baseline policy ({policy.method} method)"
                 if path in SCHEMA else "unknown parameter",
                 "a documented parameter path" + _suggest(
                     path, valid_paths + behaviour_parameters.behaviour_paths()))
        parameter = trial.parameters[path]
        parameter.values = {min(parameter.values): value}
        parameter.file = source
    trial.warnings = []
    _check_policy(trial, lambda p: trial.parameters[p].file)
    policy.parameters, policy.behaviour = trial.parameters, trial.behaviour
    policy.behaviour_dates = trial.behaviour_dates


def check_in_force(policy: Policy, start_year: int) -> None:
    """Every parameter has a value in force when a run starts (``--start-year``), and no
    behavioural value is dated after it (behaviour holds for the whole run)."""
    on = dt.date(start_year, 1, 1)
    for path, (date, file) in sorted(policy.behaviour_dates.items()):
        if date > on:
            raise InputError(file, f"changes.{path}, date {date.isoformat()}",
                             f"is after the run starts ({on.isoformat()}); behavioural "
                             "parameters are not dated",
                             f"one value dated on or before {on.isoformat()}: it holds for the "
                             "whole run, the burn-in year included")
    try:
        policy.resolved(on)
    except InputError as error:
        raise InputError("--start-year", None, f"value {start_year}: {error.file}, "
                         f"{error.where}: {error.problem}", error.expected) from None
