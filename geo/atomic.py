"""Write-then-rename helpers: an interrupted write never replaces a good file with a partial one.

Every writer in Doorstep (GeoPackage/CSV/JSON/HTML exports, reports, scenario files) writes to a
temporary file in the *same folder* as the target and then calls :func:`os.replace`, which is
atomic on POSIX and Windows when source and target are on one file system. A crash, ``kill -9``
or full disk in the middle of the write leaves the previous file byte-for-byte intact; at worst a
hidden ``.<name>.*.tmp`` file stays behind (:func:`remove_stale_temps` cleans those up).

Examples
--------
>>> with atomic_write("report.json") as fh:          # doctest: +SKIP
...     fh.write("{}")
>>> with atomic_path("model.gpkg") as tmp:            # doctest: +SKIP
...     gdf.to_file(tmp, layer="villages", driver="GPKG")
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ._errors import DataFileError

log = logging.getLogger(__name__)

TEMP_MARK = ".partial-"


def file_mode() -> int:
    """Mode for files Doorstep writes: readable by others (``0o666`` minus the umask, 0644 usually).

    Temporary files made by :mod:`tempfile` are 0600; every atomic writer resets the mode
    before the rename, so an atlas or ledger can be served by a web server without a chmod.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _check_target(target: str | Path) -> Path:
    final = Path(target)
    if final.is_dir():
        raise DataFileError(final, "is a folder", fix="give a file name")
    parent = final.parent if str(final.parent) else Path(".")
    if not parent.is_dir():
        raise DataFileError(parent, "output folder does not exist", fix="create it first")
    return final


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (makes a rename durable on POSIX); silently skipped
    where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_path_for(target: str | Path) -> Path:
    """A fresh, unused temporary path next to ``target`` (the file is not created).

    The name is hidden (leading dot) and keeps the target's suffix, so drivers that choose the
    format from the suffix (GeoPackage, Parquet) still work.
    """
    final = _check_target(target)
    parent = final.parent if str(final.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}{TEMP_MARK}", suffix=final.suffix, dir=parent)
    os.close(fd)
    os.unlink(tmp)
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(target: str | Path, *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success rename it onto ``target``.

    Use this for writers that take a path (``GeoDataFrame.to_file``, ``to_parquet``,
    ``folium.Map.save``, ``sqlite3.connect`` + backup). If the block raises, the temporary file is
    removed and ``target`` is untouched. If the block writes nothing, ``target`` is untouched too.
    """
    final = _check_target(target)
    tmp = temp_path_for(final)
    try:
        yield tmp
        if not tmp.exists():
            raise DataFileError(final, "the writer produced no output", fix="report this as a bug")
        if fsync:
            _fsync(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, final)
        if fsync:
            _fsync(final.parent if str(final.parent) else Path("."))
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        # GDAL/SQLite side files of the temporary (journal, WAL, shm)
        for side in ("-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(tmp) + side).unlink()


@contextlib.contextmanager
def atomic_write(
    target: str | Path,
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
    fsync: bool = True,
) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; rename it onto ``target`` when the block succeeds.

    Parameters
    ----------
    target
        Final path.
    mode
        ``"w"`` (text) or ``"wb"`` (binary).
    encoding, newline
        As for :func:`open` (ignored in binary mode). Use ``encoding="utf-8-sig"`` for CSV files
        that Excel on Chinese Windows must open correctly.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    with atomic_path(target, fsync=False) as tmp:
        kw: dict[str, Any] = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with open(tmp, mode, **kw) as fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())


def write_text(target: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically and return the path."""
    with atomic_write(target, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(target)


def write_bytes(target: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_write(target, "wb") as fh:
        fh.write(data)
    return Path(target)


def remove_stale_temps(folder: str | Path, *, older_than_s: float = 3600.0) -> list[Path]:
    """Delete temporary files left by interrupted atomic writes (hidden ``.<name>.partial-*`` files).

    Only files matching the pattern of :func:`temp_path_for` and older than ``older_than_s``
    seconds are removed, so a write in progress in another process is not disturbed.
    """
    now = time.time()
    removed = []
    for p in Path(folder).iterdir():
        if not (p.is_file() and p.name.startswith(".") and TEMP_MARK in p.name):
            continue
        try:
            if now - p.stat().st_mtime > older_than_s:
                p.unlink()
                removed.append(p)
        except FileNotFoundError:
            continue
    if removed:
        log.info("removed %d stale temporary file(s) in %s", len(removed), folder)
    return removed


STAGE_MARK = ".doorstep-partial-"


@contextlib.contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """Yield an empty hidden folder to write a whole set of outputs into, then move them into place.

    The staging folder is created inside ``target`` (so the final moves are renames on one file
    system). When the block succeeds, every file and folder written is moved into ``target``,
    replacing same-named ones and keeping any other file already there. When the block raises —
    an error, or ``KeyboardInterrupt`` from Ctrl-C — the staging folder is removed, and so are
    ``target`` and its parents if this call created them: nothing of the interrupted job is kept.
    """
    final = Path(target)
    if final.exists() and not final.is_dir():
        raise DataFileError(
            final, "is an existing file, not a folder", fix="give a folder name or remove the file"
        )
    created = [p for p in (final, *final.parents) if not p.exists()]
    final.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=STAGE_MARK, dir=final))
    ok = False
    try:
        yield stage
        _merge_folder(stage, final)
        ok = True
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not ok:
            for p in created:  # innermost first; only folders left empty
                with contextlib.suppress(OSError):
                    p.rmdir()


def _merge_folder(src: Path, dst: Path) -> None:
    """Move the content of ``src`` into ``dst`` by renames (a sub-folder merges recursively)."""
    for item in sorted(src.iterdir()):
        target = dst / item.name
        if item.is_dir() and target.is_dir():
            _merge_folder(item, target)
            continue
        if item.is_dir() != target.is_dir() and target.exists():
            kind = "folder" if target.is_dir() else "file"
            raise DataFileError(
                target, f"is a {kind} in the way of the output", fix="move it away and run again"
            )
        os.replace(item, target)
