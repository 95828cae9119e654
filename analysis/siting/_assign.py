"""The assignment rows shared by the capacitated models (splittable and single-source)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._highs import Milp


def add_assignment(
    m: Milp,
    ycost: npt.NDArray[np.float64],
    ylo: npt.NDArray[np.float64],
    yhi: npt.NDArray[np.float64],
    ii: npt.NDArray[np.intp],
    jj: npt.NDArray[np.intp],
    xcost: npt.NDArray[np.float64],
    *,
    demands: npt.NDArray[np.intp],
    load: npt.NDArray[np.float64],
    caps: npt.NDArray[np.float64],
    assign_lo: float,
    x_integer: bool = False,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    r"""Add site columns ``y`` and pair columns ``x`` (pairs ``(ii, jj)``) with the rows

    .. math::

        a \le \sum_j x_{ij} \le 1, \qquad x_{ij} \le y_j, \qquad
        \sum_i q_i x_{ij} \le Q_j y_j \ (Q_j < \infty)

    (``a = assign_lo``, ``q = load``, ``Q = caps``); return the indices of ``y`` and ``x``.
    Each of ``demands`` (which must include every demand in ``ii``) gets an assignment row.
    """
    y = m.add_cols(ycost, ylo, yhi, integer=True)
    x = m.add_cols(xcost, 0.0, 1.0, integer=x_integer)
    cnt = np.bincount(ii, minlength=load.size)[demands]
    order = np.argsort(ii, kind="stable")
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    m.add_rows(np.full(demands.size, assign_lo), 1.0, start, x[order], np.ones(order.size))
    n_link = ii.size
    m.add_rows(
        np.full(n_link, -np.inf),
        0.0,
        np.arange(n_link) * 2,
        np.column_stack([x, y[jj]]).ravel(),
        np.tile([1.0, -1.0], n_link),
    )
    capped = np.flatnonzero(np.isfinite(caps))
    by_site = np.argsort(jj, kind="stable")
    first = np.searchsorted(jj[by_site], capped)
    last = np.searchsorted(jj[by_site], capped, side="right")
    idx = [
        np.concatenate([x[by_site[a:b]], [y[t]]])
        for t, a, b in zip(capped, first, last, strict=True)
    ]
    val = [
        np.concatenate([load[ii[by_site[a:b]]], [-caps[t]]])
        for t, a, b in zip(capped, first, last, strict=True)
    ]
    if capped.size:
        start_c = np.concatenate([[0], np.cumsum([v.size for v in idx])[:-1]])
        m.add_rows(
            np.full(capped.size, -np.inf), 0.0, start_c, np.concatenate(idx), np.concatenate(val)
        )
    return y, x
