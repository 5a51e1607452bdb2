"""Checking a command's outputs before its work: a file option must name a writable file, a folder option a
writable (or creatable) folder, so that an hour of scoring or optimisation is not lost to a typo."""

from __future__ import annotations

import os
from pathlib import Path


def _writable_parent(path: Path, option: str) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    existing = next((p for p in (parent, *parent.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise ValueError(f"{option} {str(path)!r}: {str(existing)!r} is a file, not a folder")
    if existing != parent and not os.access(existing, os.W_OK):
        raise ValueError(f"{option} {str(path)!r}: cannot create the folder {str(parent)!r} (no write permission)")
    if existing == parent and not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {str(path)!r}: the folder {str(parent)!r} is not writable")


def check_output_file(path: str | os.PathLike | None, option: str) -> Path | None:
    """``path`` if a file can be written there (``None`` passes); its missing parent folders are created.

    Raises:
        ValueError: the path is a folder, or its folder is a file or not writable; the message names ``option``.
    """
    if path is None:
        return None
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {str(path)!r} is a folder; expected a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{option} {str(path)!r} is not writable")
    _writable_parent(path, option)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"{option} {str(path)!r}: cannot create its folder ({error.strerror})") from None
    return path


def check_output_folder(path: str | os.PathLike | None, option: str) -> Path | None:
    """``path`` if it is a writable folder or one that can be created (``None`` passes).

    Raises:
        ValueError: the path is a file, or it cannot be written or created; the message names ``option``.
    """
    if path is None:
        return None
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {str(path)!r} is a file; expected a folder")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise ValueError(f"{option} {str(path)!r} is not writable")
    else:
        _writable_parent(path, option)
    return path


__all__ = ["check_output_file", "check_output_folder"]
