"""``ast.parse`` for every caller in the build process, one at a time.

CPython 3.11 keeps the AST constructor's recursion depth per interpreter, not per thread: two
threads parsing at once (the executor's slot threads read notebook scripts for their imports
while the main thread parses claims) can fail with "SystemError: AST constructor recursion
depth mismatch" (python/cpython#106905). Parsing is quick; a lock costs nothing measurable.
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()   # the one shared object here: the interpreter's parser is shared too


def parse(source: str | bytes, filename: str = "<unknown>", mode: str = "exec") -> ast.AST:
    with _LOCK:
        return ast.parse(source, filename=filename, mode=mode)
