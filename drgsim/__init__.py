"""drgsim's Python API: the functions a researcher calls from a notebook or a script.

    import drgsim
    results = drgsim.sweep("scenarios/sweeps/tiny_grid.yaml", executor="processes",
                           out="outputs/sweeps/tiny_grid")   # a pandas DataFrame

The engine lives in ``sim`` (see README, "Layout"); this package only names its entry points.
"""

from sim.experiments.sweep import load_sweep, status, sweep

__all__ = ["load_sweep", "status", "sweep"]
