"""One run at a time per output folder.

An advisory `flock` on OUTPUT/.newsbrief.lock: the kernel releases it when the process dies,
however it dies, so a lock left by a killed run never blocks the next night.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pipeline.errors import AlreadyRunningError, OutputError

LOCK_NAME = ".newsbrief.lock"


@contextmanager
def run_lock(output_dir: Path) -> Iterator[None]:
    path = output_dir / LOCK_NAME
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # a read-only or missing parent folder: one clear line, not a trace
        raise OutputError(f"cannot create the lock file {path}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise AlreadyRunningError(
                f"another newsbrief run is using {output_dir} ({holder}); this run exits doing nothing"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"pid {os.getpid()}, started {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %Z}\n".encode(), 0
        )
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
