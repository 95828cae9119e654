"""Small hand-written SVG charts (no plotting library, no external requests), one module per
chart kind. Each draws only what it is given; every figure is computed in the analysis layer
or the job's figure assembly (:mod:`doorstep.report_charts`).

* :func:`tornado_svg` — one-at-a-time sensitivity (:mod:`.tornado`)
* :func:`coverage_bars_svg` — share meeting the target by township with the 5–95 % whisker
* :func:`histogram_svg` — population-weighted travel-time histogram per mode
* :func:`marginal_curve_svg` — siting: coverage against the number of new points
* :func:`adviser_bars_svg` — each adviser's month: km, hours, visits
"""

from .advisers import adviser_bars_svg as adviser_bars_svg
from .bars import coverage_bars_svg as coverage_bars_svg
from .curve import marginal_curve_svg as marginal_curve_svg
from .histogram import histogram_svg as histogram_svg
from .tornado import LOWER_COLOUR as LOWER_COLOUR
from .tornado import RAISE_COLOUR as RAISE_COLOUR
from .tornado import tornado_svg as tornado_svg

__all__ = [
    "LOWER_COLOUR",
    "RAISE_COLOUR",
    "adviser_bars_svg",
    "coverage_bars_svg",
    "histogram_svg",
    "marginal_curve_svg",
    "tornado_svg",
]
