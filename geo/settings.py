"""Where Doorstep finds its data.

Two folders matter:

* the **reference data directory** (read-only public data such as the Huayuan layers), found
  through ``DOORSTEP_DATA``, else ``../shared/data`` next to the project checkout (or the current
  directory), else a user cache folder ``~/.cache/doorstep/data``;
* the **project data directory** ``data/`` of this repository (schemas, source registry,
  modelling parameters, fixtures), overridable with ``DOORSTEP_PROJECT_DATA``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._errors import DataFileError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def project_data_dir() -> Path:
    """Return the project's own ``data/`` folder (parameters, schemas, fixtures)."""
    env = os.environ.get("DOORSTEP_PROJECT_DATA")
    return Path(env) if env else PROJECT_ROOT / "data"


def data_dir(explicit: str | Path | None = None) -> Path:
    """Return the reference data directory.

    Parameters
    ----------
    explicit
        A folder given on the command line (``--data``); wins over everything else.

    Raises
    ------
    DataFileError
        If the chosen folder does not exist.
    """
    if explicit is not None:
        p = Path(explicit)
        if not p.is_dir():
            raise DataFileError(
                p, "data directory does not exist", fix="pass an existing folder to --data"
            )
        return p
    env = os.environ.get("DOORSTEP_DATA")
    if env:
        p = Path(env)
        if not p.is_dir():
            raise DataFileError(
                p,
                "DOORSTEP_DATA points to a folder that does not exist",
                fix="unset it or fix the path",
            )
        return p
    for cand in (PROJECT_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if cand.is_dir():
            return cand
    return Path.home() / ".cache" / "doorstep" / "data"


def huayuan_dir(explicit: str | Path | None = None) -> Path:
    """Return the folder holding the Huayuan (433124) reference layers."""
    p = data_dir(explicit) / "huayuan"
    if not p.is_dir():
        raise DataFileError(
            p,
            "the Huayuan reference layers are missing",
            fix="set DOORSTEP_DATA to the folder that contains huayuan/ (e.g. ../shared/data)",
        )
    return p
