"""Population from a user table (by village or by township code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import DataFileError
from .modelled import split_total
from .params import PopulationParams
from .readers import read_population_table


def population_from_table(
    path: str | Path, villages: pd.DataFrame, params: PopulationParams
) -> tuple[np.ndarray, str]:
    """Village populations from a table of village (12-digit) and/or township (9-digit) codes.

    Village rows are used as given. A township row is spread over those of its villages without a
    row of their own, by urban–rural class weight. Every village must be covered one way or the other.
    """
    t = read_population_table(path)
    vcodes = set(villages["code"])
    tcodes = set(villages["town_code"])
    unknown = [c for c in t["code"] if c not in vcodes and c not in tcodes]
    if unknown:
        row = int(t.index[t["code"] == unknown[0]][0]) + 2
        raise DataFileError(
            path,
            f"code {unknown[0]} is neither a village nor a township of this county",
            row=row,
            field="code",
            fix="use NBS codes of this county",
        )
    pop = np.full(len(villages), -1, dtype=np.int64)
    by_code = dict(zip(t["code"], t["population"], strict=True))
    for i, c in enumerate(villages["code"]):
        if c in by_code:
            pop[i] = by_code[c]
    for tc in tcodes:
        if tc not in by_code:
            continue
        idx = np.flatnonzero((villages["town_code"] == tc).to_numpy() & (pop < 0))
        if len(idx) == 0:
            continue
        assigned = int(pop[(villages["town_code"] == tc).to_numpy() & (pop >= 0)].sum())
        rest = int(by_code[tc]) - assigned
        if rest < 0:
            raise DataFileError(
                path,
                f"township {tc} total is smaller than its villages' rows",
                field="population",
                fix="make the township total include its listed villages",
            )
        sub = villages.iloc[idx]
        pop[idx] = split_total(rest, np.array([params.weight(int(u)) for u in sub["ur_code"]]))
    if (pop < 0).any():
        miss = villages["code"].iloc[int(np.flatnonzero(pop < 0)[0])]
        raise DataFileError(
            path,
            f"no population for village {miss} (nor for its township)",
            field="code",
            fix="add a row for the village or for its township",
        )
    return pop, f"user file {Path(path).name} ({len(t)} rows)"
