"""County alliances (紧密型县域医共体; POLICY_RULES §2.8; Guigang 第八条, 第二十一条).

Guigang 第八条: "覃塘区医保经办可对覃塘区紧密型县域医共体各成员单位drg付费等进行单独核算,经牵头医疗
机构提出,医保经办机构可统一打包支付给牵头医疗机构" — each member's DRG payment is accounted
separately (单独核算: every member is settled as if there were no alliance), and, when the lead
asks, the members' money is paid as one package to the lead. The package is therefore the sum
of the members' separately settled amounts (:func:`package_cents`), and routing it changes who
receives the money, not how much (:func:`paid_to`).

第二十一条 names "紧密型县域医共体双向转诊率" (the two-way referral rate within the county
alliance) among the assessment indicators tied to the year-end payment:
:func:`within_alliance_referral_rate`.

Hospitals are indices; ``alliance_of[h]`` is hospital h's alliance (−1: none).
"""

from __future__ import annotations

import numpy as np


def package_cents(amount_cents, alliance_of, n_alliances: int) -> np.ndarray:
    """Each alliance's package (§2.8; 第八条 单独核算 … 统一打包支付): the sum of its members'
    separately settled amounts, in whole cents (exact: no rounding, no cent created or lost)."""
    amount_cents = np.asarray(amount_cents, dtype=np.int64)
    alliance_of = np.asarray(alliance_of, dtype=np.int64)
    package = np.zeros(n_alliances, dtype=np.int64)
    member = alliance_of >= 0
    np.add.at(package, alliance_of[member], amount_cents[member])
    return package


def paid_to(alliance_of, lead, package_to_lead: bool) -> np.ndarray:
    """The hospital each hospital's money is paid to (§2.8; 第八条 "经牵头医疗机构提出,…可统一
    打包支付给牵头医疗机构"): its alliance's lead (``lead[a]``, a hospital index) when the package
    goes to the lead, else the hospital itself; a hospital outside every alliance is paid itself."""
    alliance_of = np.asarray(alliance_of, dtype=np.int64)
    own = np.arange(len(alliance_of))
    if not package_to_lead:
        return own
    lead = np.asarray(lead, dtype=np.int64)
    return np.where(alliance_of >= 0, lead[np.maximum(alliance_of, 0)], own)


def within_alliance_referral_rate(hospital, referred_from, alliance_of,
                                  n_hospitals: int) -> np.ndarray:
    """Each alliance member's two-way referral rate within its alliance (§2.8; 第二十一条
    "紧密型县域医共体双向转诊率").

    The reading: 双向转诊 is referral both ways, up (a primary member sends a patient to the
    lead) and down (the lead sends one back); a referral counts for both hospitals it joins, the
    one that sent the patient and the one that took them, when both are members of the same
    alliance. Rate = (referrals it received from a member of its alliance + referrals it sent to
    one) ÷ the cases it treated. Referrals to or from a hospital outside its alliance do not
    count (the text's rate is the alliance's, 医共体内); a hospital in no alliance, or with no
    cases, has no rate (NaN: the assessment does not score it).

    ``hospital`` is each case's hospital, ``referred_from`` the hospital that referred it (−1:
    not referred), both indices below ``n_hospitals``.
    """
    hospital = np.asarray(hospital, dtype=np.int64)
    referred_from = np.asarray(referred_from, dtype=np.int64)
    alliance_of = np.asarray(alliance_of, dtype=np.int64)
    origin_alliance = np.where(referred_from >= 0, alliance_of[np.maximum(referred_from, 0)], -1)
    within = (referred_from >= 0) & (alliance_of[hospital] >= 0) & (
        origin_alliance == alliance_of[hospital])
    received = np.bincount(hospital[within], minlength=n_hospitals)
    sent = np.bincount(referred_from[within], minlength=n_hospitals)
    cases = np.bincount(hospital, minlength=n_hospitals)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (received + sent) / cases
    return np.where((alliance_of >= 0) & (cases > 0), rate, np.nan)
