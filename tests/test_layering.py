"""The package's layers: drawing (dsdviz/viz) takes numbers and images; it computes no fingerprint or score,
builds no network, trains nothing, reads no data folder and calls no experiment (they call it). Checked
on the imports of every module, parsed with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dsdviz"
VIZ = sorted((PACKAGE / "viz").rglob("*.py"))
#: What reads the data folder or folders of images: the modules of :mod:`dsdviz.data` and their names.
DATA_READERS = {
    "folders", "benchmarks", "streams", "examples", "data_root", "image_paths", "heldout_paths", "read_uint8",
    "read_image", "sr_folders", "image_names", "load_input", "sr_examples", "deblur_examples", "natural_examples",
    "degraded_versions",
}  # fmt: skip
#: What drawing code may not import: ``{module: names}`` (an empty set: the module itself, or any name of it).
FORBIDDEN = {
    "dsdviz.training": set(), "dsdviz.experiments": set(), "dsdviz.data": DATA_READERS, "dsdviz.fingerprint": set(),
    "dsdviz.metrics": set(), "dsdviz.scoring": set(), "dsdviz.evaluation": set(), "dsdviz.models": set(),
    "dsdviz.sharpness": set(),
}  # fmt: skip


def imports(source: str, package: str) -> list[tuple[str, str | None]]:
    """``(absolute module, imported name or None)`` of every import of a module of ``package``."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found += [(f"{module}.{alias.name}", None) for alias in node.names]  # a submodule, e.g. training.loop
            found += [(module, alias.name) for alias in node.names]
    return found


def forbidden(module: str, name: str | None) -> bool:
    for target, names in FORBIDDEN.items():
        if module == target or module.startswith(target + "."):
            if not names or name in names or module.removeprefix(target + ".") in names:
                return True
    return False


def test_the_parser_sees_relative_and_absolute_imports():
    source = "from ..training import train\nfrom .. import experiments\nimport dsdviz.data\n"
    source += "from .compare import Panel\n"
    found = imports("def f():\n    " + source.replace("\n", "\n    "), "dsdviz.viz")  # imports inside functions too
    assert {("dsdviz.training", "train"), ("dsdviz.experiments", None), ("dsdviz.data", None)} <= set(found)
    assert ("dsdviz.viz.compare", "Panel") in found
    assert [forbidden(*item) for item in found if item[1] != "Panel"][:3] == [True, True, True]
    assert forbidden("dsdviz.data", "data_root") and forbidden("dsdviz.data.folders", "Folder")
    assert forbidden("dsdviz.data.benchmarks", None) and forbidden("dsdviz.data", "sr_examples")
    assert not forbidden("dsdviz.data", "Box") and not forbidden("dsdviz.data.images", "to_numpy")
    assert not forbidden("dsdviz.data", "Example") and not forbidden("dsdviz.viz.compare", "Panel")


@pytest.mark.parametrize("path", VIZ, ids=lambda p: p.stem)
def test_viz_only_draws(path):
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    bad = sorted({f"{module}:{name}" for module, name in imports(path.read_text(), package) if forbidden(module, name)})
    assert not bad, f"dsdviz/viz/{path.name} imports {bad}: compute in the library or dsdviz.experiments, pass the result"


#: The layers above the library: no library module may import them.
UPPER = ("dsdviz.viz", "dsdviz.experiments", "dsdviz.cli", "dsdviz.figures")
LIBRARY = sorted(
    path for path in PACKAGE.rglob("*.py")
    if path.relative_to(PACKAGE).parts[0] not in ("viz", "experiments", "cli", "figures.py")
)  # fmt: skip


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_library_modules_import_no_experiment_drawing_or_command_line_code(path):
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    bad = sorted({module for module, _ in imports(path.read_text(), package) if module.startswith(UPPER)})
    assert not bad, f"dsdviz/{path.relative_to(PACKAGE)} imports {bad}: the library must not depend on upper layers"
