"""Memory readings shared by the benchmark scripts (Linux: ``/proc/self/status``)."""

from __future__ import annotations


def rss_kib(field: str) -> int:
    """A memory field of this process in KiB: ``"VmRSS"`` (resident now) or ``"VmHWM"`` (peak resident); 0 if absent."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field):
                return int(line.split()[1])
    return 0
