"""County alliances (紧密型县域医共体, POLICY_RULES §2.8; Guigang 第八条, 第二十一条, 第二十三条) as
named data: ``{alliance name: {lead: hospital_id, members: [hospital_id, ...]}}``.

One checker serves the policy parameter ``alliances.members`` and the ``alliances.named``
section of a region file (:mod:`sim.inputs.region`): each alliance a mapping with exactly
``lead`` and ``members``; members a non-empty list of distinct hospital ids (text, or whole
numbers read as text); the lead among them; no hospital in two alliances. Whether the ids exist is
known only with the cases (``drgsim settle``) or the region (model runs): see :func:`indexed`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.errors import show

EXPECTED = ("{alliance name: {lead: hospital_id, members: [hospital_id, ...]}}, the lead among "
            "the members, no hospital in two alliances")


@dataclass(frozen=True)
class Alliance:
    """One county alliance: its name, its lead hospital (牵头医疗机构) and all its members, the
    lead included (成员单位), as hospital ids."""

    name: str
    lead: str
    members: tuple[str, ...]


def _hospital_id(value: object) -> str | None:
    """A hospital id as text: text, or a whole number as YAML reads an unquoted id."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def check_alliances(value: object, fail: Callable[[str, str], None]) -> None:
    """Check the structure of a mapping of alliances; ``fail(problem, expected)`` raises. Null
    and an empty mapping mean no alliance."""
    if value is None or value == {}:
        return
    if not isinstance(value, dict):
        fail(f"value {show(value)} is not a mapping of alliances", EXPECTED)
    seen: dict[str, str] = {}
    for name, entry in value.items():
        if _hospital_id(name) is None:
            fail(f"alliance name {show(name)} is not a name", EXPECTED)
        where = f"alliance {name}"
        if not isinstance(entry, dict) or set(entry) != {"lead", "members"}:
            fail(f"{where}: {show(entry)} is not {{lead, members}}", EXPECTED)
        members = entry["members"]
        if not isinstance(members, list) or not members:
            fail(f"{where}: members {show(members)} is not a list of hospital ids", EXPECTED)
        ids = [_hospital_id(member) for member in members]
        if None in ids:
            fail(f"{where}: member {show(members[ids.index(None)])} is not a hospital id",
                 EXPECTED)
        twice = next((i for i in ids if ids.count(i) > 1), None)
        if twice is not None:
            fail(f"{where}: hospital {twice} is listed twice", EXPECTED)
        lead = _hospital_id(entry["lead"])
        if lead is None:
            fail(f"{where}: lead {show(entry['lead'])} is not a hospital id", EXPECTED)
        if lead not in ids:
            fail(f"{where}: lead {lead} is not among its members", EXPECTED)
        for hospital in ids:
            if hospital in seen:
                fail(f"hospital {hospital} is in two alliances ({seen[hospital]} and {name})",
                     EXPECTED)
            seen[hospital] = str(name)


def parse_alliances(value: object) -> tuple[Alliance, ...]:
    """Checked alliances as :class:`Alliance` records, in the order given (null: none)."""
    if not value:
        return ()
    return tuple(Alliance(str(name), _hospital_id(entry["lead"]),
                          tuple(_hospital_id(m) for m in entry["members"]))
                 for name, entry in value.items())


def as_mapping(alliances: tuple[Alliance, ...]) -> dict:
    """Alliances as plain data (run records, summaries)."""
    return {a.name: {"lead": a.lead, "members": list(a.members)} for a in alliances}


def indexed(alliances: tuple[Alliance, ...], hospital_ids) -> tuple[np.ndarray, np.ndarray,
                                                                     list[str]]:
    """Alliances over a table's hospitals: the alliance of each hospital (−1: none), the
    hospital index of each alliance's lead (−1: the lead is not among ``hospital_ids``) and the
    members that are not among ``hospital_ids`` (named in a warning by the caller)."""
    position = {str(h): i for i, h in enumerate(hospital_ids)}
    alliance_of = np.full(len(position), -1, dtype=np.int64)
    lead = np.full(len(alliances), -1, dtype=np.int64)
    missing = []
    for index, alliance in enumerate(alliances):
        lead[index] = position.get(alliance.lead, -1)
        for member in alliance.members:
            if member in position:
                alliance_of[position[member]] = index
            else:
                missing.append(member)
    return alliance_of, lead, missing
