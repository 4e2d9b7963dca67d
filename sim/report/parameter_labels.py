"""What every documented parameter is called in a report, in Chinese and English, with its unit:
the policy's parameters (:data:`sim.inputs.policy.SCHEMA`) and the region's behavioural ones
(``behaviour.*``, :func:`sim.inputs.behaviour.behaviour_paths`) — the paths ``drgsim params``
prints. A test fails when a documented path has no label here. ``show_parameter`` writes a value
readably (levels, schemes, bands and months named, no JSON).
"""

from __future__ import annotations

from sim.report.labels import check_lang, level_name

# path: (Chinese label, Chinese unit, English label, English unit); an empty unit: none shown
PARAMETER_LABELS: dict[str, tuple[str, str, str, str]] = {
    # groups, outliers, coefficients (§1.6, §2.2–§2.4)
    "groups.unstable_max_cases": ("不稳定病组病例数上限", "例", "unstable group: at most",
                                  "cases"),
    "outliers.low_multiple": ("低倍率病例界限", "倍（病组平均费用）", "low-multiple threshold",
                              "× the group's mean cost"),
    "outliers.high_multiple_bands": ("高倍率病例界限（按基准点数分档）", "倍（病组平均费用）",
                                     "high-multiple thresholds by base points",
                                     "× the group's mean cost"),
    "coefficients.level": ("医院等级系数", "", "level coefficients", "multiplier"),
    "coefficients.basic_groups_same_price": ("基础病组同城同病同价", "",
                                             "basic groups at one price for every level", ""),
    "coefficients.basic_groups": ("基础病组目录", "病组编码", "basic groups", "group codes"),
    "indicators.readmission_excluded_adrgs": ("不计再入院的ADRG（计划性放化疗）", "ADRG编码",
                                              "ADRGs not counted as readmissions", "ADRG codes"),
    "coefficients.basic_group_coefficient": ("基础病组系数", "", "basic-group coefficient",
                                             "multiplier"),
    "coefficients.decimals": ("系数保留小数位数", "位", "coefficient decimals", "decimals"),
    "weights.complication_multiplier": ("伴并发症病组的基准点数倍数", "倍",
                                        "base points of with-complication groups", "×"),
    "coefficients.level_adjustment": ("等级系数调整倍数", "", "level coefficient adjustment",
                                      "multiplier"),
    # supervision (§2.8)
    "audit.sample_rate": ("病案抽查比例", "占病案的比例", "audit sample rate", "share of records"),
    "audit.detection_probability": ("抽查发现高套编码的概率", "概率",
                                    "chance an audit finds upcoding", "probability"),
    "audit.penalty_multiple": ("高套编码扣点倍数", "倍（多得点数）", "upcoding penalty",
                               "× the points gained"),
    "alliances.members": ("紧密型县域医共体", "牵头医院与成员", "county alliances",
                          "lead and members"),
    "alliances.package_to_lead": ("医共体打包付费给牵头医院", "", "package paid to the lead",
                                  ""),
    # money flow and year end (§2.6, §2.7)
    "settlement.prepay_ratio": ("月度预拨比例", "比例", "monthly prepay ratio", "share"),
    "settlement.advance_months": ("年初预付月数", "个月", "January advance", "months"),
    "settlement.whole_group_monthly_share": ("整组审核病例月度计点比例", "比例",
                                             "whole-group review cases: monthly share",
                                             "share"),
    "review.submitted_share": ("申请特病单议的病例比例", "比例",
                               "cases submitted for special review", "share of cases"),
    "review.approved_share": ("特病单议审核通过比例", "占申请病例的比例",
                              "special reviews approved", "share of submitted cases"),
    "review.unreasonable_share": ("审核剔除的不合理费用比例", "占费用的比例",
                                  "cost struck out as unreasonable", "share of cost"),
    "settlement.assessment_coefficient": ("年终考核系数", "", "assessment coefficient",
                                          "multiplier"),
    "settlement.surplus_cap": ("结余留用上限", "占实际费用的比例", "surplus cap",
                               "share of actual cost"),
    "settlement.self_pay_cap": ("自费比例上限", "占总费用的比例", "self-pay cap",
                                "share of total cost"),
    "settlement.monthly_shares": ("各月预算占比", "比例（12个月合计为1）",
                                  "monthly shares of the budget", "12 shares summing to 1"),
    "settlement.assessment_readmission_weight": ("考核：再入院率权重", "",
                                                 "assessment: readmission weight", ""),
    "settlement.assessment_floor": ("考核系数下限", "", "assessment coefficient floor",
                                    "multiplier"),
    "settlement.assessment_ceiling": ("考核系数上限", "", "assessment coefficient ceiling",
                                      "multiplier"),
    "settlement.assessment_admissions_per_person_weight": (
        "考核：人次人头比权重", "", "assessment: admissions per patient weight", ""),
    "settlement.assessment_self_pay_ratio_weight": ("考核：自费比例权重", "",
                                                    "assessment: self-pay ratio weight", ""),
    "settlement.assessment_cost_per_case_growth_weight": (
        "考核：次均费用增长率权重", "", "assessment: growth of cost per case weight", ""),
    "settlement.assessment_cmi_growth_weight": ("考核：CMI增长率权重", "",
                                                "assessment: CMI growth weight", ""),
    "settlement.assessment_referral_rate_weight": ("考核：转诊率权重", "",
                                                   "assessment: referral rate weight", ""),
    "settlement.assessment_scored_in_settle": ("结算时按指标评分考核", "",
                                               "assessment scored when settling", ""),
    # global budget (§2.1)
    "budget.annual": ("DRG年度预算", "元", "annual DRG budget", "yuan"),
    "budget.annual_growth": ("DRG预算年增长率", "每年比例", "budget growth", "share per year"),
    "budget.separate_schemes": ("职工、居民分别预算", "", "separate budgets per scheme", ""),
    "budget.by_scheme": ("各险种DRG预算", "元", "DRG budget by scheme", "yuan"),
    "budget.fund_total": ("各险种统筹基金支出预算总额", "元", "planned fund spending by scheme",
                          "yuan"),
    "budget.carve_outs": ("预算扣除项目", "元", "carve-outs from the budget", "yuan"),
    # rate method (§3)
    "rate.base_rate": ("基础费率", "元/权重", "base rate", "yuan per weight"),
    "rate.adjustment": ("费率调整倍数", "", "rate adjustment", "× the base rate"),
    "rate.use_coefficients": ("费率法乘以等级系数", "", "rate times the level coefficient", ""),
    "rate.whole_group_at_reviewed_cost": ("费率法按审核后费用整组支付", "",
                                          "whole group paid at reviewed cost", ""),
    # incentive pool (§4)
    "pool.share": ("激励池比例", "比例", "incentive pool share", "share"),
    "pool.incentive_coefficients": ("各医院鼓励系数", "", "incentive coefficients by hospital",
                                    "multiplier"),
    # all-inclusive price (§5)
    "all_inclusive.fund_share": ("基金支付比例（按等级）", "占价格的比例", "fund share of price",
                                 "share of price"),
    "all_inclusive.short_stay_days": ("按项目付费的短住院天数", "天", "short stay paid by item",
                                      "days"),
    "all_inclusive.long_stay_days": ("按项目付费的长住院天数", "天", "long stay paid by item",
                                     "days"),
    "all_inclusive.low_price_multiple": ("低于价格此倍数按项目付费", "倍", "low price multiple",
                                         "× price"),
    "all_inclusive.high_price_multiple": ("高于价格此倍数按项目付费", "倍",
                                          "high price multiple", "× price"),
    # DIP (§8)
    "dip.fix_inversions": ("修正分值倒挂", "", "fix score inversions", ""),
    # rollout (§7)
    "rollout.hospital_share": ("实行DRG付费的医院比例", "比例", "hospitals paid by DRG",
                               "share of hospitals"),
    "rollout.group_share": ("实行DRG付费的病组比例", "比例", "groups paid by DRG",
                            "share of groups"),
    # yearly revision (§1.7)
    "revision.weights_from_coded_data": ("每年按上年编码数据调整权重", "",
                                         "weights revised from coded data", ""),
    "revision.coefficients_yearly": ("每年调整等级系数", "", "coefficients revised yearly", ""),
    "revision.min_cases": ("调整所需最少病例数", "例", "minimum cases for a revision", "cases"),
    "revision.rates_yearly": ("每年调整费率", "", "rates revised yearly", ""),
    "revision.trim": ("异常费用剔除规则", "", "trimming rule", ""),
    # patients' cost sharing
    "patients.reimbursement_ratio": ("报销比例", "比例", "reimbursement ratio", "share"),
    "patients.deductible": ("起付线", "元/次", "deductible", "yuan per admission"),
    # behaviour of hospitals and patients (scenarios/regions/_behaviour.yaml)
    "behaviour.efficiency_sd": ("医院成本效率的离散程度", "对数标准差",
                                "spread of hospitals' cost efficiency", "log sd"),
    "behaviour.cost_sd": ("病组内费用的离散程度", "对数标准差", "spread of cost within a group",
                          "log sd"),
    "behaviour.choice_set.outside_secondary": ("患者考虑的县外二级医院数", "家",
                                               "secondary hospitals considered elsewhere",
                                               "hospitals"),
    "behaviour.choice_set.outside_tertiary": ("患者考虑的县外三级医院数", "家",
                                              "tertiary hospitals considered elsewhere",
                                              "hospitals"),
    "behaviour.choice.level": ("就医选择：医院等级效用", "效用（一、二、三级）",
                               "choice: utility of a hospital's level", "utility by level"),
    "behaviour.choice.severity_level": ("就医选择：病情越重越选高等级", "效用/严重程度/等级",
                                        "choice: severity × level", "utility per rank per level"),
    "behaviour.choice.distance_per_km": ("就医选择：距离的负效用", "效用/公里",
                                         "choice: distance", "utility per km"),
    "behaviour.choice.out_of_pocket_per_1000": ("就医选择：自付费用的负效用", "效用/千元",
                                                "choice: out-of-pocket cost",
                                                "utility per ¥1,000"),
    "behaviour.stay_days_per_sqrt_weight": ("住院日系数", "天/√权重", "stay per √weight",
                                            "days"),
    "behaviour.readmission_base": ("15天再入院基础风险", "概率", "base 15-day readmission risk",
                                   "probability"),
    "behaviour.readmission_per_cut": ("成本压缩增加的再入院风险", "概率",
                                      "extra readmission risk at full cost cutting",
                                      "probability"),
    "behaviour.cut_depth": ("成本压缩最大幅度", "比例", "depth of cost cutting", "share"),
    "behaviour.split_cost_share": ("分解住院第二次的费用占比", "占原费用的比例",
                                   "cost of a split admission's second stay", "share of cost"),
    "behaviour.induced_rate": ("诱导住院率", "人次/人次", "induced admissions",
                               "per admission"),
    "behaviour.induced_weight_max": ("诱导住院病例权重上限", "权重",
                                     "induced admissions: weight at most", "weight"),
    "behaviour.bed_occupancy_max": ("床位使用率上限", "占床日的比例", "bed occupancy at most",
                                    "share of bed-days"),
    "behaviour.learning_rate": ("医院策略调整速度", "比例", "learning rate", "share"),
    "behaviour.lever_noise": ("策略调整的随机波动", "相对标准差", "noise on lever updates",
                              "relative sd"),
    "behaviour.upcoding_ethics_cost.public": ("公立医院高套编码的心理成本", "元/例",
                                              "public hospitals: ethics cost of upcoding",
                                              "yuan per case"),
    "behaviour.upcoding_ethics_cost.private": ("民营医院高套编码的心理成本", "元/例",
                                               "private hospitals: ethics cost of upcoding",
                                               "yuan per case"),
    "behaviour.upcoding_scale": ("高套编码对收益的敏感度（尺度）", "元", "upcoding scale", "yuan"),
    "behaviour.selection_tolerance": ("推诿病人前可容忍的每例亏损", "元/例",
                                      "loss tolerated before selection", "yuan per case"),
    "behaviour.selection_scale": ("推诿病人对亏损的敏感度（尺度）", "元", "selection scale",
                                  "yuan"),
    "behaviour.cutting_scale": ("成本压缩对亏损率的敏感度", "亏损率", "cost-cutting scale",
                                "margin ratio"),
    "behaviour.split_penalty_probability": ("分解住院被查出的概率", "概率",
                                            "chance a split admission is caught",
                                            "probability"),
    "behaviour.split_scale": ("分解住院对收益的敏感度（尺度）", "元", "split scale", "yuan"),
    "behaviour.induction_scale": ("诱导住院对收益的敏感度（尺度）", "元", "induction scale",
                                  "yuan"),
    "behaviour.lever_max.upcoding": ("高套编码上限", "比例", "upcoding at most", "share"),
    "behaviour.lever_max.selection": ("推诿病人上限", "概率", "selection at most",
                                      "probability"),
    "behaviour.lever_max.cost_cutting": ("成本压缩上限", "比例", "cost cutting at most",
                                         "share"),
    "behaviour.lever_max.split": ("分解住院上限", "概率", "split admissions at most",
                                  "probability"),
    "behaviour.lever_max.induction": ("诱导住院上限", "比例", "volume induction at most",
                                      "share"),
}

