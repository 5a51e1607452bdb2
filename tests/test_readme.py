"""Every snippet of README.md runs, so that the README cannot rot.

The fenced blocks are taken from the README in order and run one after the other in one
temporary folder (the shipped models are found by name, from the installed package, not from
the repository's files), as a reader typing them would:

* ``python`` blocks run in a new interpreter of the project's environment;
* ``bash`` blocks run through ``bash -e -o pipefail`` with the project's environment first
  on ``PATH`` (``DSDVIZ_DATA`` and ``DSDVIZ_VGG19_WEIGHTS`` as the test suite sets them);
* ``make`` lines are dry-run (``make -n``) against the repository's Makefile: ``make
  figures`` and ``make test`` take minutes and ``make test`` would run this very test;
  CI runs ``make test`` itself. ``make lab`` starts a server that does not return;
* a block right after the comment ``<!-- readme-test: options ... -->`` (the GPU runs,
  hours long) is not run: each of its ``dsdviz`` commands must exist and accept every
  option it shows (checked against the command's ``--help``), its other programs must be
  installed, and its ``make`` lines are dry-run;
* the ``bibtex`` block must cite the paper.

Any other kind of block fails the test, so that nothing enters the README unchecked.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
OPTIONS_MARK = "<!-- readme-test: options"
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class Snippet:
    index: int
    line: int
    language: str
    code: str
    options_only: bool

    @property
    def id(self) -> str:
        return f"{self.index:02d}-{self.language}-line{self.line}"


def snippets(text: str) -> list[Snippet]:
    found = []
    for index, match in enumerate(FENCE.finditer(text)):
        before = text[: match.start()].rstrip().splitlines()
        marked = bool(before) and before[-1].startswith(OPTIONS_MARK)
        line = text.count("\n", 0, match.start()) + 1
        found.append(Snippet(index, line, match.group(1), match.group(2), marked))
    return found


SNIPPETS = snippets(README.read_text())


def commands(code: str) -> list[str]:
    """The shell commands of a block: continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [line for line in (shlex.split(raw, comments=True) for raw in joined.splitlines()) if line]


def dry_run_make(targets: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(["make", "-n", "-C", str(REPO), *targets], env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"make -n {' '.join(targets)}:\n{done.stderr}"
    assert done.stdout.strip(), f"make -n {' '.join(targets)} would do nothing"


def with_make_dry_run(code: str) -> str:
    """The block with each ``make ...`` line replaced by its dry run against the repository's Makefile."""
    return re.sub(r"^make (.*)$", lambda m: f'make -n -C "$DSDVIZ_REPO" {m.group(1)}', code, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The folder the snippets run in (the test suite's conftest sets the variables from ../shared)."""
    if not os.environ.get("DSDVIZ_VGG19_WEIGHTS"):
        pytest.skip("no VGG19 weights: set DSDVIZ_VGG19_WEIGHTS or provide ../shared/weights")
    if not Path(os.environ.get("DSDVIZ_DATA") or "/nonexistent").is_dir():
        pytest.skip("no data folder: set DSDVIZ_DATA or provide ../shared/data")
    folder = tmp_path_factory.mktemp("readme")
    return folder


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", DSDVIZ_REPO=str(REPO))


def check_options(snippet: Snippet, env: dict[str, str]) -> None:
    """A not-run block: programs exist, ``dsdviz`` commands accept the options shown, ``make`` targets dry-run."""
    for words in commands(snippet.code):
        if words[0] == "make":
            dry_run_make(words[1:], env)
            continue
        assert shutil.which(words[0], path=env["PATH"]), f"{words[0]} is not installed"
        at = next(i for i, w in enumerate(words) if w in ("dsdviz", "dsdviz.cli"))
        command = words[at + 1]
        done = subprocess.run([sys.executable, "-m", "dsdviz.cli", command, "--help"], env=env,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, f"dsdviz {command} --help:\n{done.stderr}"
        for option in (w.split("=")[0] for w in words[at + 2 :] if w.startswith("--")):
            assert re.search(rf"(^|[\s\[,]){re.escape(option)}\b", done.stdout), f"dsdviz {command}: no {option}"


@pytest.mark.slow
@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_readme_snippet_runs(snippet: Snippet, workdir: Path, env: dict[str, str]):
    if snippet.options_only:
        assert snippet.language == "bash", "only bash blocks may be checked without running"
        check_options(snippet, env)
        return
    if snippet.language == "python":
        script = workdir / f"snippet_{snippet.index:02d}.py"
        script.write_text(snippet.code)
        command = [sys.executable, str(script)]
    elif snippet.language == "bash":
        command = ["bash", "-e", "-o", "pipefail", "-c", with_make_dry_run(snippet.code)]
    elif snippet.language == "bibtex":
        fields = dict(re.findall(r"^\s*(\w+)\s*=\s*\{(.*)\},?\s*$", snippet.code, flags=re.MULTILINE))
        assert snippet.code.startswith("@inproceedings{") and snippet.code.count("{") == snippet.code.count("}")
        assert fields["title"] == "Deep Self-Dissimilarities as Powerful Visual Fingerprints"
        assert fields["author"] == "Kligvasser, Idan and Rott Shaham, Tamar and Bahat, Yuval and Michaeli, Tomer"
        assert fields["year"] == "2021" and "Neural Information Processing Systems" in fields["booktitle"]
        return
    else:
        pytest.fail(f"README line {snippet.line}: a ```{snippet.language} block that no test checks")
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    output = f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"README line {snippet.line} failed:\n{snippet.code}\n{output}"


def test_readme_opens_with_the_two_setup_commands():
    first = SNIPPETS[0]
    assert README.read_text().startswith("# dsdviz\n\n```bash\n")
    assert [words[:2] for words in commands(first.code)] == [["make", "figures"], ["make", "test"]]


def test_readme_shows_every_notebook_and_its_figures():
    """Every notebook is described; the figures an existing notebook saves are shown and exist."""
    text = README.read_text()
    shown = IMAGE.findall(text)
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        assert f"`{notebook.name}`" in text, f"README does not describe {notebook.name}"
        sources = "".join("".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"])
        for name in sorted(set(re.findall(r"[\"'](\w+\.png)[\"']", sources))):
            assert f"figures/{name}" in shown, f"README does not show figures/{name} ({notebook.name})"
            assert (REPO / "figures" / name).is_file(), f"figures/{name} is missing: run make figures"
