"""The findings of a comparison in the briefing (issue 14): for each reform a paragraph in
Chinese or English generated from the numbers of :mod:`sim.report.findings` (what changes, how
sure we are, and the mechanism from the model's own decomposition of the fund), a table of the
whole period and the last year (fund per scheme and pooled, hospitals, coding, referral), and the
hospitals by level and ownership; and the tables written beside the report
(``findings_headline.csv``, ``fund_waterfall.csv``, ``hospital_ranking.csv``,
``hospital_groups.csv``).
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.report.findings import (
    LEVELS,
    fund_waterfall,
    headline,
    hospital_changes,
    hospital_groups,
    hospital_verdicts,
    period_measures,
    waterfall_parts,
)
from sim.report.labels import level_name, quantities, text

WATERFALL_COLUMNS = ("fund_payable_before_caps", "deducted_points_value", "caps_deduction")
# the rows of the headline table: (measure, kind, scale, decimals)
ROWS = (("fund_balance", "money", 1.0, None), ("fund_balance_employee", "money", 1.0, None),
        ("fund_balance_resident", "money", 1.0, None), ("reserve_months", "months", 1.0, 2),
        ("reserve_months_employee", "months", 1.0, 2),
        ("reserve_months_resident", "months", 1.0, 2),
        ("hospitals_baseline", None, 1.0, None), ("hospitals_ffs", None, 1.0, None),
        ("upcoded_share", "share_points", 100.0, 2), ("upcoding_paid", "money", 1.0, None),
        ("audit_deducted_value", "money", 1.0, None),
        ("basic_share_lower_levels", "share_points", 100.0, 2))
TABLES = {"findings_headline": "headline", "fund_waterfall": "waterfall",
          "hospital_ranking": "verdicts", "hospital_groups": "groups"}
SHARE_OF_LARGEST = 0.1  # a part of the fund's change is named when at least this × the largest
REDISTRIBUTION = 0.5    # level parts "shared out": |their sum| under this × the sum of |parts|


@dataclass
class Findings:
    headline: pd.DataFrame
    verdicts: pd.DataFrame
    groups: pd.DataFrame
    waterfall: pd.DataFrame | None  # None for a folder written before the parts were recorded

    def stat(self, reform: str, period: str, measure: str) -> dict | None:
        rows = self.headline[(self.headline["scenario"] == reform)
                             & (self.headline["period"] == period)
                             & (self.headline["measure"] == measure)]
        return None if rows.empty else rows.iloc[0].to_dict()

    def group(self, reform: str, period: str, against: str, level: str = "all",
              ownership: str = "all") -> dict | None:
        groups = self.groups
        rows = groups[(groups["scenario"] == reform) & (groups["period"] == period)
                      & (groups["against"] == against) & (groups["level"] == level)
                      & (groups["ownership"] == ownership)]
        return None if rows.empty else rows.iloc[0].to_dict()


def compute_findings(comparison) -> Findings:
    """The findings of a loaded comparison (:class:`sim.report.compare_charts.Comparison`)."""
    raw, base, reforms = comparison.raw, comparison.baseline, comparison.reforms
    yearly, hospitals = raw["yearly"], raw["hospital_yearly"]
    changes = hospital_changes(hospitals, base, reforms)
    verdicts = hospital_verdicts(changes)
    waterfall = None
    if all(column in hospitals for column in WATERFALL_COLUMNS):
        waterfall = fund_waterfall(waterfall_parts(yearly, hospitals), base, reforms)
    return Findings(headline(period_measures(yearly, raw["yearly_by_level"]), base, reforms),
                    verdicts, hospital_groups(changes, verdicts), waterfall)


def write_tables(findings: Findings, folder: Path) -> list[Path]:
    """The findings' tables as CSV in the comparison folder (each written whole, then renamed)."""
    paths = []
    for name, attribute in TABLES.items():
        table = getattr(findings, attribute)
        if table is None:
            continue
        path = Path(folder) / f"{name}.csv"
        partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
        table.to_csv(partial, index=False, lineterminator="\n")
        os.replace(partial, path)
        paths.append(path)
    return paths


