"""What code computed a run: a digest of the modules a training run imports.

:func:`code_version` digests the training package and every dsdviz module it imports,
directly or through other modules (the import statements are read with :mod:`ast`, including
those inside functions, and a module's parent packages count since importing it runs their
``__init__``). Code a run never imports (figures, experiments, the command line) does not
change it; editing a model, a loss or the data pipeline does.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
from pathlib import Path

import torch


def _module_file(root: Path, parts: tuple[str, ...]) -> Path | None:
    """The file of the module ``parts`` (relative to the package at ``root``), if it is one of its modules."""
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parents(root: Path, parts: tuple[str, ...]) -> list[Path]:
    """The module ``parts`` and the ``__init__.py`` of each package above it (all run by importing it)."""
    found = [root.joinpath(*parts[:depth], "__init__.py") for depth in range(len(parts))]
    module = _module_file(root, parts)
    return [path for path in found if path.is_file()] + ([module] if module else [])


def _imported(root: Path, path: Path) -> list[Path]:
    """The files of the package at ``root`` that the module at ``path`` imports."""
    package = root.name
    here = path.parent.relative_to(root).parts
    found: list[Path] = []
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [tuple(alias.name.split(".")) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: level 1 is this module's package, each further level one package up
                anchor = here[: len(here) - node.level + 1]
                origin = (package, *anchor, *(node.module.split(".") if node.module else ()))
            else:
                origin = tuple((node.module or "").split("."))
            targets = [origin] + [(*origin, alias.name) for alias in node.names]  # names may be submodules
        else:
            continue
        for target in targets:
            if target[:1] == (package,):
                found += _with_parents(root, target[1:])
    return found


def import_closure(root: str | os.PathLike, start: str) -> list[Path]:
    """Every file of the package at ``root`` that importing its module ``start`` (e.g. ``"training"``) runs.

    Returns:
        The files, sorted; ``start`` itself and its parent packages included.
    """
    root = Path(root)
    pending = _with_parents(root, tuple(start.split(".")))
    seen: set[Path] = set()
    while pending:
        path = pending.pop()
        if path not in seen:
            seen.add(path)
            pending += _imported(root, path)
    return sorted(seen)


def source_digest(root: str | os.PathLike, start: str = "training") -> str:
    """16 hex digits of SHA-256 over the names and contents of :func:`import_closure` ``(root, start)``."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in import_closure(root, start):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def code_version() -> dict[str, str]:
    """What computes a run: ``{"dsdviz": source_digest of the training code, "torch": version}``; it tells
    apart results of different code even within one release."""
    return {"dsdviz": source_digest(Path(__file__).resolve().parents[1]), "torch": str(torch.__version__)}


def code_changes(recorded: dict[str, str] | None) -> str | None:
    """How the code that wrote a checkpoint (its ``"code"`` entry) differs from :func:`code_version`;
    ``None`` when it is the same."""
    if recorded is None:
        return "the checkpoint records no code version (an older dsdviz wrote it)"
    current = code_version()
    changed = [f"{name} {recorded.get(name)} -> {value}" for name, value in current.items()
               if recorded.get(name) != value]  # fmt: skip
    return ", ".join(changed) or None


__all__ = ["code_changes", "code_version", "import_closure", "source_digest"]
