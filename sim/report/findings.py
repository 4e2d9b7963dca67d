"""What a comparison finds, reform by reform (issue 14): pure functions from the comparison's
stored replication tables to tidy frames, for the briefing's headline, paragraphs, fund
waterfall and hospital ranking.

Every figure is computed per replication first and differenced against the baseline's run of the
same replication (common random numbers: the comparison pairs them), then summarised as the mean
and the 5th–95th percentile across replications, with ``noise`` where that interval includes
zero. Two periods: ``cumulative`` (all simulated years) and ``final_year``.

- :func:`period_measures` / :func:`headline`: the fund's balance (pooled and per scheme, yuan),
  months of reserve, the share of cases coded up, money paid for upcoding and kept by audits,
  basic-group cases at primary and secondary hospitals.
- :func:`hospital_changes` / :func:`hospital_verdicts` / :func:`hospital_groups`: each
  hospital's margin change against the baseline (paired) and against fee-for-service for the same
  care (the fund's payment minus what the item rules would have paid, in the same run), and how
  many gain or lose by level and ownership.
- :func:`fund_waterfall`: the baseline's balance to the reform's, part by part (revenue, spending
  outside DRG inpatient care, inpatient payments by level before audits and caps, audit
  deductions kept by the fund, §2.7 caps); the parts add up to the total, and an amount the parts
  do not explain would be shown as such (never hidden in another part).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.experiments.compare import HIGH, LOW

PERIODS = ("cumulative", "final_year")
SCHEMES = ("employee", "resident")
LEVELS = ("primary", "secondary", "tertiary")
LOWER_LEVELS = ("primary", "secondary")
KEYS = ["scenario", "replication"]
# the fund's balance of a year = revenue − spending outside DRG − Σ hospitals' fund_payable, and
# fund_payable = (before caps + deducted points' value) − deducted points' value − caps (§2.7)
WATERFALL_PARTS = ("revenue", "non_drg_spending", *(f"inpatient_{level}" for level in LEVELS),
                   "audit_deductions", "caps")
UNEXPLAINED_TOLERANCE = 0.5  # yuan: below this a difference is float rounding, not a part


def interval(values: pd.Series) -> dict:
    """Mean and 5th–95th percentile of paired differences, and whether the interval includes
    zero (``noise``; a difference that is exactly zero in every replication is not noise)."""
    values = np.asarray(values, dtype=float)
    low, high = (float(v) for v in np.quantile(values, [LOW, HIGH]))
    flat = bool((values == 0).all())
    return {"mean": float(values.mean()), "p5": low, "p95": high,
            "noise": bool(low <= 0 <= high and not flat)}


def summarise(differences: pd.DataFrame, keys: list[str], column: str = "difference"
              ) -> pd.DataFrame:
    """:func:`interval` of ``column`` per ``keys``, for all groups at once."""
    by = [differences[k] for k in keys]
    grouped = differences[column].astype(float).groupby(by, sort=False)
    nonzero = (differences[column] != 0).groupby(by, sort=False).sum()
    table = pd.DataFrame({"mean": grouped.mean(), "p5": grouped.quantile(LOW),
                          "p95": grouped.quantile(HIGH)})
    table["noise"] = (table["p5"] <= 0) & (table["p95"] >= 0) & (nonzero.reindex(
        table.index) > 0)
    return table.reset_index()[[*keys, "mean", "p5", "p95", "noise"]]


def paired(values: pd.DataFrame, baseline: str, reforms: list[str], keys: list[str],
           column: str = "value") -> pd.DataFrame:
    """Reform − baseline of ``column`` per replication and ``keys`` (one row per reform ×
    replication × keys) with the baseline's and the reform's values beside it."""
    base = values[values["scenario"] == baseline][["replication", *keys, column]]
    pieces = []
    for reform in reforms:
        mine = values[values["scenario"] == reform][["replication", *keys, column]]
        both = mine.merge(base, on=["replication", *keys], suffixes=("", "_baseline"))
        pieces.append(pd.DataFrame({
            "scenario": reform, **{k: both[k] for k in ["replication", *keys]},
            "baseline": both[f"{column}_baseline"], "reform": both[column],
            "difference": both[column] - both[f"{column}_baseline"]}))
    columns = ["scenario", "replication", *keys, "baseline", "reform", "difference"]
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=columns)


def _period(table: pd.DataFrame, period: str) -> pd.DataFrame:
    return table if period == "cumulative" else table[table["year"] == table["year"].max()]


def period_measures(yearly: pd.DataFrame, by_level: pd.DataFrame) -> pd.DataFrame:
    """The headline measures of every scenario × replication × period (long: ``measure``,
    ``value``). ``yearly`` and ``by_level``: the comparison's ``replications/yearly`` and
    ``replications/yearly_by_level``.

    - ``fund_balance[_<scheme>]``: the balance of the year (revenue − spending), summed over the
      years of the period (cumulative: the change in the accumulated balance), yuan;
    - ``reserve_months[_<scheme>]``: cumulative: the months of reserve at the end of the last
      year (a stock, built by every year); final year: that year's balance in months of that
      year's average monthly spending (what the year adds to the reserve);
    - ``upcoded_share``: cases coded above their true group ÷ cases, over the period;
    - ``upcoding_paid``: yuan paid for the points gained by upcoding; ``audit_deducted_value``:
      yuan of the points the audits deducted (kept by the fund);
    - ``basic_share_lower_levels``: basic-group cases treated at primary and secondary hospitals
      ÷ all basic-group cases, over the period;
    - ``annual_point_value``: the mean of the years' annual point values (point method only).
    """
    frames = []
    for period in PERIODS:
        part = _period(yearly, period)
        grouped = part.groupby(KEYS)
        last = yearly[yearly["year"] == yearly["year"].max()].set_index(KEYS)
        columns: dict[str, pd.Series] = {}
        for suffix in ("", *(f"_{s}" for s in SCHEMES)):
            if f"fund_balance{suffix}" not in part:
                continue
            columns[f"fund_balance{suffix}"] = grouped[f"fund_balance{suffix}"].sum()
            if period == "cumulative":
                columns[f"reserve_months{suffix}"] = last[f"reserve_months{suffix}"]
            else:
                columns[f"reserve_months{suffix}"] = (last[f"fund_balance{suffix}"]
                                                      / (last[f"fund_spending{suffix}"] / 12))
        coded_up = (part["upcoded_share"] * part["admissions"]).groupby(
            [part[k] for k in KEYS]).sum()
        columns["upcoded_share"] = coded_up / grouped["admissions"].sum()
        for column in ("upcoding_paid", "audit_deducted_value"):
            if column in part:
                columns[column] = grouped[column].sum()
        if "annual_point_value" in part and part["annual_point_value"].notna().any():
            columns["annual_point_value"] = grouped["annual_point_value"].mean()
        levels = _period(by_level, period)
        basic = levels.groupby(KEYS)["basic_cases"].sum()
        lower = levels[levels["level"].isin(LOWER_LEVELS)].groupby(KEYS)["basic_cases"].sum()
        columns["basic_share_lower_levels"] = (lower.reindex(basic.index, fill_value=0)
                                               / basic.where(basic > 0))
        wide = pd.DataFrame(columns)
        wide.index.names = KEYS
        long = wide.reset_index().melt(id_vars=KEYS, var_name="measure", value_name="value")
        frames.append(long.assign(period=period))
    table = pd.concat(frames, ignore_index=True)
    return table[["scenario", "replication", "period", "measure", "value"]]


def headline(measures: pd.DataFrame, baseline: str, reforms: list[str]) -> pd.DataFrame:
    """Per reform × period × measure: the baseline's and the reform's mean, and the paired
    difference's mean, 5th–95th percentile and noise flag."""
    differences = paired(measures, baseline, reforms, ["period", "measure"])
    keys = ["scenario", "period", "measure"]
    table = summarise(differences, keys)
    means = differences.groupby(keys, sort=False)[["baseline", "reform"]].mean().reset_index()
    table = table.merge(means.rename(columns={"baseline": "baseline_mean",
                                              "reform": "reform_mean"}), on=keys)
    return table[[*keys, "baseline_mean", "reform_mean", "mean", "p5", "p95", "noise"]]


