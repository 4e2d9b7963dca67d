"""Payment rules as pure functions over arrays; each cites its § of POLICY_RULES.

A rule draws no random numbers and changes no state: (parameters, arrays) -> arrays.

- :mod:`sim.rules.classes`        case classes (§2.2, §2.3)
- :mod:`sim.rules.coefficients`   difference coefficients (§1.6, §2.4)
- :mod:`sim.rules.points`         points of a case (§2.5), pre-review points (§2.6)
- :mod:`sim.rules.settlement`     monthly budget, point value, payments, year end (§2.6, §2.7)
- :mod:`sim.rules.rate`           rate-method payment standards (§3)
- :mod:`sim.rules.pool`           the incentive pool (§4)
- :mod:`sim.rules.all_inclusive`  exclusions and all-inclusive prices (§5)
- :mod:`sim.rules.indicators`     evaluation indicators (§6)
- :mod:`sim.rules.dip`            DIP scores (§8)
- :mod:`sim.rules.money`          rounding to the cent without losing a cent
"""