# ---- words ----------------------------------------------------------------------------------

def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def missing(stat: dict | None) -> bool:
    return stat is None or any(not math.isfinite(float(stat[k])) for k in ("mean", "p5", "p95"))


def span(comparison) -> dict:
    return {"first": int(comparison.meta["start_year"]), "last": comparison.last_year}


def signed_money(lang: str, value: float) -> str:
    return quantities(lang, "money", [value], signed=True)[0]


def period_effect(lang: str, stat: dict | None, kind: str, scale: float = 1.0,
                  decimals: int | None = None, up: str = "more", down: str = "less") -> str:
    from sim.report.briefing import effect

    return "–" if missing(stat) else effect(lang, stat, kind, up, down, scale=scale,
                                              decimals=decimals)


def part_name(lang: str, part: str) -> str:
    return text(lang, f"part.{part}")


def mechanism(comparison, findings: Findings, lang: str, reform: str) -> list[str]:
    """The sentences that say why the fund's balance moves: the surprise when coding and the
    fund move the way intuition does not expect, the largest parts of the waterfall (whole
    period), and the redistribution between levels under a global budget."""
    from sim.report.briefing import sentence

    if findings.waterfall is None:
        return []
    rows = findings.waterfall[(findings.waterfall["scenario"] == reform)
                              & (findings.waterfall["period"] == "cumulative")
                              & (findings.waterfall["kind"] == "part")]
    rows = rows[rows["mean"] != 0]
    if rows.empty:
        return []
    largest = rows["mean"].abs().max()
    named = rows[rows["mean"].abs() >= SHARE_OF_LARGEST * largest].sort_values(
        "mean", key=lambda m: -m.abs())
    sentences = []
    balance, coded = (findings.stat(reform, "cumulative", m) for m in ("fund_balance",
                                                                        "upcoded_share"))
    clear = not missing(balance) and not missing(coded) and not balance["noise"] and not coded[
        "noise"] and balance["mean"] != 0 and coded["mean"] != 0
    if clear and (balance["mean"] < 0) == (coded["mean"] < 0):
        sentences.append(sentence(lang, [text(lang, "para.surprise.fund_pays_more"
                                              if balance["mean"] < 0
                                              else "para.surprise.fund_pays_less")]))
    parts = [text(lang, "para.why.part", part=part_name(lang, row["part"]),
                  direction=text(lang, "para.why.raises" if row["mean"] > 0
                                 else "para.why.lowers"),
                  amount=quantities(lang, "money", [abs(row["mean"])])[0])
             for _, row in named.iterrows()]
    sentences.append(sentence(lang, [text(lang, "para.why",
                                          parts=text(lang, "list_sep").join(parts))]))
    levels = rows[rows["part"].str.startswith("inpatient_")]
    spread = levels["mean"].abs().sum()
    point = findings.stat(reform, "final_year", "annual_point_value")
    if (len(levels) > 1 and (levels["mean"] > 0).any() and (levels["mean"] < 0).any()
            and abs(levels["mean"].sum()) < REDISTRIBUTION * spread and not missing(point)):
        # as changes in what the fund pays each level (the parts are effects on the balance)
        shown = [f"{level_name(lang, row['part'].removeprefix('inpatient_'))} "
                 f"{signed_money(lang, -row['mean'])}" for _, row in levels.iterrows()]
        sentences.append(sentence(lang, [text(
            lang, "para.budget.up" if point["mean"] > 0 else "para.budget.down",
            total=signed_money(lang, -levels["mean"].sum()),
            levels=text(lang, "list_sep").join(shown),
            point=quantities(lang, "point", [point["mean"]], signed=True)[0],
            **span(comparison))]))
    return sentences


