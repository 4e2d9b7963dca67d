"""Every word of the comparison charts and the briefing, in Chinese (``zh``, the default of the
shipped scenarios) and English (``en``): titles, axis labels, level and variable names, headings
and the templates of the plain-language readings. ``text(lang, key, **values)`` fills a template.
"""

from __future__ import annotations

LANGS = ("zh", "en")
LEVELS = ("primary", "secondary", "tertiary")

LEVEL_NAMES = {
    "zh": {"primary": "一级医院", "secondary": "二级医院", "tertiary": "三级医院"},
    "en": {"primary": "primary hospitals", "secondary": "secondary hospitals",
           "tertiary": "tertiary hospitals"},
}
LEVEL_SHORT = {
    "zh": LEVEL_NAMES["zh"],
    "en": {"primary": "primary", "secondary": "secondary", "tertiary": "tertiary"},
}

WORD_JOINER = "\u2060"  # keeps a sign on the line of its currency symbol

# money units, largest first: (divisor, prefix, suffix, axis label)
MONEY_UNITS = {
    "zh": [(1e8, "", "亿元", "亿元"), (1e4, "", "万元", "万元"), (1.0, "", "元", "元")],
    "en": [(1e9, "¥", " billion", "¥ billion"), (1e6, "¥", " million", "¥ million"),
           (1e3, "¥", " thousand", "¥ thousand"), (1.0, "¥", "", "¥")],
}
# other quantities: (prefix, suffix) by language
QUANTITIES = {
    "point": {"zh": ("", "元/点"), "en": ("¥", " per point")},
    "share_points": {"zh": ("", "个百分点"), "en": ("", " percentage points")},
    "share_points_short": {"zh": ("", "个百分点"), "en": ("", " pp")},
    "months": {"zh": ("", "个月"), "en": ("", " months")},
    "days": {"zh": ("", "天"), "en": ("", " days")},
    "admissions": {"zh": ("", "人次"), "en": ("", "")},
    "cmi": {"zh": ("", ""), "en": ("", "")},
    "yuan_per_case": {"zh": ("", "元"), "en": ("¥", "")},
}
# at most this many decimals (counts of admissions need no more than one)
MAX_DECIMALS = {"admissions": 1, "yuan_per_case": 1, "money": 2}

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        # page
        "page_title": "医保支付改革模拟简报",
        "subtitle": "{region}｜{first}–{last}年｜每个方案{replications}次重复｜基线：{baseline}",
        "subtitle.draws": "{region}｜{first}–{last}年｜每个方案{replications}次重复"
                          "×{draws}组行为参数｜基线：{baseline}",
        "subtitle.each": "{region}｜{first}–{last}年｜每个方案{replications}次重复"
                         "（每次一组行为参数）｜基线：{baseline}",
        "headline_heading": "要点：最后一年（{year}年）与基线相比",
        "headline_note": "每个数字为改革方案减基线的平均差值，其下为各次重复的"
                         "第5至第95百分位数区间。灰色表示区间包含零，与随机波动无法区分。",
        "charts_heading": "图表与解读",
        "assumptions_heading": "假设与参数",
        "differing_heading": "与基线不同的参数",
        "record_heading": "运行记录",
        "record_summary": "展开：完整运行记录",
        "data_link": "图表数据（CSV）",
        "reform": "改革方案",
        "baseline_value": "基线：{value}",
        "no_differences": "没有与基线不同的参数。",
        # headline metrics
        "fund_balance": "基金当年结余",
        "annual_point_value": "年度点值",
        "upcoding_gap": "高编码差距（编码CMI − 真实CMI）",
        "basic_share_lower_levels": "基础病组在一、二级医院的占比",
        "reserve_months_employee": "职工医保基金累计结余可支付月数",
        "reserve_months_resident": "居民医保基金累计结余可支付月数",
        "reserve_alert": "警示：{scenario}下{year}年起可支付月数低于{threshold}个月",
        # assumptions
        "assumptions_text": "每次重复中，基线和各改革方案使用同一组随机数（共同随机数），"
                            "两者之差即改革的效应，而不是随机波动。区间为各次重复之间的第5至第95百分位数；重复次数较少时，"
                            "区间只是粗略估计。医院与患者的行为参数按少数已发表的改革效应校准，"
                            "多数只受到松散约束；从校准集合中抽取参数时（有校准集合的地区默认如此），"
                            "区间包含其不确定性，否则不包含（见各方案段落）。"
                            "其余参数为假设值，见 docs/ODD.md；所有数字来自模拟，不是预测。",
        "region": "地区",
        "catalogue": "病组目录",
        "years": "模拟年份",
        "replications": "重复次数",
        "seed": "随机种子（根）",
        "scale": "人口规模系数",
        "interval": "区间",
        "interval_value": "第{low}至第{high}百分位数",
        "baseline": "基线",
        "method": "支付方式",
        "file": "文件",
        "rationale": "依据",
        "colon": "：",
        "unit_in_brackets": "（{unit}）",
        "parameter": "参数",
        "in_force": "生效年份",
        "baseline_column": "基线取值",
        "reform_column": "改革取值",
        "versions": "软件版本",
        "git_revision": "代码版本（git）",
        "platform": "平台",
        "seeds": "随机种子",
        "inputs": "输入文件（SHA-256）",
        "full_record": "完整记录（run_record.json）",
        "unknown": "未知",
        # charts
        "year_axis": "年份",
        "baseline_legend": "基线：{label}",
        "band_note": "阴影/误差线：各次重复的第5–95百分位数",
        "top_note": "只显示效果最大的{shown}项改革（共{total}项，全部见CSV）",
        "fund_balance.title": "医保基金当年结余与可支付月数",
        "fund_balance.balance": "当年结余（{unit}）",
        "fund_balance.reserve": "累计结余可支付月数（月）",
        "point_value.title": "年度点值",
        "point_value.axis": "元/点",
        "point_value.none": "各方案均无点值（非点数法付费）",
        "point_value.not_point": "非点数法付费，没有点值",
        "cmi.title": "编码CMI与真实CMI（高编码差距）",
        "cmi.levels": "CMI（实线：编码；虚线：真实）",
        "cmi.gap": "编码CMI − 真实CMI",
        "upcoding_pressure.title": "高编码压力的变化（改革 − 基线，{year}年）",
        "upcoding_pressure.axis": "主要诊断大类（MDC）",
        "upcoding_pressure.colour": "每例可高编病例的预期净收益变化（元）",
        "upcoding_pressure.dot": "区间包含零",
        "upcoding_pressure.none": "没有可高编病例的数据",
        "admissions_by_level.title": "各级医院住院人次与基础病组病例的变化"
                                     "（改革 − 基线，{year}年）",
        "admissions_by_level.admissions": "住院人次变化",
        "admissions_by_level.basic": "基础病组病例占比变化（百分点）",
        "admissions_by_level.tick": "{level}\n基线 {value}",
        "hospital_margins.title": "医院盈亏：与基线相比的收支结余变化（{year}年）",
        "hospital_margins.axis": "收支结余变化（{unit}）",
        "hospital_margins.winner": "得益（区间高于零）",
        "hospital_margins.loser": "受损（区间低于零）",
        "hospital_margins.noise": "与随机波动无法区分",
        "hospital_margins.ranked": "每家医院一个点，按变化从小到大排列；横线为平均",
        "readmissions_los.title": "15天再入院率与平均住院日",
        "readmissions_los.readmission": "15天再入院率（%）",
        "readmissions_los.los": "平均住院日（天）",
        # the report of one run (drgsim run)
        "run.page_title": "医保支付模拟简报（单一方案）",
        "run.subtitle": "{region}｜{first}–{last}年｜{policy}｜随机种子{seed}",
        "run.headline_heading": "要点：{year}年",
        "run.headline_note": "单次模拟（一个随机种子），没有区间；要与基线比较并给出区间，"
                             "请用 drgsim compare。每张卡片下方为第一年的数值。",
        "run.first_year": "{year}年：{value}",
        "run.policy": "支付政策",
        "run.reforms": "改革",
        "run.no_reforms": "无",
        "run.parameters_heading": "{date}生效的参数",
        "run.value": "取值",
        "upcoded_share": "高套编码病例占比",
        "share_tertiary": "三级医院住院人次占比",
        "hospitals_in_deficit": "收不抵支的医院",
        "hospitals": "{count}家",
        # charts of one run (drgsim run)
        "run.fund_balance.title": "医保基金当年结余与累计结余可支付月数",
        "run.surplus": "当年结余",
        "run.surplus_card": "基金当年结余（收入−支出）",
        "run.fund_by_scheme.title": "各险种基金累计结余可支付月数",
        "run.scheme.employee": "职工医保",
        "run.scheme.resident": "居民医保",
        "run.pooled": "两险种合计",
        "run.threshold": "{months}个月警戒线",
        "run.point_value.monthly": "月度点值",
        "run.point_value.annual": "年度点值",
        "run.true_cmi": "真实CMI",
        "run.coded_cmi": "编码CMI",
        "run.gap": "高编码差距",
        "run.admissions.title": "各级医院住院人次",
        "run.admissions.axis": "住院人次",
        # readings
        "interval_text": "区间{low}至{high}",
        "noise": "区间包含零，与随机波动无法区分",
        "unchanged": "不变",
        "sentence_end": "。",
        "clause_sep": "；",
        "list_sep": "，",
        "more": "增加", "less": "减少",
        "higher": "提高", "lower": "降低",
        "wider": "扩大", "narrower": "缩小",
        "longer": "延长", "shorter": "缩短",
        "effect": "{direction}{amount}（{interval}）",
        "effect_noise": "{direction}{amount}（{interval}，{noise}）",
        "reading.fund_balance": "{reform}：{year}年基金当年结余比基线{balance}；"
                                "可支付月数{reserve}",
        "reading.fund_balance.base": "基线下{year}年当年结余为{balance}，可支付{reserve:.1f}个月",
        "reading.point_value": "{reform}：{year}年点值比基线{effect}",
        "reading.point_value.base": "基线下{year}年点值为{value}",
        "reading.point_value.none": "{reform}：没有点值（非点数法付费）",
        "reading.cmi": "{reform}后，{year}年编码CMI与真实CMI之差{effect}",
        "reading.cmi.base": "基线下{year}年两者之差为{value:.3f}",
        "reading.upcoding_pressure": "{reform}：{year}年每例可高编病例的预期净收益（高编码压力）"
                                     "{levels}",
        "reading.upcoding_pressure.level": "在{level}{effect}",
        "reading.upcoding_pressure.max": "变化最大的是{level}的MDC {mdc}（{amount}）",
        "reading.admissions_by_level": "{reform}：{year}年基础病组病例"
                                       "在一、二级医院的占比{effect}",
        "reading.admissions_by_level.level": "{level}住院人次{effect}",
        "reading.hospital_margins": "{reform}：{year}年{total}家医院中，"
                                    "{winners}家的收支结余高于基线（区间在零以上），"
                                    "{losers}家低于基线，其余{rest}家与随机波动无法区分",
        "reading.hospital_margins.level": "{level}平均{effect}",
        "reading.readmissions_los": "{reform}：{year}年15天再入院率{readmission}；平均住院日{los}",
    },
    "en": {
        "page_title": "Payment reform briefing",
        "subtitle": "{region} | {first}–{last} | {replications} replications per scenario | "
                    "baseline: {baseline}",
        "subtitle.draws": "{region} | {first}–{last} | {replications} replications × {draws} "
                          "behavioural parameter sets per scenario | baseline: {baseline}",
        "subtitle.each": "{region} | {first}–{last} | {replications} replications per scenario, "
                         "each with its own behavioural parameter set | baseline: {baseline}",
        "headline_heading": "Headline: the last year ({year}) against the baseline",
        "headline_note": "Each number is the mean difference reform − baseline, with the "
                         "5th–95th percentile across replications below it. Grey: the interval "
                         "includes zero, so the effect is not distinguishable from noise.",
        "charts_heading": "Charts and what they show",
        "assumptions_heading": "Assumptions and parameters",
        "differing_heading": "Parameters that differ from the baseline",
        "record_heading": "Run record",
        "record_summary": "Show the whole run record",
        "data_link": "chart data (CSV)",
        "reform": "Reform",
        "baseline_value": "baseline: {value}",
        "no_differences": "No parameter differs from the baseline.",
        "fund_balance": "Fund surplus of the year",
        "annual_point_value": "Annual point value",
        "upcoding_gap": "Upcoding gap (coded − true CMI)",
        "basic_share_lower_levels": "Basic-group cases at primary and secondary hospitals",
        "reserve_months_employee": "Employee fund: months of reserve",
        "reserve_months_resident": "Resident fund: months of reserve",
        "reserve_alert": "Warning: under {threshold} months of reserve from {year} ({scenario})",
        "assumptions_text": "In each replication the baseline and every reform use the same random "
                            "numbers (common random numbers), so their difference is the reform's "
                            "effect, not noise. Intervals are the 5th–95th percentile across "
                            "replications; with few replications they are rough. The behavioural "
                            "parameters of hospitals and patients are calibrated to a few "
                            "published reform effects, most of them only loosely "
                            "(calibration/ensembles/default.md); intervals carry that uncertainty "
                            "when parameter sets are drawn from the calibrated ensemble (the "
                            "default where one ships; each reform's paragraph says which). The "
                            "rest are assumed (see docs/ODD.md); "
                            "every number is a simulation, not a forecast.",
        "region": "Region",
        "catalogue": "Catalogue",
        "years": "Years simulated",
        "replications": "Replications",
        "seed": "Root seed",
        "scale": "Population scale",
        "interval": "Interval",
        "interval_value": "{low}th to {high}th percentile",
        "baseline": "Baseline",
        "method": "method",
        "file": "file",
        "rationale": "rationale",
        "colon": ": ",
        "unit_in_brackets": " ({unit})",
        "parameter": "Parameter",
        "in_force": "Years",
        "baseline_column": "Baseline value",
        "reform_column": "Reform value",
        "versions": "Versions",
        "git_revision": "Git revision",
        "platform": "Platform",
        "seeds": "Seeds",
        "inputs": "Input files (SHA-256)",
        "full_record": "Full record (run_record.json)",
        "unknown": "unknown",
        "year_axis": "year",
        "baseline_legend": "baseline: {label}",
        "band_note": "bands / whiskers: 5th–95th percentile across replications",
        "top_note": "the {shown} reforms with the largest effect of {total} (all in the CSV)",
        "fund_balance.title": "Fund surplus of the year and months of reserve",
        "fund_balance.balance": "surplus of the year ({unit})",
        "fund_balance.reserve": "months of reserve",
        "point_value.title": "Annual point value",
        "point_value.axis": "¥ per point",
        "point_value.none": "no scenario has a point value (not the point method)",
        "point_value.not_point": "not the point method: no point value",
        "cmi.title": "Coded vs. true case-mix index (the upcoding gap)",
        "cmi.levels": "CMI (solid: coded, dashed: true)",
        "cmi.gap": "coded − true CMI",
        "upcoding_pressure.title": "Change in upcoding pressure (reform − baseline, {year})",
        "upcoding_pressure.axis": "major diagnostic category (MDC)",
        "upcoding_pressure.colour": "change in expected net gain per upcodable case (¥)",
        "upcoding_pressure.dot": "interval includes zero",
        "upcoding_pressure.none": "no upcodable cases recorded",
        "admissions_by_level.title": "Change in admissions and basic-group cases by level "
                                     "(reform − baseline, {year})",
        "admissions_by_level.admissions": "change in admissions",
        "admissions_by_level.basic": "change in share of basic-group cases (points)",
        "admissions_by_level.tick": "{level}\nbaseline {value}",
        "hospital_margins.title": "Hospital winners and losers against the baseline ({year})",
        "hospital_margins.axis": "change in margin ({unit})",
        "hospital_margins.winner": "winner (interval above zero)",
        "hospital_margins.loser": "loser (interval below zero)",
        "hospital_margins.noise": "not distinguishable from noise",
        "hospital_margins.ranked": "one dot per hospital, ranked by change; line: mean",
        "readmissions_los.title": "15-day readmission rate and mean length of stay",
        "readmissions_los.readmission": "15-day readmission rate (%)",
        "readmissions_los.los": "mean length of stay (days)",
        "run.page_title": "Payment simulation briefing (one scenario)",
        "run.subtitle": "{region} | {first}–{last} | {policy} | seed {seed}",
        "run.headline_heading": "Headline: {year}",
        "run.headline_note": "One simulation (one seed), so no intervals: to compare with a "
                             "baseline, with intervals, use drgsim compare. Below each number: "
                             "its value in the first year.",
        "run.first_year": "{year}: {value}",
        "run.policy": "Policy",
        "run.reforms": "Reforms",
        "run.no_reforms": "none",
        "run.parameters_heading": "Parameters in force on {date}",
        "run.value": "Value",
        "upcoded_share": "Share of upcodable cases coded up",
        "share_tertiary": "Admissions at tertiary hospitals",
        "hospitals_in_deficit": "Hospitals in deficit",
        "hospitals": "{count}",
        "run.fund_balance.title": "Fund surplus of the year and months of reserve",
        "run.surplus": "surplus of the year",
        "run.surplus_card": "Fund surplus of the year (revenue − spending)",
        "run.fund_by_scheme.title": "Each scheme's fund: months of reserve",
        "run.scheme.employee": "employee fund",
        "run.scheme.resident": "resident fund",
        "run.pooled": "both schemes",
        "run.threshold": "{months} months",
        "run.point_value.monthly": "monthly point value",
        "run.point_value.annual": "annual point value",
        "run.true_cmi": "true CMI",
        "run.coded_cmi": "coded CMI",
        "run.gap": "upcoding gap",
        "run.admissions.title": "Admissions by hospital level",
        "run.admissions.axis": "admissions",
        "interval_text": "5th–95th percentile {low} to {high}",
        "noise": "the interval includes zero: not distinguishable from noise",
        "unchanged": "is unchanged",
        "sentence_end": ".",
        "clause_sep": "; ",
        "list_sep": ", ",
        "more": "rises by", "less": "falls by",
        "higher": "rises by", "lower": "falls by",
        "wider": "widens by", "narrower": "narrows by",
        "longer": "lengthens by", "shorter": "shortens by",
        "effect": "{direction} {amount} ({interval})",
        "effect_noise": "{direction} {amount} ({interval}; {noise})",
        "reading.fund_balance": "{reform}: against the baseline, the fund balance of {year} "
                                "{balance}; the reserve {reserve}",
        "reading.fund_balance.base": "Under the baseline the balance of {year} is {balance}, "
                                     "{reserve:.1f} months of reserve",
        "reading.point_value": "{reform}: in {year} the point value {effect}",
        "reading.point_value.base": "Under the baseline it is {value} in {year}",
        "reading.point_value.none": "{reform}: no point value (not the point method)",
        "reading.cmi": "After {reform}, the gap between coded and true CMI in {year} {effect}",
        "reading.cmi.base": "Under the baseline the gap is {value:.3f} in {year}",
        "reading.upcoding_pressure": "{reform}: in {year} the expected net gain per upcodable case "
                                     "(upcoding pressure) {levels}",
        "reading.upcoding_pressure.level": "at {level} {effect}",
        "reading.upcoding_pressure.max": "the largest change is in MDC {mdc} at {level} "
                                         "({amount})",
        "reading.admissions_by_level": "{reform}: in {year} the share of basic-group cases "
                                       "treated at primary and secondary hospitals {effect}",
        "reading.admissions_by_level.level": "the number of admissions at {level} {effect}",
        "reading.hospital_margins": "{reform}: in {year}, of {total} hospitals, {winners} end "
                                    "above the baseline's margin (interval above zero), "
                                    "{losers} below it, and {rest} are not distinguishable from "
                                    "noise",
        "reading.hospital_margins.level": "at {level} the mean margin {effect}",
        "reading.readmissions_los": "{reform}: in {year} the 15-day readmission rate "
                                    "{readmission}; the mean length of stay {los}",
    },
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGS)}")
    return lang


