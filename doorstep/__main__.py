"""``python -m doorstep``: the same as the ``doorstep`` command."""

import sys

from doorstep.cli import main

sys.exit(main())
