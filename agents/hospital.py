"""Hospitals as Mesa agents with five strategy levers (BEHAVIOUR §4).

Each lever is a probability in [0, 1] with a clinical baseline of zero:

- ``upcoding``: chance that a case with a higher-severity sibling is coded there;
- ``selection``: chance of refusing (transferring) a case whose expected payment is below its
  expected cost;
- ``cost_cutting``: depth of cost and stay reduction below clinical need (raises readmissions);
- ``split``: chance of discharging and readmitting a long case to earn two payments;
- ``induction``: extra marginal (light) admissions, as a share of the induced-admission rate.

Once a year (January) each hospital looks at what it observed last year — net gain per
upcodable case after audits, loss per loss-making case, payment ÷ cost, the gain of a split and of
a marginal admission — and moves each lever part of the way toward a logistic best response,
with noise (bounded rationality, BEHAVIOUR §4). Private hospitals face a lower ethics cost of
upcoding (Silverman & Skinner 2004, via BEHAVIOUR §8).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

LEVERS = ("upcoding", "selection", "cost_cutting", "split", "induction")


def logistic(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def response(gain: float, threshold: float, scale: float) -> float:
    """σ((gain − threshold)/scale), rescaled so that a gain of zero (or less) gives 0 and a very
    large gain 1."""
    at_zero = logistic(-threshold / scale)
    return float(max(0.0, (logistic((gain - threshold) / scale) - at_zero) / (1 - at_zero)))


@dataclass
class Observation:
    """What a hospital saw last year, in yuan per case unless stated."""

    upcoding_net_gain: float      # expected net gain of coding one upcodable case up
    loss_per_losing_case: float   # mean expected loss of cases paid below cost (≥ 0)
    margin_ratio: float           # (payment − cost) ÷ cost over the year
    split_gain: float             # expected payment of a split's second admission − its cost
    induction_margin: float       # expected payment − cost of a light marginal admission


class Hospital(mesa.Agent):
    """One hospital: fixed traits and the five levers."""

    def __init__(self, model: mesa.Model, index: int, level: int, county: int, beds: float,
                 private: bool, efficiency: float, coding_capacity: float):
        super().__init__(model)
        self.index = index
        self.level = level
        self.county = county
        self.beds = beds
        self.private = bool(private)
        self.efficiency = efficiency
        self.coding_capacity = coding_capacity
        self.upcoding = 0.0
        self.selection = 0.0
        self.cost_cutting = 0.0
        self.split = 0.0
        self.induction = 0.0

    def targets(self, seen: Observation, behaviour: dict) -> dict[str, float]:
        """The best response of each lever to what was observed: a logistic curve of the net
        gain, shifted so that no gain gives zero (the clinical baseline, BEHAVIOUR §4)."""
        ethics = behaviour["upcoding_ethics_cost"]["private" if self.private else "public"]
        return {
            "upcoding": response(seen.upcoding_net_gain, ethics, behaviour["upcoding_scale"]),
            "selection": response(seen.loss_per_losing_case, behaviour["selection_tolerance"],
                                  behaviour["selection_scale"]),
            "cost_cutting": float(np.clip(-seen.margin_ratio / behaviour["cutting_scale"]
                                          * 0.5, 0.0, 1.0)),
            "split": response(seen.split_gain * (1 - behaviour["split_penalty_probability"]),
                              behaviour["split_scale"], behaviour["split_scale"]),
            "induction": response(seen.induction_margin, behaviour["induction_scale"],
                                  behaviour["induction_scale"]),
        }

    def adapt(self, seen: Observation, behaviour: dict, noise: np.ndarray) -> None:
        """Move each lever part of the way toward its target, with noise (5 normal draws)."""
        rate = behaviour["learning_rate"]
        ceiling = behaviour["lever_max"]
        for lever, target, shock in zip(LEVERS, self.targets(seen, behaviour).values(), noise,
                                        strict=True):
            current = getattr(self, lever)
            goal = target * ceiling[lever]
            moved = current + rate * (goal - current) \
                + behaviour["lever_noise"] * shock * max(current, goal)
            setattr(self, lever, float(np.clip(moved, 0.0, ceiling[lever])))
