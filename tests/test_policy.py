"""Policy files and reforms: documented parameters, dated values, strict checks (issue 2)."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from sim.commands.cli import main
from sim.errors import InputError
from sim.inputs.policy import SCHEMA, load_policy
from sim.resources import shipped, shipped_names

ROOT = Path(__file__).parents[1]
JAN_2023 = dt.date(2023, 1, 1)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


def _reform(tmp_path: Path, changes: str, name: str = "reform.yaml") -> Path:
    return _write(tmp_path, name, "title: test reform\nchanges:\n"
                  + textwrap.indent(textwrap.dedent(changes), "  "))


def test_all_six_policies_ship_and_load():
    assert shipped_names("policies", ".yaml") == sorted(
        ["point", "rate", "pool", "all_inclusive", "dip", "ffs"])
    for name in shipped_names("policies", ".yaml"):
        policy = load_policy(shipped("policies", name, ".yaml"))
        assert policy.method == name
        assert policy.levels == ("primary", "secondary", "tertiary")
        for parameter in policy.parameters.values():
            assert parameter.description and parameter.unit and parameter.reference


def test_point_defaults_are_those_of_rule_2():
    values = load_policy(shipped("policies", "point", ".yaml")).resolved(JAN_2023)
    assert values["groups.unstable_max_cases"] == 1                         # §2.2
    assert values["outliers.low_multiple"] == 0.3                           # §2.3
    assert [(b["up_to_base_points"], b["multiple"])
            for b in values["outliers.high_multiple_bands"]] == [
        (100, 3), (200, 2.5), (300, 2), (500, 1.5), (None, 1.3)]             # §2.3
    assert values["coefficients.basic_groups_same_price"] is True          # §2.4
    assert values["coefficients.decimals"] == 8                             # §1.6
    assert values["settlement.prepay_ratio"] == 0.9                         # §2.6
    assert values["settlement.advance_months"] == 2                         # §2.6
    assert values["settlement.whole_group_monthly_share"] == 0.7            # §2.6
    assert values["settlement.surplus_cap"] == 0.30                         # §2.7
    assert values["settlement.self_pay_cap"] == 0.10                        # §2.7
    assert values["audit.sample_rate"] == 0.10                              # §2.8


def test_method_specific_parameters():
    point = load_policy(shipped("policies", "point", ".yaml"))
    rate = load_policy(shipped("policies", "rate", ".yaml"))
    assert point.has("budget.annual") and not point.has("rate.base_rate")
    assert rate.has("rate.base_rate") and not rate.has("budget.annual")
    assert rate.value("settlement.surplus_cap", JAN_2023) is None
    assert load_policy(shipped("policies", "ffs", ".yaml")).has("settlement.prepay_ratio") is False


def test_dated_values_and_reforms_compose(tmp_path):
    first = _reform(tmp_path, """
        audit.sample_rate:
          2024-01-01: 0.2
        """, "first.yaml")
    second = _reform(tmp_path, """
        audit.sample_rate:
          2025-07-01: 0.3
        settlement.prepay_ratio:
          2024-01-01: 0.95
        """, "second.yaml")
    policy = load_policy(shipped("policies", "point", ".yaml"), [first, second])
    assert policy.value("audit.sample_rate", dt.date(2023, 12, 31)) == 0.10
    assert policy.value("audit.sample_rate", dt.date(2024, 1, 1)) == 0.2
    assert policy.value("audit.sample_rate", dt.date(2025, 7, 1)) == 0.3
    assert policy.value("settlement.prepay_ratio", dt.date(2024, 6, 1)) == 0.95
    assert [r["title"] for r in policy.reforms] == ["test reform", "test reform"]


REFORM_ERRORS = {
    "unknown path with suggestion": ("audit.sampel_rate:\n  2024-01-01: 0.2\n",
                                     "changes.audit.sampel_rate: unknown parameter; expected a "
                                     "documented parameter path (did you mean audit.sample_rate?)"),
    "parameter of another method": ("rate.base_rate:\n  2024-01-01: 9000\n",
                                    "changes.rate.base_rate: is not a parameter of the baseline "
                                    "policy (point method)"),
    "bad date": ("audit.sample_rate:\n  2024-13-01: 0.2\n",
                 "changes.audit.sample_rate, date 2024-13-01: '2024-13-01' is not a calendar date"),
    "out of range": ("audit.sample_rate:\n  2024-01-01: 1.5\n",
                     "parameter audit.sample_rate, date 2024-01-01: value 1.5 is above the upper "
                     "bound 1; expected a number in [0, 1]"),
    "prepay ratio above 1": ("settlement.prepay_ratio:\n  2024-01-01: 1.2\n",
                             "value 1.2 is above the upper bound 1"),
    "not a number": ("audit.penalty_multiple:\n  2024-01-01: two\n", "value 'two' is not a number"),
    "unordered bands": ("outliers.high_multiple_bands:\n  2024-01-01:\n"
                        "    - {up_to_base_points: 200, multiple: 3}\n"
                        "    - {up_to_base_points: 100, multiple: 2.5}\n"
                        "    - {up_to_base_points: null, multiple: 1.3}\n",
                        "band 2 limit 100 is not above band 1 limit 200; expected limits in "
                        "increasing order"),
    "inconsistent level coefficients": ("coefficients.level:\n  2024-01-01: {primary: 1.2, "
                                        "secondary: 1.0, tertiary: 1.1}\n",
                                        "level primary coefficient 1.2 is above level secondary "
                                        "coefficient 1.0"),
    "levels missing": ("coefficients.level:\n  2024-01-01: {primary: 0.9}\n",
                       "does not give one number per level"),
    "monthly shares not summing to 1": ("settlement.monthly_shares:\n  2024-01-01: [0.5, 0.5, 0.5,"
                                        " 0, 0, 0, 0, 0, 0, 0, 0, 0]\n",
                                        "the 12 monthly shares sum to 1.5"),
    "duplicate key": ("audit.sample_rate:\n  2024-01-01: 0.2\n  2024-01-01: 0.3\n",
                      "line 5: duplicate key '2024-01-01'"),
}


@pytest.mark.parametrize("name", list(REFORM_ERRORS))
def test_reform_errors_name_file_path_date_and_bound(name, tmp_path):
    changes, expected = REFORM_ERRORS[name]
    reform = _reform(tmp_path, changes)
    with pytest.raises(InputError) as error:
        load_policy(shipped("policies", "point", ".yaml"), [reform])
    assert str(reform) in str(error.value)
    assert expected in str(error.value)


def test_reform_is_validated_whole_before_applying(tmp_path):
    """A reform whose second change is bad changes nothing."""
    good_then_bad = _reform(tmp_path, """
        audit.sample_rate:
          2024-01-01: 0.2
        settlement.prepay_ratio:
          2024-01-01: 2
        """)
    policy = load_policy(shipped("policies", "point", ".yaml"))
    from sim.inputs.policy import apply_reform

    with pytest.raises(InputError):
        apply_reform(policy, good_then_bad)
    assert policy.value("audit.sample_rate", dt.date(2024, 6, 1)) == 0.10
    assert policy.reforms == []


def test_reform_header_is_strict(tmp_path):
    reform = _write(tmp_path, "r.yaml", "title: x\nchange:\n  audit.sample_rate: {2024-01-01: 1}\n")
    with pytest.raises(InputError, match="key 'change': unknown top-level key"):
        load_policy(shipped("policies", "point", ".yaml"), [reform])
    untitled = _write(tmp_path, "u.yaml", "changes:\n  audit.sample_rate: {2024-01-01: 0.2}\n")
    with pytest.raises(InputError, match="title: missing"):
        load_policy(shipped("policies", "point", ".yaml"), [untitled])


POLICY_ERRORS = {
    "unknown parameter": ("""
        audit:
          sample_rat:
            description: x
            unit: share
            reference: §2.8
            values: {2020-01-01: 0.1}
        """, "parameter audit.sample_rat: unknown parameter"),
    "missing reference": ("""
        pool:
          share:
            description: x
            unit: share
            values: {2020-01-01: 0.1}
        """, "parameter pool.share: missing reference"),
    "unknown leaf key": ("""
        audit:
          sample_rate:
            values: {2020-01-01: 0.1}
            unti: share
        """, "parameter audit.sample_rate: unknown key 'unti'"),
    "bad value under a later date": ("""
        settlement:
          prepay_ratio:
            values: {2020-01-01: 0.9, 2024-01-01: -0.1}
        """, "parameter settlement.prepay_ratio, date 2024-01-01: value -0.1 is below the lower "
             "bound 0"),
}


@pytest.mark.parametrize("name", list(POLICY_ERRORS))
def test_policy_file_errors(name, tmp_path):
    body, expected = POLICY_ERRORS[name]
    point = shipped("policies", "point", ".yaml")
    path = _write(tmp_path, "policy.yaml",
                  f"title: test\nextends: {point}\nparameters:\n"
                  + textwrap.indent(textwrap.dedent(body), "  "))
    if name == "missing reference":
        path.write_text(path.read_text("utf-8").replace(f"extends: {point}", "method: point\n"
                                                        f"extends: {point}"), "utf-8")
    with pytest.raises(InputError) as error:
        load_policy(path)
    assert expected in str(error.value)


def test_pool_parameter_under_point_is_rejected(tmp_path):
    point = shipped("policies", "point", ".yaml")
    path = _write(tmp_path, "p.yaml", f"""\
        title: test
        extends: {point}
        parameters:
          pool:
            share:
              description: x
              unit: share
              reference: §4
              values: {{2020-01-01: 0.1}}
        """)
    with pytest.raises(InputError, match="pool.share: is not a parameter of the point method"):
        load_policy(path)


def test_warning_below_the_rule_floor(tmp_path):
    reform = _reform(tmp_path, "audit.sample_rate:\n  2024-01-01: 0.05\n")
    policy = load_policy(shipped("policies", "point", ".yaml"), [reform])
    assert any("at least 10%" in w for w in policy.warnings)


def test_every_schema_path_is_shipped_somewhere():
    """No parameter exists in code that no shipped policy documents."""
    documented = set()
    for name in shipped_names("policies", ".yaml"):
        documented |= set(load_policy(shipped("policies", name, ".yaml")).parameters)
    assert documented == set(SCHEMA)


def test_params_command_prints_units_and_references(capsys):
    assert main(["params", "point", "--date", "2023-01-01"]) == 0
    out = capsys.readouterr().out
    assert ("prepay_ratio: 0.9  [share]  (POLICY_RULES §2.6; Guigang 第十八条: "
            "月度预付比例原则上不低于月度应预付金额的90%,其余部分作为服务质量保证金)") in out
    assert "high_multiple_bands: ≤100: 3; ≤200: 2.5; ≤300: 2; ≤500: 1.5; above: 1.3" in out


def test_params_command_rejects_bad_reform(tmp_path, capsys):
    reform = _reform(tmp_path, "rate.base_rat:\n  2024-01-01: 9000\n")
    assert main(["params", "rate", "--reform", str(reform)]) == 2
    err = capsys.readouterr().err
    assert "did you mean rate.base_rate?" in err and err.count("\n") == 1


def test_amounts_in_exponent_notation_are_numbers(tmp_path):
    # YAML 1.1 (PyYAML) reads 3e8 and 2.5e8 as text; people write amounts so
    reform = _reform(tmp_path, """
      budget.annual: {2020-01-01: 2.5e8, 2024-01-01: 3E8}
    """)
    policy = load_policy(shipped("policies", "point", ".yaml"), [reform])
    assert policy.value("budget.annual", dt.date(2023, 1, 1)) == 250_000_000
    assert policy.value("budget.annual", dt.date(2024, 1, 1)) == 300_000_000
