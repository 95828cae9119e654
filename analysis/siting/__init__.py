"""Siting new service points: exact location–allocation models with honest status.

Models (each in its own module) take a :class:`SitingProblem` and return a :class:`SitingResult`:

* :func:`lscp` — fewest / cheapest sites putting every demand within a radius;
* :func:`mclp` — most demand within a radius with ``k`` new sites (or a budget);
* :func:`pmedian` — least weighted travel cost with ``k`` new sites;
* :func:`capacitated_pmedian` — the same within site capacities (single-source by default);
* :func:`pcenter` — least worst travel cost with ``k`` new sites;
* :func:`marginal_curve` — the optimum for 0..K new sites ("next best point" curve).
"""

from ._capacitated import capacitated_pmedian
from ._cpmpsolve import CpmpSettings
from ._problem import SitingProblem
from .curve import marginal_curve
from .lscp import lscp, solve_set_cover
from .mclp import mclp
from .pcenter import pcenter
from .pmedian import pmedian
from .result import SitingResult

__all__ = [
    "CpmpSettings",
    "SitingProblem",
    "SitingResult",
    "capacitated_pmedian",
    "lscp",
    "marginal_curve",
    "mclp",
    "pcenter",
    "pmedian",
    "solve_set_cover",
]
