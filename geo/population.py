"""Population from a user table (by village or by township code), or from published township figures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import DataFileError
from .modelled import split_total
from .params import PopulationParams, PublishedPopulationParams
from .readers import read_population_table, read_table, require_columns


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


_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(万)?\s*$")
_YEAR = re.compile(r"^(?:end-)?(\d{4})\b")


def parse_count(value: str) -> int | None:
    """A published head count: ``"28588"`` → 28588, ``"10.3万"`` → 103000; vague values → None.

    Values with a qualifier (``约``, ``余``, ranges) are not exact counts and give None.
    """
    m = _COUNT.match(str(value))
    if m is None:
        return None
    return round(float(m.group(1)) * (10_000 if m.group(2) else 1))


def parse_year(era: str) -> int | None:
    """The year of a dated fact (``"2015-11-30 (…)"``, ``"end-2019"``, ``"2016"``); undated or
    approximate eras (``"pre-2015"``, ``"c.2010"``, ``"old gazetteer"``) → None."""
    m = _YEAR.match(str(era).strip())
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class PublishedShare:
    """One township's registered (户籍) count, its county denominator and the resulting share."""

    code: str
    name: str
    registered: int
    year: int
    county_registered: float
    fact: str
    url: str

    @property
    def share(self) -> float:
        return self.registered / self.county_registered


def _county_registered(facts: pd.DataFrame, county: str, names: tuple[str, ...]) -> np.ndarray:
    rows = facts[(facts["unit"] == county) & facts["fact"].isin(names)]
    pts = sorted(
        (y, c)
        for y, c in zip(
            rows["year_or_era"].map(parse_year), rows["value"].map(parse_count), strict=True
        )
        if y is not None and c is not None
    )
    return np.array(pts, dtype=float).reshape(-1, 2)


def published_shares(
    path: str | Path, townships: pd.DataFrame, county: str, params: PublishedPopulationParams
) -> list[PublishedShare]:
    """Registered shares of townships from a published-facts table (unit, fact, value, year_or_era, url).

    Per township (matched by ``name``) the latest exact count of a fact in
    ``params.township_facts`` dated ``since_year`` or later is used. Its denominator is the
    county's registered total in that year, linear between the published county totals
    (``params.county_facts``) and the nearest one outside them:
    :math:`s_t = R_t(y) / R_{county}(y)`.
    """
    facts = read_table(path, dtype_str=())
    require_columns(facts, ["unit", "fact", "value", "year_or_era", "url"], path)
    totals = _county_registered(facts, county, params.county_facts)
    if len(totals) == 0:
        raise DataFileError(
            path,
            f"no county registered total for {county}",
            field="fact",
            fix=f"add a row with fact in {list(params.county_facts)} or edit data/params/model.toml",
        )
    out = []
    for code, name in zip(townships["code"], townships["name"], strict=True):
        rows = facts[(facts["unit"] == name) & facts["fact"].isin(params.township_facts)]
        best: tuple[int, int, str, str] | None = None
        for _, r in rows.iterrows():
            y, c = parse_year(r["year_or_era"]), parse_count(r["value"])
            if y is None or c is None or y < params.since_year:
                continue
            if best is None or y > best[0]:
                best = (y, c, str(r["fact"]), str(r["url"]))
        if best is not None:
            denom = float(np.interp(best[0], totals[:, 0], totals[:, 1]))
            out.append(PublishedShare(str(code), str(name), best[1], best[0], denom, *best[2:]))
    if sum(s.share for s in out) >= 1.0:
        raise DataFileError(
            path, "published township shares add up to 100 % or more", field="value"
        )
    return out


def population_with_published(
    villages: pd.DataFrame, total: int, base: np.ndarray, shares: list[PublishedShare]
) -> np.ndarray:
    """Village populations: published townships get ``round(s_t × total)``, the rest the remainder.

    Township totals are rounded together with the remainder by largest remainder, so they sum
    to ``total``. Each bucket (a published township, or all other townships together) is split
    over its villages in proportion to ``base``, the fully modelled populations
    (:func:`geo.modelled.model_population`), which keeps the modelled urban–rural contrast:
    :math:`p_v = T_b · base_v / Σ_{u∈b} base_u`.
    """
    w = [s.share for s in shares]
    buckets = split_total(total, np.array([*w, 1.0 - sum(w)]))
    pop = np.zeros(len(villages), dtype=np.int64)
    town = villages["town_code"].to_numpy()
    weight = np.maximum(np.asarray(base, dtype=float), 1.0)
    members = [np.flatnonzero(town == s.code) for s in shares]
    members.append(np.flatnonzero(~np.isin(town, [s.code for s in shares])))
    for idx, t_total in zip(members, buckets, strict=True):
        if len(idx):
            pop[idx] = split_total(int(t_total), weight[idx])
    return pop
