"""Doorstep (家门口法律服务规划): planning rural public legal services.

The library lives in three layers — :mod:`geo` (spatial model), :mod:`analysis` (coverage,
siting, circuits) and :mod:`webmap` (maps and the web app). This package holds only the thin
command line.
"""

__version__ = "0.1.0"
