"""Named random streams (ARCHITECTURE §3.7): one root seed, one stream per decision and month.

``Streams(seed).get("choice", year, month)`` is a fresh ``numpy.random.Generator`` seeded from
(root seed, stream name, year, month). Two scenarios with the same seed draw the same numbers
for the same decision in the same month, whatever else differs between them, so that their
difference is mechanism, not noise (common random numbers). No global ``np.random``.
"""

from __future__ import annotations

import numpy as np

STREAMS = ("region", "calibration", "incidence", "choice", "admission", "treatment",
           "coding", "audit", "strategy", "induction", "readmission", "review")


class Streams:
    def __init__(self, seed: int):
        self.seed = int(seed)

    def get(self, name: str, year: int = 0, month: int = 0) -> np.random.Generator:
        index = STREAMS.index(name)
        return np.random.default_rng(np.random.SeedSequence(
            entropy=self.seed, spawn_key=(index, int(year), int(month))))

    def sequence(self, name: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(entropy=self.seed, spawn_key=(STREAMS.index(name),))