def hospital_changes(hospital_yearly: pd.DataFrame, baseline: str, reforms: list[str]
                     ) -> pd.DataFrame:
    """Per reform × replication × period × hospital, the change in the hospital's margin
    (receipts − cost), in yuan:

    - ``against = "baseline"``: the reform's margin − the baseline's, same replication;
    - ``against = "ffs"``: against fee-for-service for the same care — the fund's payment under
      the reform minus what the item rules would have paid for the same cases
      (``fund_payable − ffs_fund_paid`` of the reform's own run; patients pay the same share
      either way, so this is the margin's difference).
    """
    table = hospital_yearly.assign(
        ownership=np.where(hospital_yearly["private"].astype(bool), "private", "public"),
        against_ffs=hospital_yearly["fund_payable"] - hospital_yearly["ffs_fund_paid"])
    ids = ["hospital_id", "level", "ownership"]
    frames = []
    for period in PERIODS:
        part = _period(table, period).groupby([*KEYS, *ids], as_index=False)[
            ["margin", "against_ffs"]].sum()
        base = paired(part, baseline, reforms, ids, "margin")
        frames.append(base.assign(period=period, against="baseline",
                                  change=base["difference"]))
        own = part[part["scenario"].isin(reforms)]
        frames.append(own.assign(period=period, against="ffs", change=own["against_ffs"]))
    columns = ["scenario", "replication", "period", "against", *ids, "change"]
    return pd.concat([f[columns] for f in frames], ignore_index=True)


