"""CPU priority of background work (Linux threads have their own nice value)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

# Niceness of work nobody waits for (ingestion): it runs on whatever CPU requests leave.
BACKGROUND = 19
# Niceness of work a person waits for but that must not take the CPUs from searches (Argon2).
YIELDING = 10


def lower_this_thread(niceness: int) -> None:
    """Raise the calling thread's nice value to ``niceness``. Threads it starts afterwards
    (torch's OpenMP team, Tesseract's process) inherit it. Raising a nice value needs no
    privilege; lowering it again does, so a thread lowered here stays lowered."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