def text(lang: str, key: str, **values) -> str:
    """The string ``key`` in ``lang``, with ``values`` filled in."""
    template = TEXT[check_lang(lang)][key]
    return template.format(**values) if values else template


def level_name(lang: str, level: str, short: bool = False) -> str:
    return (LEVEL_SHORT if short else LEVEL_NAMES)[check_lang(lang)].get(level, level)


def all_strings(lang: str) -> list[str]:
    """Every fixed string of a language (for checking that the font covers them)."""
    return [*TEXT[lang].values(), *LEVEL_NAMES[lang].values(), *LEVEL_SHORT[lang].values()]


def decimals_for(*values: float) -> int:
    """Decimals that show the largest of ``values`` with about three significant digits."""
    finite = [abs(v) for v in values if v == v and abs(v) != float("inf")]
    largest = max(finite, default=0.0)
    if largest >= 100:
        return 0
    if largest >= 10:
        return 1
    if largest >= 1:
        return 2
    if largest == 0:
        return 0
    digits = 2
    while largest < 10 ** -(digits - 1) and digits < 8:
        digits += 1
    return digits


def number(value: float, decimals: int, signed: bool = False) -> str:
    """``value`` with thousands separators and a true minus sign (``+`` too when signed)."""
    if value != value:
        return "–"
    if round(value, decimals) == 0:
        value = 0.0
    formatted = f"{value:+,.{decimals}f}" if signed and value != 0 else f"{value:,.{decimals}f}"
    return formatted.replace("-", "−")


