"""The administrative calendar as SimPy processes (BEHAVIOUR §3; POLICY_RULES §2.6–§2.8).

Time is in months from the start of the burn-in year. Within a month the order is fixed by
offsets: January business (budget, catalogue, strategy updates) at +0.0, patient flow at +0.1,
quarterly audit at +0.9 of the quarter's last month, year-end settlement at +0.95 of December
(cases of month m are paid in m + 1 and the year is cleared in the following January; the
accounts in the tables are by the year the cases belong to). A few hundred events per run.
"""

from __future__ import annotations

import simpy
from tqdm import tqdm

from sim.model.model import RegionModel


def run_calendar(model: RegionModel, progress: bool = True) -> RegionModel:
    """Run the burn-in year and ``model.years`` simulated years."""
    env = simpy.Environment()
    years = model.years + 1  # year 0 is the burn-in under fee-for-service
    bar = tqdm(total=years * 12, desc="months", unit="month", disable=not progress,
               leave=False)

    def year_process(env):
        for year_index in range(years):
            model.year_start(year_index)
            for month in range(12):
                yield env.timeout(0.1)
                model.month_flow(month)
                bar.update(1)
                if month % 3 == 2:
                    yield env.timeout(0.8)
                    model.quarter_review(month // 3)
                    yield env.timeout(0.1)
                else:
                    yield env.timeout(0.9)
            model.year_end()

    env.process(year_process(env))
    env.run()
    bar.close()
    return model
