"""Trajectories: snapshot schedules, exact save/load, tables."""

from __future__ import annotations

import pytest
import torch

from dsdviz.optimize import optimize_image
from dsdviz.sharpness import mean_gradient_magnitude
from dsdviz.trajectory import Trajectory, log_steps, snapshot_table


@pytest.fixture
def trajectory(rng) -> Trajectory:
    start = torch.rand(1, 3, 9, 11, generator=rng, dtype=torch.float64)
    goal = torch.rand(1, 3, 9, 11, generator=rng, dtype=torch.float64)

    def objective(x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"objective": (x - goal).abs().mean(), "red": x[:, 0].mean()}

    settings = {"note": "test"}
    return optimize_image(start, objective, steps=12, lr=0.03, schedule="cosine", settings=settings, progress=False)


def test_log_steps():
    assert log_steps(5000) == [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]
    assert log_steps(1) == [0, 1]
    assert log_steps(60) == [0, 1, 2, 5, 10, 25, 50, 60]
    assert log_steps(100, mantissas=(1,)) == [0, 1, 10, 100]
    with pytest.raises(ValueError, match="steps"):
        log_steps(0)


def test_save_load_round_trips_exactly(trajectory, tmp_path):
    path = trajectory.save(tmp_path / "sub" / "run.pt")
    assert [p.name for p in path.parent.iterdir()] == ["run.pt"]  # no temporary file left
    loaded = Trajectory.load(path)
    assert loaded.steps == trajectory.steps == [0, 1, 2, 5, 10, 12]
    for step in trajectory.steps:
        assert loaded.snapshots[step].dtype == torch.float64
        assert torch.equal(loaded.snapshots[step], trajectory.snapshots[step])
    assert list(loaded.history) == ["objective", "red", "lr"]
    for name, values in trajectory.history.items():
        assert torch.equal(loaded.history[name], values)
    assert loaded.settings == trajectory.settings and loaded.settings["note"] == "test"
    assert loaded.wall_time == trajectory.wall_time and loaded.interrupted is False
    state, saved = trajectory.resume_state, loaded.resume_state
    assert saved["param_groups"] == state["param_groups"]
    for key, value in state["state"][0].items():
        assert torch.equal(saved["state"][0][key], value)


def test_save_replaces_an_existing_file(trajectory, tmp_path):
    path = tmp_path / "run.pt"
    path.write_text("an older file")
    trajectory.save(path)
    assert Trajectory.load(path).final_step == 12


def test_load_rejects_other_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        Trajectory.load(tmp_path / "missing.pt")
    (tmp_path / "text.pt").write_text("not a trajectory")
    with pytest.raises(ValueError, match="not a dsdviz trajectory"):
        Trajectory.load(tmp_path / "text.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a dsdviz trajectory"):
        Trajectory.load(tmp_path / "other.pt")


def test_accessors(trajectory):
    assert trajectory.final_step == 12 and torch.equal(trajectory.final, trajectory.snapshots[12])
    assert trajectory.nearest_step(7) == 5 and trajectory.nearest_step(8) == 10 and trajectory.nearest_step(99) == 12
    assert trajectory.value("objective", 3) == float(trajectory.history["objective"][3])
    assert trajectory.value("objective", 13) != trajectory.value("objective", 13)  # NaN: not evaluated
    with pytest.raises(ValueError, match="snapshots were kept at steps"):
        trajectory.snapshot(3)
    with pytest.raises(ValueError, match="recorded: objective, red, lr"):
        trajectory.value("dsd/relu1_2", 0)
    assert "12 steps" in repr(trajectory) and "9x11 px" in repr(trajectory)


def test_snapshot_table(trajectory):
    rows = snapshot_table(trajectory, {"sharpness": mean_gradient_magnitude}, names=["objective"])
    assert [row["step"] for row in rows] == trajectory.steps
    assert set(rows[0]) == {"step", "objective", "sharpness"}
    assert rows[-1]["objective"] == trajectory.value("objective", 12)
    assert rows[-1]["sharpness"] == float(mean_gradient_magnitude(trajectory.final)[0])
