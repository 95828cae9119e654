"""Readers for the OR-Library benchmark formats (Beasley).

* p-median (``pmed*.txt``): first line ``n m p`` (vertices, edges, medians), then ``m`` lines
  ``i j cost`` of an undirected graph with 1-based vertices. When an edge appears more than once
  the **last** cost wins (as in Beasley's own code). Costs between vertices are shortest-path
  distances; every vertex is both a demand point (weight 1) and a candidate site.
* set covering (``scp*.txt``): ``m n`` (rows, columns), the ``n`` column costs, then for each row
  the number of columns covering it followed by those (1-based) columns. Numbers may wrap lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from doorstep.geo._errors import DataFileError

from ._problem import SitingProblem


@dataclass(frozen=True)
class PMedianInstance:
    """An OR-Library p-median instance: the problem (all sites candidates) and ``p``."""

    name: str
    n: int
    p: int
    problem: SitingProblem


@dataclass(frozen=True)
class SetCoverInstance:
    """An OR-Library set-covering instance: ``cover[i, j]`` and column costs."""

    name: str
    cover: sparse.csr_matrix
    costs: npt.NDArray[np.float64]


def _ints(path: Path, dtype: type = np.int64, what: str = "integers") -> npt.NDArray[Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise DataFileError(path, f"cannot read: {exc.strerror}") from exc
    try:
        return np.array(text.split(), dtype=dtype)
    except ValueError as exc:
        raise DataFileError(
            path, f"expected only {what} ({exc})", fix="pass an OR-Library file"
        ) from exc


def read_pmed(path: str | Path) -> PMedianInstance:
    """Read an OR-Library ``pmed`` file into a :class:`PMedianInstance`."""
    path = Path(path)
    nums = _ints(path)
    if nums.size < 3:
        raise DataFileError(path, "missing header 'n m p'", row=1)
    n, m, p = (int(v) for v in nums[:3])
    body = nums[3:]
    if body.size < 3 * m:
        raise DataFileError(path, f"header says {m} edges but only {body.size // 3} are present")
    e = body[: 3 * m].reshape(m, 3)
    i, j, c = e[:, 0] - 1, e[:, 1] - 1, e[:, 2].astype(float)
    bad = np.flatnonzero((i < 0) | (i >= n) | (j < 0) | (j >= n))
    if bad.size:
        raise DataFileError(path, f"vertex out of range 1..{n}", row=int(bad[0]) + 2)
    if (c < 0).any():
        raise DataFileError(path, "negative edge cost", row=int(np.flatnonzero(c < 0)[0]) + 2)
    # last cost wins: keep the last occurrence of each undirected pair
    a, b = np.minimum(i, j), np.maximum(i, j)
    key = a * n + b
    _, last_rev = np.unique(key[::-1], return_index=True)
    keep = m - 1 - last_rev
    a, b, c = a[keep], b[keep], c[keep]
    loop = a != b
    g = sparse.coo_matrix((c[loop], (a[loop], b[loop])), shape=(n, n)).tocsr()
    dist = csgraph.shortest_path(g, method="D", directed=False)
    prob = SitingProblem.from_cost_matrix(
        dist,
        site_ids=[str(v) for v in range(1, n + 1)],
        demand_ids=[str(v) for v in range(1, n + 1)],
        units="cost",
    )
    return PMedianInstance(name=path.stem, n=n, p=p, problem=prob)


def read_setcover(path: str | Path) -> SetCoverInstance:
    """Read an OR-Library set-covering file (``scp*.txt``)."""
    path = Path(path)
    nums = _ints(path)
    if nums.size < 2:
        raise DataFileError(path, "missing header 'rows columns'", row=1)
    m, n = int(nums[0]), int(nums[1])
    if nums.size < 2 + n:
        raise DataFileError(path, f"expected {n} column costs")
    costs = nums[2 : 2 + n].astype(float)
    pos = 2 + n
    rows, cols = [], []
    for r in range(m):
        if pos >= nums.size:
            raise DataFileError(path, f"file ends before row {r + 1} of {m}")
        k = int(nums[pos])
        members = nums[pos + 1 : pos + 1 + k]
        if members.size < k:
            raise DataFileError(path, f"row {r + 1} lists fewer than its {k} columns")
        if ((members < 1) | (members > n)).any():
            raise DataFileError(path, f"row {r + 1} names a column outside 1..{n}")
        rows.append(np.full(k, r))
        cols.append(members - 1)
        pos += 1 + k
    ri, ci = np.concatenate(rows), np.concatenate(cols)
    cover = sparse.csr_matrix((np.ones(ri.size, dtype=bool), (ri, ci)), shape=(m, n))
    return SetCoverInstance(name=path.stem, cover=cover, costs=costs)


@dataclass(frozen=True)
class CapacitatedInstance:
    """A capacitated p-median instance: every node is a customer and a candidate median.

    ``cost[i, j]`` is what customer ``i`` pays at median ``j`` (not weighted by demand),
    ``demand`` what it loads onto its median, ``capacity`` each median's limit.
    """

    name: str
    p: int
    xy: npt.NDArray[np.float64]
    cost: npt.NDArray[np.float64]
    demand: npt.NDArray[np.float64]
    capacity: npt.NDArray[np.float64]
    published: float | None = None


def _numbers(path: Path) -> npt.NDArray[np.float64]:
    """All whitespace-separated numbers of a file (integers or not)."""
    return _ints(path, dtype=np.float64, what="numbers")


def _euclid(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    diff = xy[:, None, :] - xy[None, :, :]
    return np.sqrt((diff**2).sum(axis=2))


def read_pmedcap(path: str | Path) -> CapacitatedInstance:
    """Read one OR-Library ``pmedcap1`` block (Osman & Christofides 1994).

    Format: ``problem_no best``, ``n p Q``, then ``n`` lines ``i x y demand``. Costs are the
    Euclidean distances **floored to integers**, as in the published optima; ``best`` is kept
    as ``published``.
    """
    path = Path(path)
    nums = _numbers(path)
    if nums.size < 5:
        raise DataFileError(path, "missing headers 'problem best' and 'n p Q'", row=1)
    n, p, q = int(nums[2]), int(nums[3]), float(nums[4])
    body = nums[5:]
    if body.size < 4 * n:
        raise DataFileError(path, f"header says {n} nodes but only {body.size // 4} are present")
    rows = body[: 4 * n].reshape(n, 4)
    if not np.array_equal(rows[:, 0], np.arange(1, n + 1)):
        raise DataFileError(path, "node numbers are not 1..n in order", row=3)
    xy = rows[:, 1:3]
    return CapacitatedInstance(
        name=path.stem,
        p=p,
        xy=xy,
        cost=np.floor(_euclid(xy) + 1e-9),
        demand=rows[:, 3].copy(),
        capacity=np.full(n, q),
        published=float(nums[1]),
    )


def read_lorena_senne(path: str | Path) -> CapacitatedInstance:
    """Read a Lorena & Senne capacitated p-median file (``.dat``).

    Format: ``n p``, then ``n`` lines ``x y capacity demand``; costs are real (unrounded)
    Euclidean distances.
    """
    path = Path(path)
    nums = _numbers(path)
    if nums.size < 2:
        raise DataFileError(path, "missing header 'n p'", row=1)
    n, p = int(nums[0]), int(nums[1])
    body = nums[2:]
    if body.size < 4 * n:
        raise DataFileError(path, f"header says {n} nodes but only {body.size // 4} are present")
    rows = body[: 4 * n].reshape(n, 4)
    xy = rows[:, :2]
    return CapacitatedInstance(
        name=path.stem,
        p=p,
        xy=xy,
        cost=_euclid(xy),
        demand=rows[:, 3].copy(),
        capacity=rows[:, 2].copy(),
    )