# not parameters, but rows of a comparison's table of differences (sim.experiments.compare)
ROW_LABELS = {"method": ("支付方式", "", "payment method", "")}
MARKERS = {"(absent)": {"zh": "无（该支付方式没有此参数）", "en": "none (not a parameter of "
                        "this method)"},
           "(region)": {"zh": "地区文件的取值", "en": "the region's value"}}

METHOD_NAMES = {
    "zh": {"point": "总额预算点数法", "rate": "费率法", "pool": "激励池点数法",
           "all_inclusive": "打包定价", "dip": "DIP病种分值付费", "ffs": "按项目付费"},
    "en": {"point": "point method", "rate": "rate method", "pool": "incentive pool",
           "all_inclusive": "all-inclusive price", "dip": "DIP", "ffs": "fee-for-service"},
}
SCHEME_NAMES = {"zh": {"employee": "职工", "resident": "居民"},
                "en": {"employee": "employee", "resident": "resident"}}
SEED_NAMES = {"zh": {"root": "根种子", "replications": "各次重复", "streams": "随机流"},
              "en": {"root": "root", "replications": "replications", "streams": "streams"}}
WORDS = {
    "zh": {"yes": "是", "no": "否", "none": "未设定", "list_sep": "、", "pair_sep": "，",
           "group_sep": "；", "colon": "：", "band": "基准点数≤{limit}", "band_rest": "其余",
           "month": "{month}月", "lead": "牵头", "members": "成员"},
    "en": {"yes": "yes", "no": "no", "none": "not set", "list_sep": ", ", "pair_sep": ", ",
           "group_sep": "; ", "colon": ": ", "band": "base points ≤ {limit}",
           "band_rest": "above", "month": "{month_name}", "lead": "lead",
           "members": "members"},
}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")
LEVEL_ORDER = ("primary", "secondary", "tertiary")