def hospital_verdicts(changes: pd.DataFrame) -> pd.DataFrame:
    """Per reform × period × against × hospital: the change's mean and interval, the verdict
    (``gain``: interval above zero, ``lose``: below, ``unclear``: includes zero) and the rank
    (1 = the largest gain). A region drawn per seed (the embedded default) may make a hospital
    public in one replication and private in another: its ``ownership`` is the one it has in
    most replications, ``mixed`` on a tie."""
    keys = ["scenario", "period", "against", "hospital_id", "level"]
    table = summarise(changes, keys, "change")
    private = (changes["ownership"] == "private").groupby(
        [changes[k] for k in keys], sort=False).mean().rename("private_share").reset_index()
    table = table.merge(private, on=keys)
    table.insert(len(keys), "ownership", np.select(
        [table["private_share"] > 0.5, table["private_share"] < 0.5], ["private", "public"],
        "mixed"))
    table = table.drop(columns="private_share")
    table["verdict"] = np.select([table["p5"] > 0, table["p95"] < 0], ["gain", "lose"],
                                 "unclear")
    table.loc[(table["mean"] == 0) & (table["p5"] == 0) & (table["p95"] == 0),
              "verdict"] = "unclear"
    table["rank"] = table.groupby(["scenario", "period", "against"])["mean"].rank(
        ascending=False, method="first").astype(int)
    return table.sort_values(["scenario", "period", "against", "rank"]).reset_index(drop=True)