def paragraph(comparison, findings: Findings, lang: str, reform: str) -> str:
    """One paragraph for ``reform``: the fund (whole period, per scheme, months of reserve, the
    last year), why (:func:`mechanism`), hospitals against the baseline and fee-for-service,
    coding, referral, and how many of these figures are clear of noise. A figure the folder does
    not have is left out with its clause."""
    from sim.report.briefing import sentence

    name, years = comparison.name(reform, lang), span(comparison)

    def stat(measure: str, period: str = "cumulative") -> dict | None:
        return findings.stat(reform, period, measure)

    def clause(key: str, **stats: tuple) -> str | None:
        """``key`` filled with each named effect, or None when one of them is missing."""
        if any(missing(arguments[0]) for arguments in stats.values()):
            return None
        return text(lang, key, reform=name, **years,
                    **{slot: period_effect(lang, *arguments) for slot, arguments in
                       stats.items()})

    money, points = ("money",), ("share_points", 100.0, 2, "higher", "lower")
    sentences = [
        sentence(lang, [clause("para.fund", effect=(stat("fund_balance"), *money)),
                        clause("para.fund.schemes",
                               employee=(stat("fund_balance_employee"), *money),
                               resident=(stat("fund_balance_resident"), *money)),
                        clause("para.fund.months",
                               months=(stat("reserve_months"), "months", 1.0, 2, "higher",
                                       "lower"))]),
        sentence(lang, [clause("para.fund.final",
                               final=(stat("fund_balance", "final_year"), *money))]),
        *mechanism(comparison, findings, lang, reform)]
    versus = findings.group(reform, "cumulative", "baseline")
    if versus is not None:
        biggest = findings.groups[(findings.groups["scenario"] == reform)
                                  & (findings.groups["period"] == "cumulative")
                                  & (findings.groups["against"] == "baseline")
                                  & (findings.groups["level"] != "all")
                                  & (findings.groups["ownership"] != "all")]
        clauses = []
        if not biggest.empty:
            top = biggest.loc[biggest["mean"].abs().idxmax()]
            clauses.append(text(
                lang, "para.hospitals", total=versus["hospitals"], gain=versus["gain"],
                lose=versus["lose"], unclear=versus["unclear"],
                group=group_name(lang, top["level"], top["ownership"]),
                change=period_effect(lang, top.to_dict(), "money")))
        ffs = findings.group(reform, "cumulative", "ffs")
        if ffs is not None:
            clauses.append(text(lang, "para.ffs", gain=ffs["gain"], lose=ffs["lose"]))
        sentences.append(sentence(lang, clauses))
    sentences += [
        sentence(lang, [clause("para.coding", share=(stat("upcoded_share"), *points)),
                        clause("para.coding.final",
                               final=(stat("upcoded_share", "final_year"), *points)),
                        clause("para.coding.paid", paid=(stat("upcoding_paid"), *money)),
                        clause("para.coding.kept",
                               kept=(stat("audit_deducted_value"), *money))]),
        sentence(lang, [clause("para.referral",
                               effect=(stat("basic_share_lower_levels"), *points))])]
    shown = [findings.stat(reform, period, measure) for period in ("cumulative", "final_year")
             for measure, kind, _, _ in ROWS if kind is not None]
    shown = [s for s in shown if not missing(s)]
    clear = sum(1 for s in shown if not s["noise"] and not s["mean"] == s["p5"] == s["p95"] == 0)
    draws = comparison.meta.get("parameter_draws") or {}
    runs = draws.get("runs_per_scenario") or comparison.meta["replications"]  # draws × seeds
    sentences.append(sentence(lang, [text(lang, "para.sure", total=len(shown), clear=clear,
                                          replications=runs)]))
    sources = uncertainty_clause(comparison, lang, reform)
    if sources:
        sentences.append(sentence(lang, [sources]))
    sentences = [s for s in sentences if s != text(lang, "sentence_end")]  # no empty sentence
    return ("" if lang == "zh" else " ").join(sentences)


