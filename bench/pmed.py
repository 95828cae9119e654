"""Solve OR-Library p-median files exactly and compare with the published optima.

Usage: ``python bench/pmed.py FILE... [--time-limit S] [--spopt] [--spopt-limit S]
[--generate N:P ...] [--seed S] [--out DIR]``

Prints one JSON line per instance (``instance, n, p, objective, optimal, lower_bound, seconds,
sites`` with sites numbered as in the file), then a comparison with
``pmedopt_1-20.txt`` (next to the files) when the instance is listed there. With ``--spopt``,
also runs spopt's ``PMedian`` with HiGHS on the same distance matrix in the Python 3.12 venv
(``/work/venv312``, override with ``SPOPT_PYTHON``) and prints ``spopt ratio: N.Nx``.

``--generate N:P`` writes (to ``--out``, default a temporary folder) and then solves a
*generated* instance in the OR-Library format, made as Beasley (1985) describes his: a random
connected graph on ``N`` vertices with ``N*N/50`` edges (a random spanning tree plus random
extra edges; repeated pairs allowed, the last cost wins), integer edge costs uniform on
1..100, ``p = P``. These are not the published pmed21-40 (those files are not in shared/), so
no published optimum is compared; the instance name says ``gen``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from doorstep.analysis.siting.pmedian import pmedian
from doorstep.analysis.siting.readers import read_pmed

SPOPT_SCRIPT = r"""
import sys, time, json, numpy as np, pulp
from spopt.locate import PMedian
d = np.load(sys.argv[1]); p = int(sys.argv[2]); limit = float(sys.argv[3])
t = time.perf_counter()
m = PMedian.from_cost_matrix(d, np.ones(d.shape[0]), p_facilities=p)
m = m.solve(pulp.HiGHS(msg=False, timeLimit=limit))
print(json.dumps({"seconds": time.perf_counter() - t, "objective": float(pulp.value(m.problem.objective)),
                  "status": pulp.LpStatus[m.problem.status]}))
"""


# OR-Library ``pmedopt`` values of the larger instances (not in shared/), for files a user
# supplies; ``pmedopt_1-20.txt`` next to the files takes precedence.
PMEDOPT_21_40 = {
    "pmed21": 9138, "pmed22": 8579, "pmed23": 4619, "pmed24": 2961, "pmed25": 1828,
    "pmed26": 9917, "pmed27": 8307, "pmed28": 4498, "pmed29": 3033, "pmed30": 1989,
    "pmed31": 10086, "pmed32": 9297, "pmed33": 4700, "pmed34": 3013, "pmed35": 10400,
    "pmed36": 9934, "pmed37": 5057, "pmed38": 11060, "pmed39": 9423, "pmed40": 5128,
}  # fmt: skip


def published(path: Path) -> dict[str, float]:
    table = path.parent / "pmedopt_1-20.txt"
    out: dict[str, float] = {k: float(v) for k, v in PMEDOPT_21_40.items()}
    if table.is_file():
        for line in table.read_text().splitlines()[1:]:
            parts = line.split()
            if len(parts) == 2:
                out[parts[0]] = float(parts[1])
    return out


def run_spopt(dist: np.ndarray, p: int, limit: float) -> dict | None:
    py = os.environ.get("SPOPT_PYTHON", "/work/venv312/bin/python")
    if not Path(py).exists():
        print(f"spopt: skipped ({py} not found)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "d.npy"
        np.save(f, dist)
        try:
            cp = subprocess.run(
                [py, "-c", SPOPT_SCRIPT, str(f), str(p), str(limit)],
                capture_output=True,
                text=True,
                timeout=limit * 3 + 120,
            )
        except subprocess.TimeoutExpired:
            return {"seconds": limit * 3 + 120, "status": "killed"}
    if cp.returncode != 0:
        print("spopt failed:", cp.stderr.strip().splitlines()[-1:] or "?")
        return None
    return json.loads(cp.stdout.strip().splitlines()[-1])


def generate(n: int, p: int, seed: int, out: Path) -> Path:
    """Write an OR-Library-style p-median instance (see the module docstring); return its path."""
    rng = np.random.default_rng(seed)
    m = max(n - 1, n * n // 50)
    perm = rng.permutation(n)
    tree_a = perm[1:]
    tree_b = perm[(rng.random(n - 1) * np.arange(1, n)).astype(int)]  # an earlier vertex
    extra = m - (n - 1)
    ea = rng.integers(0, n, extra)
    eb = (ea + rng.integers(1, n, extra)) % n  # never a loop
    a = np.concatenate([tree_a, ea]) + 1
    b = np.concatenate([tree_b, eb]) + 1
    order = rng.permutation(m)
    c = rng.integers(1, 101, m)
    path = out / f"gen{n}_{p}_s{seed}.txt"
    lines = [f" {n} {m} {p}"] + [f" {a[t]} {b[t]} {c[t]}" for t in order]
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--spopt", action="store_true", help="also time spopt PMedian + HiGHS")
    ap.add_argument("--spopt-limit", type=float, default=120.0)
    ap.add_argument(
        "--generate",
        action="append",
        default=[],
        metavar="N:P",
        help="also solve a generated OR-Library-style instance with N vertices and P medians",
    )
    ap.add_argument("--seed", type=int, default=1, help="seed of generated instances")
    ap.add_argument("--out", type=Path, help="folder for generated instances (default: temp)")
    args = ap.parse_args(argv)
    files = list(args.files)
    tmp = tempfile.TemporaryDirectory()
    out = args.out or Path(tmp.name)
    out.mkdir(parents=True, exist_ok=True)
    for spec in args.generate:
        try:
            n, p = (int(v) for v in spec.split(":"))
        except ValueError:
            ap.error(f"--generate expects N:P (e.g. 900:90), got {spec!r}")
        files.append(generate(n, p, args.seed, out))
    if not files:
        ap.error("give OR-Library files and/or --generate N:P")
    for path in files:
        t0 = time.perf_counter()
        inst = read_pmed(path)
        res = pmedian(inst.problem, inst.p, time_limit=args.time_limit)
        secs = time.perf_counter() - t0
        line = {
            "instance": inst.name,
            "n": inst.n,
            "p": inst.p,
            "objective": res.objective,
            "optimal": res.optimal,
            "lower_bound": res.lower_bound,
            "seconds": round(secs, 3),
            "sites": [int(j) + 1 for j in res.new_sites],
        }
        print(json.dumps(line), flush=True)
        known = published(path).get(inst.name)
        if known is not None:
            verdict = "matched" if abs(known - res.objective) < 1e-6 else "MISMATCH"
            print(f"published optimum {known:g}: {verdict}", flush=True)
        if args.spopt:
            sp = run_spopt(inst.problem.cost, inst.p, args.spopt_limit)
            if sp is not None:
                print(f"spopt: {json.dumps(sp)}")
                print(f"spopt ratio: {sp['seconds'] / secs:.1f}x", flush=True)
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
