"""Sub-commands of the ``doorstep`` command line.

Each module here defines ``register(subparsers)`` which adds one or more sub-commands whose
handler is ``func(args) -> int``. :mod:`doorstep.cli` discovers the modules automatically, so a
new command is one new file. Every module is imported to build the parser (even for
``doorstep --help``), so at the top it imports only the standard library and light Doorstep
modules (``geo.params``, ``geo._errors``, ``_common``); the analysis stack (geopandas, networkx,
Flask, ...) is imported inside the command functions. ``tests/doorstep/test_cli_errors.py``
checks this.
"""