def parameter_label(lang: str, path: str) -> str:
    """The parameter's name in ``lang`` (the path itself for one without a label)."""
    entry = PARAMETER_LABELS.get(path) or ROW_LABELS.get(path)
    if entry is None:
        return path
    return entry[0] if check_lang(lang) == "zh" else entry[2]


def parameter_unit(lang: str, path: str) -> str:
    entry = PARAMETER_LABELS.get(path) or ROW_LABELS.get(path)
    if entry is None:
        return ""
    return entry[1] if check_lang(lang) == "zh" else entry[3]


def method_name(lang: str, method: str) -> str:
    return METHOD_NAMES[check_lang(lang)].get(method, method)


def show_number(value: float | int) -> str:
    """A number as written, with thousands separators and a true minus sign."""
    shown = f"{value:,}" if isinstance(value, int) else f"{value:,.10g}"
    return shown.replace("-", "−")


def show_parameter(lang: str, value: object, path: str = "") -> str:
    """A parameter value in words: yes/no, "not set", numbers with separators, levels, schemes,
    months and high-multiple bands named; never JSON."""
    words = WORDS[check_lang(lang)]
    if isinstance(value, bool):
        return words["yes" if value else "no"]
    if value is None:
        return words["none"]
    if isinstance(value, int | float):
        return show_number(value)
    if isinstance(value, str) and value in MARKERS:
        return MARKERS[value][lang]
    if path == "method" and isinstance(value, str):
        return method_name(lang, value)
    if isinstance(value, list):
        if path == "settlement.monthly_shares" and len(value) == 12:
            return words["pair_sep"].join(
                f"{month_label(lang, index + 1)} {show_parameter(lang, share)}"
                for index, share in enumerate(value))
        if path.endswith("choice.level") and len(value) == len(LEVEL_ORDER):
            return show_parameter(lang, dict(zip(LEVEL_ORDER, value, strict=True)))
        if value and all(isinstance(item, dict) and "multiple" in item for item in value):
            return words["group_sep"].join(band(lang, item) for item in value)
        return words["list_sep"].join(show_parameter(lang, item) for item in value)
    if isinstance(value, dict):
        if path == "alliances.members":
            return words["group_sep"].join(
                f"{name}{words['colon']}{words['lead']} {show_parameter(lang, part.get('lead'))}"
                f"{words['pair_sep']}{words['members']} "
                f"{show_parameter(lang, part.get('members'))}"
                if isinstance(part, dict) else f"{name}{words['colon']}{part}"
                for name, part in value.items())
        nested = any(isinstance(item, dict) for item in value.values())
        separator = words["group_sep"] if nested else words["pair_sep"]
        return separator.join(f"{key_name(lang, str(key))}{words['colon'] if nested else ' '}"
                              f"{show_parameter(lang, item)}" for key, item in value.items())
    return str(value)


def key_name(lang: str, key: str) -> str:
    if key in LEVEL_ORDER:
        return level_name(lang, key, short=True)
    return SCHEME_NAMES[lang].get(key) or SEED_NAMES[lang].get(key, key)


def month_label(lang: str, month: int) -> str:
    return WORDS[lang]["month"].format(month=month, month_name=MONTHS_EN[month - 1])


def band(lang: str, item: dict) -> str:
    words = WORDS[lang]
    limit = item.get("up_to_base_points")
    where = words["band_rest"] if limit is None else words["band"].format(
        limit=show_number(limit))
    return f"{where}{words['colon']}{show_number(item['multiple'])}×"
