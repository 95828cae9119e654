"""Sub-commands of the ``doorstep`` command line.

Each module here defines ``register(subparsers)`` which adds one or more sub-commands whose
handler is ``func(args) -> int``. :mod:`doorstep.cli` discovers the modules automatically, so a
new command is one new file.
"""