def uncertainty_clause(comparison, lang: str, reform: str) -> str | None:
    """What the intervals carry. With crossed parameter draws (``drgsim compare
    --parameter-draws N``): which source of uncertainty dominates the final year's fund balance
    difference (``comparison.json`` headline's ``parameter_share``,
    sim.experiments.draws.variance_shares); with one parameter set per replication (the
    default where an ensemble ships): both, not separated; without draws: noise only (folders
    of an earlier drgsim, which did not record the design, say nothing)."""
    meta = comparison.meta
    draws = meta.get("parameter_draws")
    if not draws:
        return text(lang, "para.sources.none") if "parameter_draws" in meta else None
    if draws.get("design") == "each":
        return text(lang, "para.sources.each")
    share = ((meta.get("headline") or {}).get(reform) or {}).get(
        "parameter_share", {}).get("fund_balance")
    if share is None or share != share:
        return None
    dominant = "para.sources.parameters" if share >= 0.5 else "para.sources.noise"
    return text(lang, "para.sources", draws=draws["draws"], share=f"{share:.0%}",
                noise=f"{1 - share:.0%}", dominant=text(lang, dominant))


def group_name(lang: str, level: str, ownership: str) -> str:
    if level == "all" and ownership == "all":
        return text(lang, "findings.all_hospitals")
    shown = text(lang, "findings.all_levels") if level == "all" else level_name(lang, level)
    return text(lang, "findings.group_name", level=shown,
                ownership=text(lang, f"ownership.{ownership}"))


# ---- the page -------------------------------------------------------------------------------

def cell(lang: str, stat: dict | None, kind: str, scale: float, decimals: int | None) -> str:
    """A value with its interval below; grey with the caveat when the interval includes zero."""
    if missing(stat):
        return '<td class="na">–</td>'
    values = [stat["mean"], stat["p5"], stat["p95"]]
    value, low, high = quantities(lang, kind, values, signed=True, scale=scale,
                                  decimals=decimals)
    noise = bool(stat["noise"])
    caveat = f'<span class="caveat">{escape(text(lang, "noise"))}</span>' if noise else ""
    shown = text(lang, "interval_text", low=low, high=high)
    return (f'<td class="{"noise" if noise else "clear"}"><span class="value">{escape(value)}'
            f'</span><span class="interval">{escape(shown)}</span>{caveat}</td>')


def counts_cell(lang: str, group: dict | None) -> str:
    if group is None:
        return '<td class="na">–</td>'
    shown = text(lang, "findings.counts", gain=group["gain"], lose=group["lose"],
                 unclear=group["unclear"])
    return f'<td class="clear"><span class="value">{escape(shown)}</span></td>'


def findings_table(comparison, findings: Findings, lang: str, reform: str) -> str:
    years = span(comparison)
    head = (f"<thead><tr><th>{escape(text(lang, 'findings.measure'))}</th>"
            f"<th>{escape(text(lang, 'findings.cumulative', **years))}</th>"
            f"<th>{escape(text(lang, 'findings.final_year', **years))}</th></tr></thead>")
    body = []
    for measure, kind, scale, decimals in ROWS:
        if kind is None:
            against = measure.removeprefix("hospitals_")
            cells = [counts_cell(lang, findings.group(reform, period, against))
                     for period in ("cumulative", "final_year")]
        else:
            stats = [findings.stat(reform, period, measure)
                     for period in ("cumulative", "final_year")]
            if all(missing(s) for s in stats):
                continue
            cells = [cell(lang, s, kind, scale, decimals) for s in stats]
        body.append(f"<tr><th>{escape(text(lang, f'findings.{measure}'))}</th>"
                    f"{''.join(cells)}</tr>")
    return f'<table class="findings">{head}<tbody>{"".join(body)}</tbody></table>'


