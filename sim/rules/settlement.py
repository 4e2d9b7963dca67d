"""Money flow during the year and year-end settlement of the point method (rules §2.6, §2.7).

Amounts are yuan (float) inside a formula; the settlement turns hospital totals into cents.
"""

from __future__ import annotations

import numpy as np


def drg_budget_from_fund(fund_total, carve_outs):
    """§2.1: a scheme's DRG budget = its planned pooled-fund spending − the carve-outs paid
    outside the DRG budget. Guigang 第六条: "职工医保点数法付费drg预算总额=职工医保统筹基金支出
    预算总额-门诊特殊慢性病(包括异地)统筹支出预算-按床日付费统筹支出预算-药店购药统筹支出预算-
    普通住院期间特药单独核算支出预算-区外异地住院结算统筹支出预算-非drg试点医院普通住院结算统筹
    支出预算-住院手工结算统筹支出预算-职工大病保险支出预算-年度预算调节金-法律法规规定的其他
    支出预算" (residents likewise, outpatient pooling carved out too). ``carve_outs``: yuan
    amounts (any names); the result in yuan, exact to the cent."""
    cents = int(round(float(fund_total) * 100)) - sum(int(round(float(v) * 100))
                                                      for v in carve_outs)
    return cents / 100


def monthly_budgets(annual_budget, monthly_shares):
    """§2.6: monthly budget = annual DRG budget × that month's share of last year's spending."""
    return annual_budget * np.asarray(monthly_shares, dtype=float)


def monthly_shares_from_spending(monthly_fund_spending):
    """Each month's share of a year's inpatient fund spending (§2.6)."""
    spending = np.asarray(monthly_fund_spending, dtype=float)
    total = spending.sum()
    return spending / total if total > 0 else np.full(len(spending), 1.0 / len(spending))


def monthly_point_value(monthly_budget, monthly_pre_review_points):
    """§2.6: monthly point value = monthly budget ÷ monthly pre-review points (NaN if none)."""
    points = np.asarray(monthly_pre_review_points, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(points > 0, monthly_budget / points, np.nan)


def monthly_payment(pre_review_points, point_value, patient_cash, prepay_ratio,
                    audit_deduction=0.0, approved_extra_value=0.0, deducted_points=0.0):
    """§2.6: a hospital's monthly payment =
    (pre-review points × point value − its patients' cash) × prepay ratio − audit deductions
    + approved extra points × the corresponding month's point value × prepay ratio
    − deducted points × point value.  The rest of the allocation is the quality deposit.

    ``approved_extra_value`` is the yuan value of the approved extra points paid this month,
    each valued at the point value of the month its case belongs to
    (:func:`approved_extra_value`); Guigang 第十八条(三): "每月实际拨付医疗机构费用=医疗机构月度预拨
    费用金额+(特病单议核准追加点数×对应月月度点值)×预拨比例-扣除点数×对应月月度点值"."""
    return ((pre_review_points * point_value - patient_cash) * prepay_ratio - audit_deduction
            + approved_extra_value * prepay_ratio
            - deducted_points * point_value)


def approved_extra_value(extra_points, month_point_value):
    """§2.6: the approved extra points of each quarter's cases, each valued at the monthly point
    value of the month its case belongs to (对应月月度点值, Guigang 第十八条(三)), paid with the
    first monthly payment after the quarter: the cases are reviewed quarterly and "符合条件的病例
    费用在评审确认次月拨付" (第十八条(四)). Fourth-quarter extras are left to the year end (§2.7).

    ``extra_points`` and ``month_point_value``: (… ×) 12 months, by the month of the cases
    (a month without points has no point value, NaN, and no extra points). Returns yuan by
    payment month: months 4, 7 and 10 (indices 3, 6, 9) carry quarters 1–3.
    """
    extra = np.asarray(extra_points, dtype=float)
    valued = np.where(extra != 0, extra * np.nan_to_num(month_point_value), 0.0)
    by_quarter = valued.reshape(*valued.shape[:-1], 4, 3).sum(axis=-1)
    paid = np.zeros(valued.shape)
    paid[..., 3::3] = by_quarter[..., :3]
    return paid


def monthly_deduction_value(deducted_points, month_point_value):
    """§2.6, §2.8: audit deductions taken from the monthly payments. Guigang 第十八条(三)
    "每月实际拨付医疗机构费用=… -扣除点数×对应月月度点值" and 第十八条(四) "经办机构同时需加强
    对病例进行审核,并于审核次月扣减违规病例相应费用": the points deducted from a quarter's
    cases (sample audits are quarterly, §2.8) are valued at the point value of each case's month
    and taken, without the prepay ratio, from the payment of the month after the quarter;
    fourth-quarter deductions are left to the year end (§2.7), which nets every deduction anyway
    (a hospital's annual points are net of them). Same shapes and timing as
    :func:`approved_extra_value`."""
    return approved_extra_value(deducted_points, month_point_value)


def annual_points(case_points, deducted_points):
    """§2.5, §2.7: the annual total points and each hospital's annual points.

    Annual total points (the denominator of the annual point value) = the sum of all case points,
    approved extra points included, before any deduction: Guigang 第十六条(六) "年度总点数=年度
    所有病例点数之和". A hospital's annual points = its approved points − its deducted points:
    第十九条 "医疗机构年度总点数=该医疗机构年度核准总点数-全年扣除点数". A hospital's deducted
    points therefore lower only its own payment; their value stays with the fund.
    ``case_points`` and ``deducted_points`` by hospital; returns (total, by hospital).
    """
    case_points = np.asarray(case_points, dtype=float)
    return float(case_points.sum()), case_points - np.asarray(deducted_points, dtype=float)


def january_advance(last_year_fund_payment, advance_months):
    """§2.6: each January the fund advances ``advance_months`` of last year's average monthly
    fund payment; it is netted at year end."""
    return np.asarray(last_year_fund_payment, dtype=float) / 12.0 * advance_months


def annual_point_value(total_cost, fund_inpatient_payments, drg_budget, total_points):
    """§2.7: (annual total inpatient cost − fund inpatient payments + DRG budget) ÷ total points,
    the annual total points being all case points before deductions (:func:`annual_points`)."""
    return (total_cost - fund_inpatient_payments + drg_budget) / total_points


def hospital_receipts(points, point_value, assessment_coefficient):
    """§2.7: what the DRG settlement is worth to a hospital: points × annual point value ×
    assessment coefficient (patients' cash included)."""
    return points * point_value * assessment_coefficient


def fund_payable_before_caps(receipts, patient_cash):
    """§2.7: the fund's part = receipts − cash paid by patients (and other non-fund payers)."""
    return receipts - patient_cash


def surplus_cap_deduction(receipts, actual_cost, surplus_cap):
    """§2.7: a settlement surplus above ``surplus_cap`` × actual cost is not paid."""
    return np.maximum(receipts - actual_cost * (1.0 + surplus_cap), 0.0)


def self_pay_cap_deduction(self_pay, total_cost, self_pay_cap):
    """§2.7: self-pay above ``self_pay_cap`` × total cost of DRG cases is deducted from the fund."""
    return np.maximum(self_pay - self_pay_cap * total_cost, 0.0)


def year_end_payment(fund_payable, monthly_payments_made, advance):
    """§2.7: year-end payment = what the fund owes − monthly payments made − the advance
    (negative: the excess prepaid is recovered)."""
    return fund_payable - monthly_payments_made - advance
