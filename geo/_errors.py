"""Domain exceptions for Doorstep.

Every error a user can provoke with bad input is one of these; the command line turns them into
a one-paragraph message (never a traceback). Each subclasses a built-in so callers can catch
``ValueError`` / ``OSError`` as usual.
"""

from __future__ import annotations

from pathlib import Path


class DoorstepError(Exception):
    """Base class of every Doorstep error that a user can cause and fix."""


class DataFileError(DoorstepError, ValueError):
    """A data file is unreadable or invalid.

    The message names the file, the row (1-based, counting the header as row 1 for tables)
    and the field, and says how to fix it.
    """

    def __init__(
        self,
        path: str | Path | None,
        problem: str,
        *,
        row: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.row = row
        self.field = field
        self.problem = problem
        self.fix = fix
        where = []
        if self.path is not None:
            where.append(f"file {self.path}")
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        msg = (", ".join(where) + ": " if where else "") + problem
        if fix:
            msg += f" — fix: {fix}"
        super().__init__(msg)


class CRSError(DataFileError):
    """Coordinates in an unknown or mixed coordinate reference system (e.g. GCJ-02 vs WGS84)."""


class InputError(DoorstepError, ValueError):
    """A parameter given by the user is out of range or inconsistent."""


class InfeasibleError(DoorstepError, ValueError):
    """An optimisation problem has no feasible solution; the message names the culprits."""


class SolverError(DoorstepError, RuntimeError):
    """A solver failed for a reason other than infeasibility (status is in the message)."""
