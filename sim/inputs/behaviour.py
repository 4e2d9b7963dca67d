"""Behavioural parameters as documented parameters, addressable as ``behaviour.<path>``.

One parameter tree (issue 11, part 1): the policy's parameters (:data:`sim.inputs.policy.SCHEMA`)
and the region model's behavioural ones are named the same way, by path, in reforms, sweeps and
``drgsim params``. For behaviour, as for the policy, each thing is said once:

- the **values** are the region file's ``behaviour`` section (``scenarios/regions/default.yaml``);
- the **kinds and bounds** are ``sim.inputs.region.REGION_SCHEMA["behaviour"]`` (code, so that no
  file can loosen its own validation), flattened here to paths (:func:`behaviour_fields`);
- the **description, unit, source** (measured, calibrated or assumed) and **reference** of every
  leaf are ``scenarios/regions/_behaviour.yaml`` (:func:`behaviour_docs`); a test keeps the two
  in step.

Behaviour is not dated: a reform gives one value for the whole run (the burn-in year included),
dated on or before the run's first year; :func:`with_behaviour` puts such values into a region
configuration, checked against the bounds.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from sim.errors import InputError, show
from sim.inputs.region import REGION_SCHEMA, Field
from sim.inputs.yamlfile import read_yaml
from sim.resources import shipped

PREFIX = "behaviour."
DOC_KEYS = {"description", "unit", "source", "reference"}
SOURCES = ("measured", "calibrated", "assumed")
WHOLE = {"choice_set.outside_secondary", "choice_set.outside_tertiary"}  # counts of hospitals


def _flatten(tree: dict, prefix: str = "") -> dict[str, Field]:
    leaves: dict[str, Field] = {}
    for key, node in tree.items():
        path = f"{prefix}{key}"
        if isinstance(node, dict):
            leaves.update(_flatten(node, path + "."))
        else:
            leaves[path] = node
    return leaves


@cache
def behaviour_fields() -> dict[str, Field]:
    """Every behavioural leaf by path (without the ``behaviour.`` prefix), with its bounds."""
    return _flatten(REGION_SCHEMA["behaviour"])


def behaviour_paths() -> list[str]:
    """Every behavioural parameter as addressed in reforms and sweeps (``behaviour.<path>``)."""
    return [PREFIX + path for path in behaviour_fields()]


def is_behaviour(path: str) -> bool:
    return path.startswith(PREFIX) or path == PREFIX.rstrip(".")


@cache
def behaviour_docs() -> dict[str, dict[str, str]]:
    """Description, unit, source and reference of every leaf, from ``_behaviour.yaml``."""
    path = shipped("regions", "_behaviour", ".yaml")
    document = read_yaml(path)
    file = str(path)
    docs: dict[str, dict[str, str]] = {}

    def walk(tree: dict, prefix: str) -> None:
        for key, node in tree.items():
            leaf = f"{prefix}{key}"
            if not isinstance(node, dict):
                raise InputError(file, f"parameters.{leaf}", f"value {show(node)}",
                                 "description, unit, source, reference")
            if "description" in node:
                if set(node) != DOC_KEYS or node["source"] not in SOURCES:
                    raise InputError(file, f"parameters.{leaf}", f"keys {sorted(node)}",
                                     "description, unit, source (measured|calibrated|"
                                     "assumed), reference")
                docs[leaf] = {k: str(node[k]) for k in DOC_KEYS}
            else:
                walk(node, leaf + ".")

    walk(document["parameters"], "")
    return docs


def bounds_text(field: Field) -> str:
    low = "−∞" if field.low is None else f"{field.low:g}"
    high = "∞" if field.high is None else f"{field.high:g}"
    return f"a number in [{low}, {high}]"


def bounds(path: str) -> tuple[float | None, float | None]:
    """The lower and upper bound of ``behaviour.<path>`` (None: unbounded)."""
    field = behaviour_fields()[path.removeprefix(PREFIX)]
    return field.low, field.high


def kind(path: str) -> str:
    """``number``, ``integer`` (a count) or ``numbers`` (a list, e.g. choice.level)."""
    leaf = path.removeprefix(PREFIX)
    return "integer" if leaf in WHOLE else behaviour_fields()[leaf].kind


def suggest(path: str, candidates: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the closest candidate path, or nothing."""
    candidates = list(candidates)
    close = difflib.get_close_matches(path, candidates, n=1, cutoff=0.5)
    if not close:
        tail = path.rsplit(".", 1)[-1]
        close = [c for c in candidates if c.rsplit(".", 1)[-1] == tail][:1]
    return f" (did you mean {close[0]}?)" if close else ""


