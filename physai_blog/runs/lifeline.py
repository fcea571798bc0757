"""Workers die with the process that started them, however it stops (even SIGKILL): the
parent's pid travels in an environment variable, and Linux kills the child when it goes."""

from __future__ import annotations

import os
import signal
import sys

PARENT_ENV = "PHYSAI_PARENT"   # the pid a worker dies with


def die_with_parent(parent: int) -> None:
    """A worker never outlives the process that started it, however that one stops (even
    SIGKILL): Linux kills it when its parent exits.  ``parent`` is the pid it was started by;
    if that one is gone already, exit now."""
    if not sys.platform.startswith("linux") or not parent:
        return
    import ctypes
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)
