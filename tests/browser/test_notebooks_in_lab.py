"""The Fig. 11 and Fig. 12 notebooks as a user meets them: JupyterLab 4 in headless Chromium.

Each test opens the notebook, clears the stored outputs, runs every cell in quick mode
(``QUICK = True``, as stored) and checks what the page shows: no cell failed, progress bars
are tqdm widgets, the figure is on screen, and (Fig. 12) moving the trajectory viewer's
slider changes the step label, the snapshot, the difference image and the marker on the
curves to those of the chosen step. Screenshots go to ``artifacts/browser/`` (printed at
the end of the session). Run only these with ``python -m pytest -m browser``; skip them
with ``-m "not browser"``.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .jupyterlab import NotebookPage

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")

PROGRESS = ".jp-OutputArea-output .widget-hprogress"
#: A text progress bar in a stream output, what tqdm prints when it cannot make a widget.
TEXT_BAR = re.compile(r"\d+%\|.*\|\s*\d+/\d+")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clear_and_run(notebook: NotebookPage) -> None:
    """Clear the stored outputs (so that only what this run makes is on the page) and start "Run All Cells"."""
    notebook.command("notebook:clear-all-cell-outputs")
    assert notebook.page.locator(".jp-OutputArea-output").count() == 0
    notebook.run_all()


#: Seconds a quick notebook may take under Run All Cells. The bound only stops a hung run: with a training job on
#: one of a 2-core machine's cores, the Fig. 12 notebook took over 300 s.
RUN_TIMEOUT = 900


def finish_run(notebook: NotebookPage, timeout: float = RUN_TIMEOUT) -> list[dict]:
    """Wait for the run; every code cell ran, without an error output, a traceback or a widget that failed
    to render. Returns the cells."""
    finished = notebook.wait_until_run(timeout)
    cells = notebook.cells()
    for index, cell in enumerate(cells):
        if cell["type"] != "code":
            continue
        assert cell["count"] is not None, f"cell {index} did not run:\n{cell['source']}"
        for output in cell["outputs"]:
            assert output["type"] != "error", f"cell {index}: {output['ename']}: {output['evalue']}"
            assert "Traceback" not in (output["text"] or ""), f"cell {index} printed a traceback"
    assert finished, "JupyterLab reports that Run All Cells did not complete"
    assert notebook.page.get_by_text("Error displaying widget").count() == 0
    return cells


def check_progress_widgets(cells: list[dict], cell_text: str, bars: int) -> None:
    """The cell whose source contains ``cell_text`` shows ``bars`` tqdm widgets and no text bar."""
    (cell,) = [c for c in cells if cell_text in c["source"]]
    widgets = [o for o in cell["outputs"] if "application/vnd.jupyter.widget-view+json" in o["mimes"]]
    assert len(widgets) == bars
    streams = "".join(o["text"] or "" for o in cell["outputs"])
    assert not TEXT_BAR.search(streams), f"a text progress bar instead of a widget:\n{streams[-500:]}"


def finished_bars(cell) -> list[str]:
    """Texts of the finished tqdm bars (description, bar, ``n/total`` and rate) in a cell."""
    boxes = cell.locator(".widget-hbox:has(.widget-hprogress)")
    return [text for text in boxes.all_inner_texts() if re.search(r"(\d+)/\1\b", text)]


def shown_figure_matches_file(notebook: NotebookPage, cell, path) -> None:
    """The figure the cell shows is on screen and has the pixels of the file the notebook saved."""
    image = cell.locator(".jp-OutputArea-output img")
    image.scroll_into_view_if_needed()
    assert image.is_visible()
    box = image.bounding_box()
    assert box["width"] > 300 and box["height"] > 200, f"figure shown at {box['width']}x{box['height']} px"
    assert np.array_equal(notebook.image_pixels(image), np.asarray(Image.open(path).convert("RGB")))


def marker_column(curves: np.ndarray) -> int:
    """x (px) of the crimson step marker in the viewer's curves image: the column with most crimson pixels."""
    r, g, b = (curves[..., i].astype(int) for i in range(3))
    crimson = (r > 150) & (g < 120) & (b < 140) & (r - g > 80)
    counts = crimson.sum(axis=0)
    assert counts.max() > curves.shape[0] // 4, "no vertical marker in the curves image"
    return int(np.argmax(counts))


def open_and_run(notebook_page, name: str) -> tuple[NotebookPage, Path, str]:
    """Open ``notebooks/<name>``, screenshot it, clear its outputs and run all cells.

    Returns the page, the notebook file on disk and that file's digest before the run (the
    browser must not save over it)."""
    notebook = notebook_page(f"notebooks/{name}")
    stored = notebook.lab.root / "notebooks" / name
    stored_digest = digest(stored.read_bytes())
    notebook.screenshot("opened")
    clear_and_run(notebook)
    return notebook, stored, stored_digest


