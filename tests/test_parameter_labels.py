"""Every documented parameter has a name and unit in Chinese and English for the reports (issue
14, item 5), and values are shown in words, never as JSON."""

from __future__ import annotations

import re

import pytest

from sim.inputs.behaviour import behaviour_paths
from sim.inputs.policy import SCHEMA
from sim.report.parameter_labels import (
    PARAMETER_LABELS,
    parameter_label,
    parameter_unit,
    show_parameter,
)

DOCUMENTED = sorted({*SCHEMA, *behaviour_paths()})
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_documented_parameter_path_has_a_label_in_both_languages():
    missing = [path for path in DOCUMENTED if path not in PARAMETER_LABELS]
    assert not missing, f"no report label for {missing} (sim/report/parameter_labels.py)"
    stale = sorted(set(PARAMETER_LABELS) - set(DOCUMENTED))
    assert not stale, f"labels for paths that are not documented parameters: {stale}"
    assert len(DOCUMENTED) > 80  # the policy's parameters and behaviour.* both
    for path in DOCUMENTED:
        chinese, english = parameter_label("zh", path), parameter_label("en", path)
        assert CHINESE.search(chinese), (path, chinese)
        assert english and not CHINESE.search(english), (path, english)
        assert not CHINESE.search(parameter_unit("en", path)), path


def test_a_path_without_a_label_is_shown_as_itself():
    assert parameter_label("zh", "audit.sample_rate") == "病案抽查比例"
    assert parameter_label("zh", "audit.made_up") == "audit.made_up"


@pytest.mark.parametrize("value, path, zh, en", [
    (True, "", "是", "yes"),
    (None, "budget.annual", "未设定", "not set"),
    (1_250_000_000.0, "budget.annual", "1,250,000,000", "1,250,000,000"),
    (-0.05, "", "−0.05", "−0.05"),
    ({"primary": 0.8, "secondary": 0.9, "tertiary": 1.0}, "coefficients.level",
     "一级医院 0.8，二级医院 0.9，三级医院 1", "primary 0.8, secondary 0.9, tertiary 1"),
    ({"employee": {"primary": 200, "tertiary": 800}, "resident": {"primary": 150}},
     "patients.deductible", "职工：一级医院 200，三级医院 800；居民：一级医院 150",
     "employee: primary 200, tertiary 800; resident: primary 150"),
    ([{"up_to_base_points": 100, "multiple": 3}, {"up_to_base_points": None, "multiple": 1.3}],
     "outliers.high_multiple_bands", "基准点数≤100：3×；其余：1.3×",
     "base points ≤ 100: 3×; above: 1.3×"),
    (["RB1", "RC1"], "indicators.readmission_excluded_adrgs", "RB1、RC1", "RB1, RC1"),
    ([0.0, 0.5, 1.2], "behaviour.choice.level", "一级医院 0，二级医院 0.5，三级医院 1.2",
     "primary 0, secondary 0.5, tertiary 1.2"),
])
def test_values_are_shown_in_words(value, path, zh, en):
    assert show_parameter("zh", value, path) == zh
    assert show_parameter("en", value, path) == en


def test_no_value_is_shown_as_json():
    shares = [1 / 12] * 12
    for lang in ("zh", "en"):
        shown = show_parameter(lang, shares, "settlement.monthly_shares")
        assert not re.search(r"[\[\]{}\"]", shown) and len(shown.split(" ")) >= 12, shown
    assert show_parameter("zh", shares, "settlement.monthly_shares").startswith("1月 0.08333")
    alliances = {"north": {"lead": "H001", "members": ["H002", "H003"]}}
    assert show_parameter("zh", alliances, "alliances.members") == \
        "north：牵头 H001，成员 H002、H003"


def test_rows_of_a_comparison_that_are_not_parameters_are_named_too():
    assert parameter_label("zh", "method") == "支付方式"
    assert show_parameter("zh", "rate", "method") == "费率法"
    assert show_parameter("zh", "(absent)", "rate.base_rate").startswith("无")
    assert show_parameter("en", "(region)", "behaviour.cut_depth") == "the region's value"
