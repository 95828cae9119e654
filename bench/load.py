"""Load test of the nearest-service-point API: ``doorstep serve`` on loopback, N requests.

Starts ``python -m doorstep.cli serve`` (waitress) on 127.0.0.1 on a free port as a subprocess,
waits for ``/api/health``, then drives ``GET /api/nearest`` with random points inside the county
(drawn uniformly in the county polygon, seeded) from a bounded number of client threads, each
with one keep-alive ``http.client`` connection. Prints requests/s, p50/p90/p99/max latency and the
error count, then stops the server.

Usage::

    PYTHONPATH=. python bench/load.py                         # 10,000 requests, 4 clients
    PYTHONPATH=. python bench/load.py --requests 2000 --clients 4 --mode walk
    PYTHONPATH=. python bench/load.py --url http://127.0.0.1:8000   # an already running server

Target on a 2-core machine: >= 200 requests/s, p99 < 100 ms, zero errors over 10,000 requests.
An error is a non-200 answer, a connection failure or a body without ``results``.

With ``--tool wrk`` (Debian package ``wrk``) the same server is driven by wrk instead: 2 threads,
8 keep-alive connections, 20 s, each request a random point (drawn over the county's bounding box,
kept inside the outline) in a random mode of the three (``bench/nearest.lua``); prints req/s,
p50/p90/p99 and the non-2xx count::

    PYTHONPATH=. python bench/load.py --tool wrk                  # the issue-16 run
    PYTHONPATH=. python bench/load.py --tool wrk --workers 2 --duration 20 --connections 8

Target with wrk on 2 cores: >= 1,000 requests/s, p99 < 50 ms, zero non-2xx answers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def county_points(n: int, seed: int) -> np.ndarray:
    """``n`` random (lon, lat) points inside the county polygon (rejection sampling)."""
    import shapely

    from doorstep.geo.model import build_county_model

    model = build_county_model()
    poly = model.county.geometry.union_all()
    minx, miny, maxx, maxy = poly.bounds
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        xy = rng.uniform([minx, miny], [maxx, maxy], size=(4 * n, 2))
        keep = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        out.append(keep)
        got += len(keep)
    return np.vstack(out)[:n]


def start_server(
    port: int, threads: int, instance: Path, workers: int = 1
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "DOORSTEP_INSTANCE": str(instance),
    }
    cmd = [
        sys.executable,
        "-m",
        "doorstep.cli",
        "-q",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--threads",
        str(threads),
        "--workers",
        str(workers),
        "--instance",
        str(instance),
    ]
    log = open(instance / "server.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_ready(host: str, port: int, proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with status {proc.returncode} before it was ready")
        try:
            c = http.client.HTTPConnection(host, port, timeout=5)
            c.request("GET", "/api/health")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server not ready after {timeout:.0f} s")


def warm_up(host: str, port: int, pts: np.ndarray, mode: str) -> None:
    c = http.client.HTTPConnection(host, port, timeout=30)
    for lon, lat in pts[:20]:
        c.request("GET", f"/api/nearest?lon={lon:.6f}&lat={lat:.6f}&mode={mode}")
        c.getresponse().read()
    c.close()


def drive(
    host: str, port: int, pts: np.ndarray, clients: int, mode: str, timeout: float
) -> tuple[np.ndarray, int, list[str], float]:
    """Send one request per point from ``clients`` threads; return latencies (s), errors, wall."""
    lat_s = np.full(len(pts), np.nan)
    errors: list[str] = []
    lock = threading.Lock()
    nxt = iter(range(len(pts)))

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        while True:
            with lock:
                i = next(nxt, None)
            if i is None:
                break
            lon, lat = pts[i]
            path = f"/api/nearest?lon={lon:.6f}&lat={lat:.6f}&mode={mode}"
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                body = r.read()
                lat_s[i] = time.perf_counter() - t0
                if r.status != 200 or b'"results"' not in body:
                    with lock:
                        errors.append(f"{r.status} {path}: {body[:200]!r}")
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=timeout)
            except (OSError, http.client.HTTPException) as exc:
                lat_s[i] = time.perf_counter() - t0
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc} on {path}")
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return lat_s, len(errors), errors[:5], wall


def run_wrk(
    host: str, port: int, pts: np.ndarray, args: argparse.Namespace, folder: Path
) -> dict[str, float]:
    """Drive the server with wrk and ``bench/nearest.lua``; return the script's JSON figures."""
    listing = folder / "points.txt"
    listing.write_text("".join(f"{lon:.6f} {lat:.6f}\n" for lon, lat in pts))
    cmd = [
        "wrk",
        f"-t{args.wrk_threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-s",
        str(ROOT / "bench" / "nearest.lua"),
        f"http://{host}:{port}",
        "--",
        str(listing),
        str(args.seed),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    fig: dict[str, float] = json.loads(line.removeprefix("WRKJSON "))
    return fig


def wrk_report(fig: dict[str, float], args: argparse.Namespace, as_json: bool) -> int:
    """Print wrk's figures; 0 when every answer was 2xx and nothing failed on the socket."""
    bad = int(fig["status_4xx"] + fig["status_5xx"] + fig["status_other"] + fig["socket_errors"])
    fig = {**fig, "non_2xx": fig["requests"] - fig["status_2xx"], "workers": args.workers}
    fig |= {"server_threads": args.threads, "connections": args.connections}
    fig |= {"wrk_threads": args.wrk_threads, "cpus": os.cpu_count() or 0}
    if as_json:
        print(json.dumps(fig))
        return 0 if bad == 0 else 1
    print(
        f"nearest API under wrk (-t{args.wrk_threads} -c{args.connections} -d{args.duration}s, "
        f"modes walk/motorbike/car): {args.workers} worker(s) x {args.threads} threads, "
        f"{fig['cpus']} CPUs"
    )
    print(
        f"  {fig['rps']:.1f} req/s ({int(fig['requests'])} requests); latency p50 "
        f"{fig['p50_ms']:.1f} ms, p90 {fig['p90_ms']:.1f} ms, p99 {fig['p99_ms']:.1f} ms, max "
        f"{fig['max_ms']:.1f} ms; non-2xx {int(fig['non_2xx'])} (4xx {int(fig['status_4xx'])}, "
        f"5xx {int(fig['status_5xx'])}), socket errors {int(fig['socket_errors'])}"
    )
    ok = fig["rps"] >= 1000 and fig["p99_ms"] < 50 and bad == 0
    print(f"  target (>= 1,000 req/s, p99 < 50 ms, 0 errors): {'MET' if ok else 'MISSED'}")
    return 0 if bad == 0 else 1


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=4, help="concurrent keep-alive connections")
    ap.add_argument("--threads", type=int, default=8, help="server threads (per worker)")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    ap.add_argument("--tool", choices=["python", "wrk"], default="python", help="load driver")
    ap.add_argument("--duration", type=int, default=20, help="wrk: seconds")
    ap.add_argument("--connections", type=int, default=8, help="wrk: keep-alive connections")
    ap.add_argument("--wrk-threads", type=int, default=2, help="wrk: threads")
    ap.add_argument("--mode", default="car", choices=["walk", "motorbike", "car"])
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=30.0, help="per-request timeout (s)")
    ap.add_argument("--url", help="use a running server instead of starting one")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if not 1 <= args.clients <= 256 or not 1 <= args.requests <= 1_000_000:
        ap.error("--clients must be 1..256 and --requests 1..1,000,000")

    pts = county_points(args.requests, args.seed)
    proc = None
    tmp = None
    if args.url:
        u = urlsplit(args.url)
        host, port = u.hostname or "127.0.0.1", u.port or 80
    else:
        tmp = tempfile.TemporaryDirectory(prefix="doorstep-load-")
        host, port = "127.0.0.1", free_port()
        proc = start_server(port, args.threads, Path(tmp.name), args.workers)
    try:
        t_start = time.perf_counter()
        wait_ready(host, port, proc, timeout=180)
        ready_s = time.perf_counter() - t_start
        for mode in ("walk", "motorbike", "car") if args.tool == "wrk" else (args.mode,):
            warm_up(host, port, pts, mode)
        if args.tool == "wrk":
            with tempfile.TemporaryDirectory(prefix="doorstep-wrk-") as folder:
                wfig = run_wrk(host, port, pts, args, Path(folder))
        else:
            lat_s, n_err, examples, wall = drive(
                host, port, pts, args.clients, args.mode, args.timeout
            )
    finally:
        if proc is not None:
            stop_server(proc)
            if proc.returncode not in (0, -signal.SIGTERM) and tmp is not None:
                log = Path(tmp.name) / "server.log"
                if log.exists():
                    sys.stderr.write(log.read_text(errors="replace")[-2000:])
        if tmp is not None:
            tmp.cleanup()
    if args.tool == "wrk":
        return wrk_report(wfig, args, args.json)
    ms = lat_s[np.isfinite(lat_s)] * 1000
    fig = {
        "requests": len(pts),
        "clients": args.clients,
        "server_threads": args.threads,
        "mode": args.mode,
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(pts) / wall, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p90_ms": round(float(np.percentile(ms, 90)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "max_ms": round(float(ms.max()), 1),
        "errors": n_err,
        "server_ready_s": round(ready_s, 1) if proc is not None else None,
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(fig))
    else:
        print(
            f"nearest API load ({fig['mode']}): {fig['requests']} requests, {fig['clients']} clients, "
            f"{fig['server_threads']} server threads, {fig['cpus']} CPUs"
        )
        print(
            f"  {fig['requests_per_s']} req/s over {fig['wall_s']} s; latency p50 {fig['p50_ms']} ms, "
            f"p90 {fig['p90_ms']} ms, p99 {fig['p99_ms']} ms, max {fig['max_ms']} ms; "
            f"errors {fig['errors']}"
        )
        ok = fig["requests_per_s"] >= 200 and fig["p99_ms"] < 100 and n_err == 0
        print(f"  target (>= 200 req/s, p99 < 100 ms, 0 errors): {'MET' if ok else 'MISSED'}")
    for e in examples:
        print("  error:", e)
    return 0 if n_err == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
