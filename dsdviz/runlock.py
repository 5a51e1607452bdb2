"""One run per output: an exclusive lock file beside what a run writes.

A training run locks its folder (``<out>/.lock``), an image optimisation its trajectory file
(``<out>.lock``). The lock file is created atomically (``O_CREAT | O_EXCL``) and holds the owner's
process id, host name and start time as JSON; it is removed when the run ends. A second run on the
same output is refused with a message naming the owner. A lock whose owner is gone (same host, no
such process: a run killed with ``kill -9``) is stale and is taken over; a lock from another host
cannot be checked and is refused, with the file to delete if that run is over. The same process
may take a lock it already holds (a notebook that builds a second trainer on its own folder).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class RunLock:
    """An exclusive lock on a run's output ``target`` (a folder: ``<target>/.lock``; a file: ``<target>.lock``).

    Use as a context manager, or :meth:`acquire` and :meth:`release`.

    Args:
        target: the run's output folder or file.
        folder: whether ``target`` is a folder (default: a path without suffix is one).
    """

    def __init__(self, target: str | os.PathLike, *, folder: bool | None = None) -> None:
        self.target = Path(target)
        is_folder = self.target.suffix == "" if folder is None else folder
        self.path = self.target / ".lock" if is_folder else self.target.with_name(self.target.name + ".lock")
        self.held = False

    def owner(self) -> dict | None:
        """The lock file's content (``pid``, ``host``, ``started``), or ``None`` when there is none or it is unreadable."""
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def acquire(self) -> RunLock:
        """Take the lock (taking over a stale one).

        Raises:
            ValueError: another live run holds it (the message names its process and host), or the
                folder cannot be written.
        """
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(f"cannot create {str(self.path.parent)!r}: {error.strerror}") from None
        for _ in range(3):
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.owner()
                if holder is None:  # being written by its owner right now, or garbage: look again shortly
                    time.sleep(0.1)
                    holder = self.owner()
                if holder is not None and holder.get("pid") == me["pid"] and holder.get("host") == me["host"]:
                    self.held = True
                    return self
                if holder is not None and holder.get("host") == me["host"] and not _alive(int(holder.get("pid", -1))):
                    self.path.unlink(missing_ok=True)  # stale: its process is gone
                    continue
                who = (f"process {holder.get('pid')} on {holder.get('host')}, since {holder.get('started')}"
                       if holder else "an unreadable lock file")  # fmt: skip
                raise ValueError(
                    f"{str(self.target)!r} is in use by another run ({who}); wait for it to finish or choose another "
                    f"output. If that run is gone, delete {str(self.path)!r}"
                ) from None
            except OSError as error:
                raise ValueError(f"cannot write in {str(self.path.parent)!r}: {error.strerror}") from None
            with os.fdopen(handle, "w") as file:
                json.dump(me, file)
            self.held = True
            return self
        raise ValueError(f"could not take the lock {str(self.path)!r}: other runs keep taking it over")

    def release(self) -> None:
        """Remove the lock file if this process holds it."""
        if self.held:
            holder = self.owner()
            if holder is None or holder.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


__all__ = ["RunLock"]
