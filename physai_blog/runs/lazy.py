"""An executor made on first use.

The local pool's module (``executor.py``: subprocess, sockets, threads, its fork server) costs
a fresh process ~10 ms to import, and a build whose runs and figures are all cached, like
every build of a text-only blog, never hands it a task.  ``Deferred`` stands in for the
executor and makes the real one only when something asks for it.
"""

from __future__ import annotations

from typing import Callable


class Deferred:
    """``make()`` on the first attribute asked for; ``close`` closes only what was made."""

    def __init__(self, make: Callable[[], object]):
        self._make = make
        self._made = None

    @property
    def made(self) -> bool:
        return self._made is not None

    def __getattr__(self, name: str):
        if self._made is None:
            self._made = self._make()
        return getattr(self._made, name)

    def close(self) -> None:
        if self._made is not None and hasattr(self._made, "close"):
            self._made.close()
