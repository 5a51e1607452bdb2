"""Driving a JupyterLab page: the server's address, and a notebook opened in it."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

#: Every screenshot written in this session (the conftest prints their folder at the end).
SCREENSHOTS: list[Path] = []


@dataclass
class LabServer:
    """A running JupyterLab: its base URL and token, and the folder it serves."""

    url: str
    token: str
    root: Path


class NotebookPage:
    """A notebook open in JupyterLab, driven through the page and ``window.jupyterapp``."""

    def __init__(self, page, lab: LabServer, path: str, artifacts: Path) -> None:
        self.page = page
        self.lab = lab
        self.path = path
        self.artifacts = artifacts
        self.shots: list[Path] = []

    def open(self, timeout: float = 120) -> None:
        """Load JupyterLab on the notebook and wait until its kernel is idle."""
        self.page.goto(f"{self.lab.url}lab/tree/{self.path}?token={self.lab.token}&reset")
        self.page.wait_for_function(
            """(path) => {
                const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                const kernel = w && w.context && w.context.path === path && w.sessionContext.session
                    && w.sessionContext.session.kernel;
                return kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
            }""",
            arg=self.path,
            timeout=timeout * 1000,
        )

    def command(self, name: str) -> None:
        """Run a JupyterLab command on the notebook and wait for it."""
        self.page.evaluate("(name) => window.jupyterapp.commands.execute(name)", name)

    def run_all(self) -> None:
        """Start "Run All Cells" without waiting; :meth:`wait_until_run` waits."""
        self.page.evaluate(
            """() => {
                window.dsdvizRun = {done: false, ok: null};
                window.jupyterapp.commands.execute('notebook:run-all-cells').then(
                    (ok) => { window.dsdvizRun = {done: true, ok: ok}; },
                    (error) => { window.dsdvizRun = {done: true, ok: false, error: String(error)}; });
            }"""
        )

    def running(self) -> bool:
        return not self.page.evaluate("() => window.dsdvizRun.done")

    def wait_until_run(self, timeout: float) -> bool:
        """Wait for "Run All Cells" to finish; whether JupyterLab reports every cell as run."""
        self.page.wait_for_function("() => window.dsdvizRun.done", timeout=timeout * 1000, polling=500)
        return bool(self.page.evaluate("() => window.dsdvizRun.ok"))

    def cells(self) -> list[dict]:
        """Per cell: type, source, execution count, and outputs (type, error name/value, stream text)."""
        return self.page.evaluate(
            """() => window.jupyterapp.shell.currentWidget.content.widgets.map((cell) => {
                const m = cell.model;
                const outputs = m.type === 'code' ? m.outputs.toJSON().map((o) => ({
                    type: o.output_type, name: o.name || null, ename: o.ename || null, evalue: o.evalue || null,
                    text: o.output_type === 'stream' ? [].concat(o.text).join('') : null,
                    mimes: o.data ? Object.keys(o.data) : []})) : [];
                return {type: m.type, source: m.sharedModel.getSource(),
                        count: m.type === 'code' ? m.executionCount : null, outputs: outputs};
            })"""
        )

    def cell(self, containing: str):
        """The locator of the (single) cell whose source contains ``containing``."""
        sources = [c["source"] for c in self.cells()]
        matches = [i for i, source in enumerate(sources) if containing in source]
        assert len(matches) == 1, f"{len(matches)} cells contain {containing!r}"
        return self.page.locator(".jp-Notebook .jp-Cell").nth(matches[0])

    def kernel_output(self, code: str) -> str:
        """Run ``code`` in the notebook's kernel outside the notebook (nothing is added to it); its stdout."""
        result = self.page.evaluate(
            """async (code) => {
                const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                const future = kernel.requestExecute({code: code, silent: false, store_history: false});
                let text = '', error = null;
                future.onIOPub = (msg) => {
                    if (msg.header.msg_type === 'stream') { text += msg.content.text; }
                    if (msg.header.msg_type === 'error') { error = msg.content.ename + ': ' + msg.content.evalue; }
                };
                await future.done;
                return {text: text, error: error};
            }""",
            code,
        )
        assert result["error"] is None, f"kernel error: {result['error']}"
        return result["text"]

    def image_pixels(self, image) -> np.ndarray:
        """The pixels an ``<img>`` element shows (its source fetched in the page and decoded), ``(H, W, 3)`` uint8."""
        data = image.evaluate(
            """async (img) => {
                const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
                let text = '';
                for (let i = 0; i < bytes.length; i += 32768) {
                    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768));
                }
                return btoa(text);
            }"""
        )
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))

    def screenshot(self, name: str, element=None) -> Path:
        """Save a screenshot (of the page, or of ``element``) as ``<notebook>-<name>.png`` in the artifacts."""
        path = self.artifacts / f"{Path(self.path).stem}-{len(self.shots):02d}-{name}.png"
        (element or self.page).screenshot(path=str(path))
        self.shots.append(path)
        SCREENSHOTS.append(path)
        return path