def check_behaviour_path(path: str, fail: Callable[[str, str], None]) -> None:
    """An unknown ``behaviour.`` path fails with the closest known one."""
    if path.removeprefix(PREFIX) not in behaviour_fields():
        fail("unknown parameter", "a documented behavioural parameter path"
             + suggest(path, behaviour_paths()))


def check_behaviour_value(path: str, value: Any, fail: Callable[[str, str], None]) -> None:
    """One value of ``behaviour.<path>``: its kind and bounds; ``fail(problem, expected)``."""
    leaf = path.removeprefix(PREFIX)
    field = behaviour_fields()[leaf]
    numbers = value if field.kind == "numbers" else [value]
    if field.kind == "numbers":
        current = None
        if not isinstance(value, list) or not value:
            fail(f"value {show(value)} is not a list of numbers", "a list of numbers")
        current = len(value)
        if leaf == "choice.level" and current != 3:
            fail(f"value {show(value)} has {current} numbers",
                 "3 numbers: primary, secondary, tertiary")
    for number in numbers:
        if not (isinstance(number, int | float) and not isinstance(number, bool)
                and number == number and number not in (float("inf"), float("-inf"))):
            fail(f"value {show(number)} is not a number", bounds_text(field))
        if field.low is not None and number < field.low:
            fail(f"value {number} is below the lower bound {field.low:g}", bounds_text(field))
        if field.high is not None and number > field.high:
            fail(f"value {number} is above the upper bound {field.high:g}", bounds_text(field))
        if leaf in WHOLE and number != int(number):
            fail(f"value {number} is not a whole number", "a whole number of hospitals ≥ 0")


def get_behaviour(config: dict, path: str) -> Any:
    node: Any = config["behaviour"]
    for part in path.removeprefix(PREFIX).split("."):
        node = node[part]
    return node


def with_behaviour(config: dict, values: dict[str, Any]) -> dict:
    """A region configuration with ``behaviour.<path>`` values set (checked: path and bounds);
    ``config`` itself is not changed. No values: ``config`` as it is."""
    if not values:
        return config
    changed = dict(config)
    changed["behaviour"] = copy.deepcopy(config["behaviour"])
    for path, value in values.items():

        def fail(problem: str, expected: str, path: str = path) -> None:
            raise InputError(None, f"parameter {path}", problem, expected)

        check_behaviour_path(path, fail)
        check_behaviour_value(path, value, fail)
        node = changed["behaviour"]
        *parents, last = path.removeprefix(PREFIX).split(".")
        for part in parents:
            node = node[part]
        node[last] = int(value) if path.removeprefix(PREFIX) in WHOLE else value
    return changed


def describe_behaviour(config: dict, region_file: str, overrides: dict[str, Any]) -> list[str]:
    """Lines of the behavioural tree (for ``drgsim params``): value, unit, source, reference;
    a value a reform changes is marked with the region's own beside it."""
    docs = behaviour_docs()
    lines = [f"behaviour:  [region {region_file}; not dated: one value for the whole run]"]
    previous: list[str] = []
    for leaf in behaviour_fields():
        path = PREFIX + leaf
        parts = leaf.split(".")
        for depth, part in enumerate(parts[:-1]):
            if previous[: depth + 1] != parts[: depth + 1]:
                lines.append("  " * (depth + 1) + part + ":")
        previous = parts
        indent = "  " * len(parts)
        own = get_behaviour(config, path)
        value = overrides.get(path, own)
        note = f" (reform; region {own})" if path in overrides else ""
        doc = docs[leaf]
        lines.append(f"{indent}{parts[-1]}: {value}{note}  [{doc['unit']}]  "
                     f"({doc['source']}; {doc['reference']})")
        lines.append(f"{indent}    {doc['description']}")
    return lines
