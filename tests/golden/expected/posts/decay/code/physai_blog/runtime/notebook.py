"""Named values from a plain notebook post's cells, for ``value()`` and ``claim()`` in its
Markdown cells:

    from physai_blog.runtime import notebook as nb
    nb.log_value("slope", a)        # returns a, so it reads as an assignment

Inside a build the values go to the file the build names (``PHYSAI_NOTEBOOK_VALUES``);
run by hand in Jupyter, ``log_value`` only checks and returns the number.  Standard library
only: it ships in every reader package.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

VALUES_ENV = "PHYSAI_NOTEBOOK_VALUES"


def log_value(name: str, x):
    """Record the number ``x`` under ``name`` (letters, digits, _); returns ``x``."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"log_value: the name {name!r} must be letters, digits and _")
    number = x.item() if hasattr(x, "item") else x
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        try:
            number = float(number)
        except (TypeError, ValueError):
            raise ValueError(f"log_value: {name!r} is not a number: {x!r}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"log_value: {name!r} is {number}, not a finite number")
    target = os.environ.get(VALUES_ENV)
    if target:
        path = Path(target)
        values = json.loads(path.read_text()) if path.exists() else {}
        values[name] = number
        path.write_text(json.dumps(values, sort_keys=True, indent=1) + "\n")
    return x
