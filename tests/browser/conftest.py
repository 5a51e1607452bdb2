"""JupyterLab in headless Chromium: a server, a browser, and a notebook page driven like a person would.

The server is started from the project's environment (``sys.executable -m jupyterlab``) on
127.0.0.1, on a port the OS picks, with a random token. Its config, data, runtime, settings
and workspace folders, and IPython's folder, live in a temporary folder removed at the end,
so a run leaves nothing behind but the screenshots in :data:`ARTIFACTS`. The notebooks are
opened from a copy of ``notebooks/`` in that folder (their figures go to its ``figures/``),
with autosave off, so the repository's notebooks and figures are never written.

Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright's Python package (Playwright's
own browser download is not used). Without either, the tests skip with the reason.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .jupyterlab import SCREENSHOTS, LabServer, NotebookPage

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Screenshots and the server log of the last run (ignored by git); printed at the end of the session.
ARTIFACTS = REPO / "artifacts" / "browser"

#: JupyterLab user settings: no autosave (nothing is written back), every cell in the DOM
#: (no virtual scrolling), no news or update prompts.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def pytest_terminal_summary(terminalreporter) -> None:
    if SCREENSHOTS:
        terminalreporter.write_line(f"browser tests: {len(SCREENSHOTS)} screenshots and the server log in {ARTIFACTS}")


def _wait_for_server(process: subprocess.Popen, runtime: Path, log: Path, timeout: float) -> str:
    """The server's URL, once its runtime file (written when it listens) exists and ``/api/status`` answers."""
    deadline = time.monotonic() + timeout
    info = runtime / f"jpserver-{process.pid}.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode}:\n{log.read_text()[-3000:]}")
        if info.is_file():
            try:
                server = json.loads(info.read_text())
                with urllib.request.urlopen(f"{server['url']}api/status?token={server['token']}", timeout=2):
                    return server["url"]
            except (OSError, ValueError, KeyError):
                pass
        time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop_server(process: subprocess.Popen, url: str | None, token: str) -> None:
    """Ask the server to shut down (it stops its kernels first); terminate, then kill, if it does not."""
    if process.poll() is None and url is not None:
        request = urllib.request.Request(f"{url}api/shutdown?token={token}", method="POST")
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except OSError:
            pass
    for stop in (None, signal.SIGTERM, signal.SIGKILL):
        if stop is not None and process.poll() is None:
            process.send_signal(stop)
        try:
            process.wait(timeout=30)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The screenshot folder, emptied once per session."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab(offline_data, artifacts) -> Iterator[LabServer]:
    """JupyterLab serving a temporary copy of ``notebooks/``; shut down (kernels included) at the end."""
    with tempfile.TemporaryDirectory(prefix="dsdviz-lab-") as tmp:
        base = Path(tmp)
        root = base / "root"
        shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        (root / "figures").mkdir()
        settings = base / "settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        folders = {name: base / name for name in ("config", "data", "runtime", "ipython", "workspaces")}
        for folder in folders.values():
            folder.mkdir()
        env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(folders["config"]),
            JUPYTER_DATA_DIR=str(folders["data"]),
            JUPYTER_RUNTIME_DIR=str(folders["runtime"]),
            IPYTHONDIR=str(folders["ipython"]),
            JUPYTER_PLATFORM_DIRS="1",
            DSDVIZ_FIGURES=str(root / "figures"),  # the notebooks' figures_dir / runs_dir: this copy's folders
            DSDVIZ_RUNS=str(root / "runs"),
        )
        token = secrets.token_hex(24)
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={folders['workspaces']}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run cells, read outputs
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LanguageServerManager.autodetect=False",  # its probe runs npm, which writes logs to ~/.npm
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        log = base / "server.log"
        url = None
        with open(log, "w") as output:
            process = subprocess.Popen(command, env=env, cwd=root, stdout=output, stderr=subprocess.STDOUT)
        try:
            url = _wait_for_server(process, folders["runtime"], log, timeout=180)
            yield LabServer(url, token, root)
        finally:
            _stop_server(process, url, token)
            shutil.copy(log, artifacts / "jupyterlab-server.log")
        leftovers = sorted(p.name for p in folders["runtime"].glob("kernel-*.json"))
        exit_code, log_copy = process.returncode, artifacts / "jupyterlab-server.log"
        assert exit_code == 0, f"JupyterLab did not shut down cleanly (exit {exit_code}); see {log_copy}"
        assert not leftovers, f"kernels still running after the server shut down: {leftovers}"


@pytest.fixture(scope="session")
def offline_data() -> None:
    """The notebooks read the VGG19 weights and the data folder (the top conftest sets both from ../shared)."""
    if not os.environ.get("DSDVIZ_VGG19_WEIGHTS"):
        pytest.skip("no VGG19 weights: set DSDVIZ_VGG19_WEIGHTS or provide ../shared/weights")
    if not Path(os.environ.get("DSDVIZ_DATA") or "/nonexistent").is_dir():
        pytest.skip("no data folder: set DSDVIZ_DATA or provide ../shared/data")


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium under Playwright, shared by the tests; its home (dconf, caches) is temporary."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium; .ci/run installs it)")
    with tempfile.TemporaryDirectory(prefix="dsdviz-chromium-") as home, sync_api.sync_playwright() as playwright:
        env = dict(os.environ, HOME=home, XDG_CACHE_HOME=f"{home}/.cache", XDG_CONFIG_HOME=f"{home}/.config")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=env)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def notebook_page(chromium, lab, artifacts) -> Iterator[Callable[[str], NotebookPage]]:
    """``open(path)`` -> a :class:`NotebookPage` in a fresh browser page; a last screenshot is kept either way."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    pages: list[NotebookPage] = []

    def open_notebook(path: str) -> NotebookPage:
        notebook = NotebookPage(context.new_page(), lab, path, artifacts)
        pages.append(notebook)
        notebook.open()
        return notebook

    try:
        yield open_notebook
    finally:
        for notebook in pages:
            if not notebook.page.is_closed():
                notebook.screenshot("last")
        context.close()