def money_unit(lang: str, *values: float) -> tuple[float, str, str, str]:
    """(divisor, prefix, suffix, axis label) of the money unit that suits ``values``."""
    finite = [abs(v) for v in values if v == v]
    largest = max(finite, default=0.0)
    units = MONEY_UNITS[check_lang(lang)]
    for unit in units:
        if largest >= unit[0]:
            return unit
    return units[-1]


def quantities(lang: str, kind: str, values: list[float], signed: bool = False,
               scale: float = 1.0, decimals: int | None = None,
               suffix_last_only: bool = False) -> list[str]:
    """``values`` (yuan for ``kind="money"``) formatted with one shared unit and precision;
    ``suffix_last_only`` writes the unit's suffix once, after the last value (a range)."""
    scaled = [v * scale for v in values]
    if kind == "money":
        divisor, prefix, suffix, _ = money_unit(lang, *scaled)
    else:
        divisor, (prefix, suffix) = 1.0, QUANTITIES[kind][check_lang(lang)]
    scaled = [v / divisor for v in scaled]
    if decimals is None:
        decimals = min(decimals_for(*scaled), MAX_DECIMALS.get(kind, 8))
    shown = []
    for value in scaled:
        body = number(abs(value), decimals)
        sign = ("−" if round(value, decimals) < 0 else
                "+" if signed and round(value, decimals) > 0 else "")
        joiner = WORD_JOINER if sign and prefix else ""
        shown.append(f"{sign}{joiner}{prefix}{body}{suffix}")
    if suffix_last_only and suffix:
        shown = [value[: -len(suffix)] for value in shown[:-1]] + shown[-1:]
    return shown


