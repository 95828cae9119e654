"""Small hand-made travel networks for the circuits tests."""

from __future__ import annotations

import numpy as np

from doorstep.analysis.circuits.model import TravelMatrix


def make_travel(minutes: dict[tuple[str, str], float], keys: list[str]) -> TravelMatrix:
    """Symmetric matrix from a few given pairs; other pairs = sum via the first key (a hub)."""
    n = len(keys)
    m = np.full((n, n), np.inf)
    np.fill_diagonal(m, 0.0)
    idx = {k: i for i, k in enumerate(keys)}
    for (a, b), t in minutes.items():
        m[idx[a], idx[b]] = m[idx[b], idx[a]] = t
    # shortest paths (Floyd-Warshall) so the matrix is metric
    for k in range(n):
        m = np.minimum(m, m[:, [k]] + m[[k], :])
    coords = {k: (109.4 + 0.01 * i, 28.5) for i, k in enumerate(keys)}
    return TravelMatrix(keys, m, m * 0.5, coords=coords, names={k: k.upper() for k in keys})
