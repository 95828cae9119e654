"""JSON text of Doorstep results: UTF-8 (Chinese kept readable), numpy values as plain numbers.

Light on purpose (numpy is imported only when a numpy value is met), so the command line can use
it without loading the analysis stack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from doorstep.geo.atomic import write_text


def json_text(obj: Any) -> str:
    """``obj`` as indented JSON text ending in a newline; NaN/inf become ``null``."""
    return json.dumps(obj, ensure_ascii=False, indent=2, default=_default) + "\n"


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (:func:`geo.atomic.write_text`)."""
    return write_text(path, json_text(obj))


def _default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        v = float(o)
        return None if v != v or v in (float("inf"), float("-inf")) else v
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, Path):
        return str(o)
    return str(o)