def test_fig12_trajectory_viewer_in_jupyterlab(notebook_page):
    started = time.monotonic()
    notebook, stored, stored_digest = open_and_run(notebook_page, "fig12_dsd_minimization.ipynb")
    # the optimisation's progress bar is a widget, on screen while the run goes on
    bar = notebook.page.locator(PROGRESS).first
    bar.wait_for(state="visible", timeout=180_000)
    assert notebook.running()
    notebook.screenshot("progress")
    description = bar.locator("xpath=..").inner_text()
    assert "minimise" in description, description
    cells = finish_run(notebook)
    check_progress_widgets(cells, "run_dsd_minimization(", bars=1)
    assert len(finished_bars(notebook.cell("run_dsd_minimization("))) == 1
    shown_figure_matches_file(
        notebook, notebook.cell("plot_dsd_minimization("), notebook.lab.root / "figures" / "fig12_dsd_minimization.png"
    )

    viewer = notebook.cell("TrajectoryViewer(trajectory)").locator(".widget-vbox:has(> .widget-slider)")
    viewer.scroll_into_view_if_needed()
    steps = [int(s) for s in notebook.kernel_output("print(*trajectory.steps)").split()]
    final = steps[-1]
    slider = viewer.locator(".widget-slider")
    handle = slider.locator(".noUi-handle")
    readout = slider.locator(".widget-readout")
    label = viewer.locator(":scope > .widget-html")
    snapshot, difference, curves = (viewer.locator("img").nth(i) for i in range(3))

    def shown() -> dict:
        """What the viewer shows now, read from the page, checked against the trajectory in the kernel."""
        step = int(readout.inner_text())
        try:
            notebook.page.wait_for_function(
                "([el, step]) => el.innerText.startsWith(`step ${step} of`)", arg=[label.element_handle(), step]
            )
        except sync_api.TimeoutError:
            pytest.fail(f"the slider reads step {step} but the viewer still shows {label.inner_text()[:40]!r}")
        expected = notebook.kernel_output(
            "import hashlib\nfrom dsdviz.data import to_uint8\n"
            f"print(hashlib.sha256(to_uint8(trajectory.snapshots[{step}]).tobytes()).hexdigest())\n"
            f"print(f\"{{trajectory.value('objective', {step}):.4g}}\")\nprint(viewer.step, viewer.scale)"
        ).split()
        image = notebook.image_pixels(snapshot)
        scale = int(expected[3])  # the viewer enlarges each pixel to a scale x scale block
        pixels = image[::scale, ::scale]
        assert np.array_equal(image, pixels.repeat(scale, axis=0).repeat(scale, axis=1))
        assert digest(np.ascontiguousarray(pixels).tobytes()) == expected[0], f"the image is not step {step}'s"
        assert f"objective {expected[1]}" in label.inner_text()
        assert int(expected[2]) == step
        return {
            "step": step,
            "label": label.inner_text(),
            "image": image,
            "difference": notebook.image_pixels(difference),
            "curves": notebook.image_pixels(curves),
        }

    # shown at the size of its PNG, so that the browser does not blur the pixels
    assert snapshot.evaluate("(img) => img.naturalWidth === img.clientWidth && img.naturalWidth > 100")
    views = [shown()]
    assert views[0]["step"] == 0 and views[0]["label"].startswith(f"step 0 of {final}")
    assert views[0]["difference"].std(axis=(0, 1)).max() == 0  # |x_0 - x_0| is one colour
    notebook.screenshot("viewer-start", viewer)

    def moved(how: str) -> None:
        views.append(shown())
        notebook.screenshot(f"viewer-step{views[-1]['step']}-{how}", viewer)

    handle.focus()
    for _ in range(3):
        notebook.page.keyboard.press("ArrowRight")
    moved("keys")
    assert views[-1]["step"] == steps[3]
    track = slider.locator(".noUi-base").bounding_box()
    knob = handle.bounding_box()
    notebook.page.mouse.move(knob["x"] + knob["width"] / 2, knob["y"] + knob["height"] / 2)
    notebook.page.mouse.down()
    notebook.page.mouse.move(track["x"] + 0.75 * track["width"], knob["y"] + knob["height"] / 2, steps=8)
    notebook.page.mouse.up()
    moved("drag")
    handle.focus()
    notebook.page.keyboard.press("End")
    moved("end")
    assert views[-1]["step"] == final

    order = [v["step"] for v in views]
    assert order == sorted(set(order)) and len(order) == 4, f"the slider went through steps {order}"
    for before, after in zip(views, views[1:]):
        assert before["label"] != after["label"]
        assert not np.array_equal(before["image"], after["image"])
        assert not np.array_equal(before["difference"], after["difference"])
    for view in views[1:]:
        assert view["difference"].std(axis=(0, 1)).max() > 0  # the image moved away from the start
    marks = [marker_column(v["curves"]) for v in views]
    assert marks == sorted(set(marks)), f"the marker on the curves is at x = {marks} px for steps {order}"

    assert digest(stored.read_bytes()) == stored_digest, "the notebook was saved from the browser"
    print(f"fig12 in JupyterLab: {time.monotonic() - started:.0f} s; screenshots {notebook.shots}")


def test_fig11_runs_clean_in_jupyterlab(notebook_page):
    started = time.monotonic()
    notebook, stored, stored_digest = open_and_run(notebook_page, "fig11_fingerprint_matching.ipynb")
    cells = finish_run(notebook)
    runs = notebook.cell("run_fingerprint_matching(")
    check_progress_widgets(cells, "run_fingerprint_matching(", bars=5)  # three style runs, two DSD runs
    assert len(finished_bars(runs)) == 5
    figure = notebook.cell("plot_fingerprint_matching(")
    shown_figure_matches_file(notebook, figure, notebook.lab.root / "figures" / "fig11_fingerprint_matching.png")
    notebook.screenshot("figure")
    assert digest(stored.read_bytes()) == stored_digest, "the notebook was saved from the browser"
    print(f"fig11 in JupyterLab: {time.monotonic() - started:.0f} s; screenshots {notebook.shots}")