def groups_table(comparison, findings: Findings, lang: str, reform: str) -> str:
    rows = findings.groups[(findings.groups["scenario"] == reform)
                           & (findings.groups["period"] == "cumulative")]
    if rows.empty:
        return ""
    header = [text(lang, "findings.group"), text(lang, "findings.hospitals"),
              text(lang, "findings.against_baseline"), text(lang, "findings.total_change"),
              text(lang, "findings.against_ffs"), text(lang, "findings.total_change")]
    order = [("all", "all"), *((level, "all") for level in LEVELS),
             ("all", "public"), ("all", "private"),
             *((level, owner) for level in LEVELS for owner in ("public", "private"))]
    body = []
    for level, owner in order:
        mine = {against: findings.group(reform, "cumulative", against, level, owner)
                for against in ("baseline", "ffs")}
        if mine["baseline"] is None:
            continue
        cells = [f"<th>{escape(group_name(lang, level, owner))}</th>",
                 f"<td>{mine['baseline']['hospitals']}</td>"]
        for against in ("baseline", "ffs"):
            cells += [counts_cell(lang, mine[against]),
                      cell(lang, mine[against], "money", 1.0, None)]
        body.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    return (f"<h4>{escape(text(lang, 'findings.groups_heading', **span(comparison)))}</h4>"
            f'<table class="findings groups"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def reform_html(comparison, findings: Findings, lang: str, reform: str) -> str:
    """The paragraph, the table of the whole period and the last year, the hospital groups."""
    return (f'<p class="finding">{escape(paragraph(comparison, findings, lang, reform))}</p>'
            f"{findings_table(comparison, findings, lang, reform)}"
            f"{groups_table(comparison, findings, lang, reform)}")


def heading_html(comparison, lang: str) -> str:
    years = span(comparison)
    return (f"<h2>{escape(text(lang, 'findings.heading', **years))}</h2>"
            f'<p class="note">{escape(text(lang, "findings.note"))}</p>')


STYLESHEET = """
p.finding { background: #f8fafc; border-left: 5px solid #3a7ca5; padding: 8px 12px; }
table.findings { width: 100%; font-size: 13px; }
table.findings th, table.findings td { border-bottom: 1px solid #e3e8ee; padding: 4px 8px;
  text-align: left; vertical-align: top; }
table.findings thead th { background: #f0f4f8; }
table.findings tbody th { font-weight: 600; width: 34%; }
table.findings td .value { display: block; font-weight: 700; }
table.findings td .interval, table.findings td .caveat { display: block; font-size: 11px;
  color: #555; }
table.findings td.noise { background: #f1f1f1; color: #777; }
table.findings td.noise .value { font-weight: 400; }
table.findings td .caveat { color: #8a6d00; }
table.findings.groups tbody th { width: auto; }
h4 { font-size: 14px; margin: 14px 0 6px; }
"""


def chart_readings(comparison, lang: str) -> dict[str, list[str]]:
    """The sentences under the findings' charts, one per reform."""
    from sim.report.briefing import sentence

    findings, out = comparison.findings, {"fund_waterfall": [], "hospital_ranking": []}
    for reform in comparison.reforms:
        name = comparison.name(reform, lang)
        if findings.waterfall is not None:
            steps = findings.waterfall[(findings.waterfall["scenario"] == reform)
                                       & (findings.waterfall["period"] == "cumulative")]
            if not steps.empty:
                start, end = (float(steps[steps["part"] == p]["mean"].iloc[0])
                              for p in ("start", "end"))
                out["fund_waterfall"].append(sentence(lang, [text(
                    lang, "reading.fund_waterfall", reform=name, **span(comparison),
                    start=quantities(lang, "money", [start])[0],
                    end=quantities(lang, "money", [end])[0],
                    total=signed_money(lang, steps[steps["kind"] == "part"]["mean"].sum()))]))
        ranks = findings.verdicts[(findings.verdicts["scenario"] == reform)
                                  & (findings.verdicts["period"] == "cumulative")
                                  & (findings.verdicts["against"] == "baseline")]
        if not ranks.empty:
            top, bottom = ranks.loc[ranks["rank"].idxmin()], ranks.loc[ranks["rank"].idxmax()]
            out["hospital_ranking"].append(sentence(lang, [text(
                lang, "reading.hospital_ranking", reform=name, top=top["hospital_id"],
                top_level=group_name(lang, top["level"], top["ownership"]),
                top_change=period_effect(lang, top.to_dict(), "money"),
                bottom=bottom["hospital_id"],
                bottom_level=group_name(lang, bottom["level"], bottom["ownership"]),
                bottom_change=period_effect(lang, bottom.to_dict(), "money"))]))
    return out