def hospital_groups(changes: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per reform × period × against × group (``level`` and ``ownership``, ``all`` for all of
    them): hospitals, how many gain, lose or cannot be told from noise (by the ownership each
    has in most replications, :func:`hospital_verdicts`), and the group's total change (summed
    per replication over the hospitals of that ownership in that replication, then its mean and
    interval)."""
    rows = []
    for (scenario, period, against), mine in verdicts.groupby(
            ["scenario", "period", "against"], sort=False):
        theirs = changes[(changes["scenario"] == scenario) & (changes["period"] == period)
                         & (changes["against"] == against)]
        groups = [("all", "all")] + [(level, "all") for level in LEVELS] + [
            ("all", owner) for owner in ("public", "private")] + [
            (level, owner) for level in LEVELS for owner in ("public", "private")]
        for level, owner in groups:
            pick = np.ones(len(mine), bool)
            take = np.ones(len(theirs), bool)
            if level != "all":
                pick &= (mine["level"] == level).to_numpy()
                take &= (theirs["level"] == level).to_numpy()
            if owner != "all":
                pick &= (mine["ownership"] == owner).to_numpy()
                take &= (theirs["ownership"] == owner).to_numpy()
            if not pick.any():
                continue
            counts = mine[pick]["verdict"].value_counts()
            total = theirs[take].groupby("replication")["change"].sum()
            rows.append({"scenario": scenario, "period": period, "against": against,
                         "level": level, "ownership": owner, "hospitals": int(pick.sum()),
                         **{v: int(counts.get(v, 0)) for v in ("gain", "lose", "unclear")},
                         **interval(total)})
    return pd.DataFrame(rows)


def waterfall_parts(yearly: pd.DataFrame, hospital_yearly: pd.DataFrame) -> pd.DataFrame:
    """Per scenario × replication × period: the fund's balance and its parts as effects on it
    (yuan, + raises the balance): ``revenue``, ``non_drg_spending`` (−), ``inpatient_<level>``
    (− the fund's inpatient payments to that level's hospitals before audit deductions and
    caps), ``audit_deductions`` (+ the deducted points' value, kept by the fund), ``caps`` (+ the
    §2.7 surplus and self-pay caps)."""
    hospitals = hospital_yearly.assign(
        gross=hospital_yearly["fund_payable_before_caps"]
        + hospital_yearly["deducted_points_value"])
    frames = []
    for period in PERIODS:
        years = _period(yearly, period).groupby(KEYS)
        part = _period(hospitals, period)
        by_level = part.pivot_table(index=KEYS, columns="level", values="gross",
                                    aggfunc="sum").reindex(columns=list(LEVELS), fill_value=0.0)
        sums = part.groupby(KEYS)[["deducted_points_value", "caps_deduction"]].sum()
        wide = pd.DataFrame({
            "balance": years["fund_balance"].sum(),
            "revenue": years["fund_revenue"].sum(),
            "non_drg_spending": -years["fund_other_spending"].sum(),
            **{f"inpatient_{level}": -by_level[level].fillna(0.0) for level in LEVELS},
            "audit_deductions": sums["deducted_points_value"],
            "caps": sums["caps_deduction"],
        })
        wide.index.names = KEYS
        frames.append(wide.reset_index().assign(period=period))
    return pd.concat(frames, ignore_index=True)


def fund_waterfall(parts: pd.DataFrame, baseline: str, reforms: list[str]) -> pd.DataFrame:
    """Per reform × period: the steps from the baseline's balance to the reform's, in order:
    ``start`` (the baseline's balance, mean over replications), each part's paired difference
    (mean, 5th–95th percentile, noise), ``unexplained`` only when the parts miss the balance's
    change by ``UNEXPLAINED_TOLERANCE`` yuan or more, and ``end`` (the reform's balance); with
    the running total before and after each step, so that ``start`` + the parts = ``end``."""
    rows = []
    long = parts.melt(id_vars=[*KEYS, "period"], var_name="part", value_name="value")
    differences = paired(long, baseline, reforms, ["period", "part"])
    for reform in reforms:
        for period in PERIODS:
            mine = differences[(differences["scenario"] == reform)
                               & (differences["period"] == period)]
            if mine.empty:
                continue
            balance = mine[mine["part"] == "balance"]
            start, end = float(balance["baseline"].mean()), float(balance["reform"].mean())
            steps = [{"part": "start", "kind": "total", "mean": start, "p5": np.nan,
                      "p95": np.nan, "noise": False}]
            explained = pd.Series(0.0, index=balance["replication"].to_numpy())
            for name in WATERFALL_PARTS:
                values = mine[mine["part"] == name].set_index("replication")["difference"]
                explained = explained.add(values, fill_value=0.0)
                steps.append({"part": name, "kind": "part", **interval(values)})
            left = balance.set_index("replication")["difference"] - explained
            if left.abs().max() >= UNEXPLAINED_TOLERANCE:
                steps.append({"part": "unexplained", "kind": "part", **interval(left)})
            steps.append({"part": "end", "kind": "total", "mean": end, "p5": np.nan,
                          "p95": np.nan, "noise": False})
            running = start
            for order, step in enumerate(steps):
                before = 0.0 if step["kind"] == "total" else running
                after = step["mean"] if step["kind"] == "total" else running + step["mean"]
                running = after
                rows.append({"scenario": reform, "period": period, "order": order, **step,
                             "before": before, "after": after})
    columns = ["scenario", "period", "order", "part", "kind", "mean", "p5", "p95", "noise",
               "before", "after"]
    return pd.DataFrame(rows, columns=columns)