# ---- findings (issue 14: headline over the whole period, paragraphs, waterfall, ranking) ----
# kept in one block of their own, merged into TEXT, so that text() and all_strings() see them
FINDINGS_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "findings.heading": "要点：{first}–{last}年累计与{last}年（最后一年），与基线相比",
        "findings.note": "每个数字为改革方案减基线的平均差值（同一次重复内配对），"
                         "括号内为各次重复的第5至第95百分位数区间；灰色表示区间包含零，与随机波动无法区分。",
        "findings.measure": "指标",
        "findings.cumulative": "{first}–{last}年累计",
        "findings.final_year": "{last}年",
        "findings.fund_balance": "基金结余（两险合计）",
        "findings.fund_balance_employee": "职工医保基金结余",
        "findings.fund_balance_resident": "居民医保基金结余",
        "findings.reserve_months": "可支付月数（合计；累计列为期末存量，年度列为当年结余折合月数）",
        "findings.reserve_months_employee": "职工医保可支付月数",
        "findings.reserve_months_resident": "居民医保可支付月数",
        "findings.hospitals_baseline": "医院收支结余：与基线相比得益/受损/无法区分（家）",
        "findings.hospitals_ffs": "医院收支结余：与按项目付费相比得益/受损/无法区分（家）",
        "findings.upcoded_share": "高编码病例占比",
        "findings.upcoding_paid": "为高编码支付的金额",
        "findings.audit_deducted_value": "审核扣减并由基金留存的金额",
        "findings.basic_share_lower_levels": "基础病组病例在一、二级医院的占比",
        "findings.counts": "{gain}／{lose}／{unclear}",
        "findings.groups_heading": "各级别与所有制医院的收支结余变化（{first}–{last}年累计）",
        "findings.group": "医院",
        "findings.hospitals": "家数",
        "findings.against_baseline": "与基线相比：得益／受损／无法区分",
        "findings.total_change": "合计变化",
        "findings.against_ffs": "与按项目付费相比：得益／受损／无法区分",
        "findings.group_name": "{level}（{ownership}）",
        "findings.all_hospitals": "全部医院",
        "findings.all_levels": "各级",
        "ownership.public": "公立",
        "ownership.private": "民营",
        "ownership.all": "全部",
        "ownership.mixed": "公立或民营（各次重复不同）",
        "hospital_ranking.mixed": "公立或民营（半实心）",
        "upcoded_share": "高编码病例占比",
        "headline_cards": "最后一年（{year}年）一览",
        # the paragraph
        "para.fund": "{first}–{last}年，{reform}使医保基金累计结余{effect}",
        "para.fund.schemes": "其中职工医保{employee}，居民医保{resident}",
        "para.fund.months": "到{last}年末，可支付月数{months}",
        "para.fund.final": "仅{last}年一年，当年结余{final}",
        "para.why": "原因（按模型的基金分解）：{parts}",
        "para.why.part": "{part}使结余{direction}{amount}",
        "para.why.raises": "增加", "para.why.lowers": "减少",
        "para.surprise.fund_pays_more": "这一结果与直觉相反：高编码减少了，基金却多支出",
        "para.surprise.fund_pays_less": "这一结果与直觉相反：高编码增加了，基金却少支出",
        "para.budget.up": "在总额预算下，住院支付总额几乎不变（{total}），只是在各级医院之间"
                          "重新分配（支付变化：{levels}）：点数减少，每点更值钱（{last}年点值{point}）",
        "para.budget.down": "在总额预算下，住院支付总额几乎不变（{total}），只是在各级医院之间"
                            "重新分配（支付变化：{levels}）：点数增加，每点贬值（点值稀释，{last}年点值"
                            "{point}）",
        "para.hospitals": "与基线相比，{total}家医院中{gain}家收支结余增加、{lose}家减少，"
                          "其余{unclear}家与随机波动无法区分；变化最大的是{group}，合计{change}",
        "para.ffs": "与同样诊疗按项目付费相比，{gain}家得益、{lose}家受损",
        "para.coding": "高编码病例占比{share}",
        "para.coding.final": "{last}年一年{final}",
        "para.coding.paid": "为高编码支付的金额{paid}",
        "para.coding.kept": "审核扣减并由基金留存的金额{kept}",
        "para.referral": "基础病组病例在一、二级医院的占比{effect}",
        "para.sure": "以上{total}项数字中，{clear}项的区间不含零；"
                     "区间来自{replications}次配对重复，重复次数少时只是粗略估计",
        "para.sources": "区间同时包含行为参数的不确定性（从校准集合中抽取{draws}组参数，"
                        "每组与各次重复的随机数交叉，改革与基线配对）：最后一年基金结余差异的方差中"
                        "{share}来自行为参数，{noise}来自随机波动，{dominant}为主",
        "para.sources.each": "区间同时包含行为参数的不确定性：每次重复使用从校准集合中"
                             "抽取的一组参数，改革与基线配对；两种来源未分开"
                             "（多组参数与各次重复交叉时可分开估计）",
        "para.sources.none": "区间只包含随机波动：行为参数取地区的中心值，不包含其不确定性"
                             "（该地区没有校准集合，或选择了不抽取行为参数）",
        "para.sources.parameters": "行为参数的不确定性",
        "para.sources.noise": "随机波动",
        "part.revenue": "基金收入",
        "part.non_drg_spending": "DRG住院以外的支出",
        "part.inpatient_primary": "支付一级医院的住院费用（审核扣减与封顶前）",
        "part.inpatient_secondary": "支付二级医院的住院费用（审核扣减与封顶前）",
        "part.inpatient_tertiary": "支付三级医院的住院费用（审核扣减与封顶前）",
        "part.audit_deductions": "审核扣减（基金留存）",
        "part.caps": "结余与自费比例封顶扣减（§2.7）",
        "part.unexplained": "未能分解的差额",
        "short.start": "基线结余",
        "short.revenue": "基金收入",
        "short.non_drg_spending": "DRG住院以外支出",
        "short.inpatient_primary": "一级医院住院支付",
        "short.inpatient_secondary": "二级医院住院支付",
        "short.inpatient_tertiary": "三级医院住院支付",
        "short.audit_deductions": "审核扣减（基金留存）",
        "short.caps": "封顶扣减（§2.7）",
        "short.unexplained": "未能分解",
        "short.end": "改革后结余",
        # the charts
        "fund_waterfall.title": "基金结余从基线到改革方案的分解（{first}–{last}年累计）",
        "fund_waterfall.axis": "与基线相比的基金结余变化（{unit}）",
        "fund_waterfall.raises": "使结余增加",
        "fund_waterfall.start_tick": "基线结余 {value}",
        "fund_waterfall.end_tick": "改革后结余 {value}",
        "fund_waterfall.lowers": "使结余减少",
        "fund_waterfall.noise_legend": "区间包含零（灰色）",
        "hospital_ranking.title": "医院收支结余变化排名（与基线相比，{first}–{last}年累计）",
        "hospital_ranking.axis": "收支结余变化（{unit}）",
        "hospital_ranking.rest": "其余{count}家医院：{low}至{high}",
        "hospital_ranking.public": "公立",
        "hospital_ranking.private": "民营（空心）",
        "hospital_ranking.whisker": "横线：第5–95百分位数区间",
        "reading.fund_waterfall": "{reform}：{first}–{last}年累计结余从基线的{start}变为{end}；"
                                  "各部分之和正好等于差额{total}",
        "reading.hospital_ranking": "{reform}：得益最多的是{top}（{top_level}，{top_change}），"
                                    "受损最多的是{bottom}（{bottom_level}，{bottom_change}）",
    },
    "en": {
        "findings.heading": "Headline: {first}–{last} together and {last} (the last year), "
                            "against the baseline",
        "findings.note": "Each number is the mean difference reform − baseline (paired within "
                         "each replication), with the 5th–95th percentile across replications in "
                         "brackets. Grey: the interval includes zero, so it cannot be told from "
                         "noise.",
        "findings.measure": "Measure",
        "findings.cumulative": "{first}–{last} together",
        "findings.final_year": "{last}",
        "findings.fund_balance": "Fund balance (both schemes)",
        "findings.fund_balance_employee": "Employee fund balance",
        "findings.fund_balance_resident": "Resident fund balance",
        "findings.reserve_months": "Months of reserve (pooled; whole period: at its end; last "
                                   "year: that year's balance in months)",
        "findings.reserve_months_employee": "Employee fund: months of reserve",
        "findings.reserve_months_resident": "Resident fund: months of reserve",
        "findings.hospitals_baseline": "Hospitals' margins against the baseline: gain / lose / "
                                       "cannot tell",
        "findings.hospitals_ffs": "Hospitals' margins against fee-for-service: gain / lose / "
                                  "cannot tell",
        "findings.upcoded_share": "Share of cases coded up",
        "findings.upcoding_paid": "Money paid for upcoding",
        "findings.audit_deducted_value": "Audit deductions kept by the fund",
        "findings.basic_share_lower_levels": "Basic-group cases at primary and secondary "
                                             "hospitals",
        "findings.counts": "{gain} / {lose} / {unclear}",
        "findings.groups_heading": "Hospitals' margins by level and ownership ({first}–{last} "
                                   "together)",
        "findings.group": "Hospitals",
        "findings.hospitals": "Number",
        "findings.against_baseline": "Against the baseline: gain / lose / cannot tell",
        "findings.total_change": "Total change",
        "findings.against_ffs": "Against fee-for-service: gain / lose / cannot tell",
        "findings.group_name": "{level} ({ownership})",
        "findings.all_hospitals": "all hospitals",
        "findings.all_levels": "all levels",
        "ownership.public": "public",
        "ownership.private": "private",
        "ownership.all": "all",
        "ownership.mixed": "public or private (differs between replications)",
        "hospital_ranking.mixed": "public or private (half filled)",
        "upcoded_share": "Share of cases coded up",
        "headline_cards": "The last year ({year}) at a glance",
        "para.fund": "Over {first}–{last}, under {reform} the fund's balance {effect}",
        "para.fund.schemes": "the employee fund's balance {employee}, the resident fund's "
                             "balance {resident}",
        "para.fund.months": "by the end of {last} the reserve {months}",
        "para.fund.final": "In {last} alone the balance {final}",
        "para.why": "Why, from the model's own decomposition of the fund: {parts}",
        "para.why.part": "{part} {direction} the balance by {amount}",
        "para.why.raises": "raise", "para.why.lowers": "lower",
        "para.surprise.fund_pays_more": "This runs against intuition: less upcoding, yet the "
                                        "fund pays more",
        "para.surprise.fund_pays_less": "This runs against intuition: more upcoding, yet the "
                                        "fund pays less",
        "para.budget.up": "Under the global budget the inpatient payments hardly change in "
                          "total ({total}) but are shared out differently between levels "
                          "(payments {levels}): with fewer points each point is worth more "
                          "(point value in {last} {point})",
        "para.budget.down": "Under the global budget the inpatient payments hardly change in "
                            "total ({total}) but are shared out differently between levels "
                            "(payments {levels}): with more points each is worth less (point-value "
                            "dilution; point value in {last} {point})",
        "para.hospitals": "Against the baseline, of {total} hospitals {gain} gain and {lose} "
                          "lose, and {unclear} cannot be told from noise; the largest change is "
                          "at {group}, {change} in total",
        "para.ffs": "against fee-for-service for the same care, {gain} gain and {lose} lose",
        "para.coding": "The share of cases coded up {share}",
        "para.coding.final": "in {last} alone {final}",
        "para.coding.paid": "money paid for upcoding {paid}",
        "para.coding.kept": "the amount the audits keep back for the fund {kept}",
        "para.referral": "The share of basic-group cases treated at primary and secondary "
                         "hospitals {effect}",
        "para.sure": "{clear} of these {total} figures are clear of noise across {replications} "
                     "paired replications; with few replications the intervals are rough",
        "para.sources": "The intervals also carry what we do not know about behaviour "
                        "({draws} parameter sets drawn from the calibrated ensemble, each crossed "
                        "with every replication's random numbers and paired between reform and "
                        "baseline): of the variance of the final year's fund balance difference "
                        "{share} comes from the behavioural parameters and {noise} from noise, so "
                        "{dominant} dominates",
        "para.sources.each": "The intervals also carry what we do not know about behaviour: "
                             "each replication runs its own parameter set drawn from the "
                             "calibrated ensemble, paired between reform and baseline; the two "
                             "sources are not separated (--parameter-draws N separates them)",
        "para.sources.none": "The intervals carry only the noise of replications: behaviour is "
                             "at the region's central values, without its uncertainty (no "
                             "calibrated ensemble for this region, or --parameter-draws 0)",
        "para.sources.parameters": "uncertainty about behaviour",
        "para.sources.noise": "the noise of replications",
        "part.revenue": "fund revenue",
        "part.non_drg_spending": "spending outside DRG inpatient care",
        "part.inpatient_primary": "inpatient payments to primary hospitals (before audits and "
                                  "caps)",
        "part.inpatient_secondary": "inpatient payments to secondary hospitals (before audits "
                                    "and caps)",
        "part.inpatient_tertiary": "inpatient payments to tertiary hospitals (before audits and "
                                   "caps)",
        "part.audit_deductions": "audit deductions (kept by the fund)",
        "part.caps": "surplus and self-pay caps (§2.7)",
        "part.unexplained": "not explained by the parts",
        "short.start": "baseline balance",
        "short.revenue": "fund revenue",
        "short.non_drg_spending": "spending outside DRG",
        "short.inpatient_primary": "inpatient: primary",
        "short.inpatient_secondary": "inpatient: secondary",
        "short.inpatient_tertiary": "inpatient: tertiary",
        "short.audit_deductions": "audit deductions kept",
        "short.caps": "caps (§2.7)",
        "short.unexplained": "not explained",
        "short.end": "reform balance",
        "fund_waterfall.title": "The fund's balance from the baseline to the reform, part by "
                                "part ({first}–{last} together)",
        "fund_waterfall.axis": "change in the fund's balance against the baseline ({unit})",
        "fund_waterfall.raises": "raises the balance",
        "fund_waterfall.start_tick": "baseline balance {value}",
        "fund_waterfall.end_tick": "reform balance {value}",
        "fund_waterfall.lowers": "lowers the balance",
        "fund_waterfall.noise_legend": "interval includes zero (grey)",
        "hospital_ranking.title": "Hospitals ranked by change in margin against the baseline "
                                  "({first}–{last} together)",
        "hospital_ranking.axis": "change in margin ({unit})",
        "hospital_ranking.rest": "{count} other hospitals: {low} to {high}",
        "hospital_ranking.public": "public",
        "hospital_ranking.private": "private (hollow)",
        "hospital_ranking.whisker": "line: 5th–95th percentile",
        "reading.fund_waterfall": "{reform}: the balance of {first}–{last} together goes from "
                                  "the baseline's {start} to {end}; the parts add up exactly to "
                                  "the difference, {total}",
        "reading.hospital_ranking": "{reform}: the largest gain is {top} ({top_level}, "
                                    "{top_change}), the largest loss {bottom} ({bottom_level}, "
                                    "{bottom_change})",
    },
}
for _lang in LANGS:
    TEXT[_lang].update(FINDINGS_TEXT[_lang])
