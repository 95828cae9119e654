"""The ``doorstep`` command line: a thin layer over :mod:`geo`, :mod:`analysis` and :mod:`webmap`.

Errors a user can fix (:class:`geo._errors.DoorstepError`, and file-system refusals) are printed
as one message, in Chinese and English where the command has both, and exit with status 2 —
never a traceback. Command modules import only light modules at the top (the analysis stack is
imported when a command runs), so ``doorstep --help`` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from doorstep.geo._errors import DoorstepError

from . import __version__, commands

log = logging.getLogger("doorstep")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command found in :mod:`doorstep.commands`."""
    parser = argparse.ArgumentParser(
        prog="doorstep",
        description="Doorstep 家门口法律服务规划 — coverage, siting and circuits for rural legal services",
    )
    parser.add_argument("--version", action="version", version=f"doorstep {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{commands.__name__}.{info.name}")
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``doorstep`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else (logging.WARNING if args.quiet else logging.INFO)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("pyogrio").setLevel(max(level, logging.WARNING))  # "Created N records"
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except DoorstepError as exc:
        return _fail(str(exc))
    except OSError as exc:  # the file system refused: permission, disk full, missing folder
        where = f" ({exc.filename})" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}; check the path and its permissions")
    except KeyboardInterrupt:
        sys.stderr.write("doorstep: interrupted; no partial output was kept\n")
        return 130


def _fail(message: str) -> int:
    sys.stderr.write(f"doorstep: 错误 error: {message}\n")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
