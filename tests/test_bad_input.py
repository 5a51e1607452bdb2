"""Bad and unusual input, as a hostile new user gives it: every case ends in a correct result or a one-line
error (exit status 2, the problem named, no traceback); two runs never share an output; a seeded fuzz loop
over image files of random size, mode and corruption."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dsdviz.cli import main
from dsdviz.data import load_image, save_image
from dsdviz.models import load_model, shipped_models
from dsdviz.precision import probe_capability
from dsdviz.runlock import RunLock


@pytest.fixture
def files(tmp_path):
    """An 8-bit RGB image, a folder of training images, and odd files."""
    generator = torch.Generator().manual_seed(0)
    images = tmp_path / "images"
    for index in range(2):
        save_image(torch.rand(1, 3, 48, 48, generator=generator), images / f"im{index}.png")
    values = np.random.default_rng(0).random((64, 64), dtype=np.float32)
    Image.fromarray(values * 0.5, mode="F").save(tmp_path / "float.tif")  # in [0, 1]: taken as it is
    Image.fromarray(values * 300, mode="F").save(tmp_path / "float_hdr.tif")  # not in [0, 1]
    Image.fromarray((values * 60000).astype(np.int32), mode="I").save(tmp_path / "int32.tif")  # 16-bit data
    Image.fromarray((values * 1e8).astype(np.int32), mode="I").save(tmp_path / "int32_wide.tif")
    Image.new("L", (64, 64)).save(tmp_path / "bomb.png")
    data = bytearray((tmp_path / "bomb.png").read_bytes())
    data[16:24] = (60000).to_bytes(4, "big") * 2  # the header claims 60000 x 60000 px (with a valid checksum)
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    (tmp_path / "bomb.png").write_bytes(bytes(data))
    save_image(torch.rand(1, 3, 16, 16, generator=generator), tmp_path / "tiny.png")
    nan = {k: v.clone() for k, v in torch.load(os.environ["DSDVIZ_VGG19_WEIGHTS"], weights_only=True).items()}
    next(iter(nan.values()))[0] = float("nan")
    torch.save(nan, tmp_path / "vgg_nan.pth")
    (tmp_path / "file").write_text("not a folder")
    return tmp_path


def run(args: list[str], capsys) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


TRAIN = ["train", "sr", "--quick", "--steps", "1", "--crop", "8", "--blocks", "1", "--val-limit", "1", "--no-progress"]

#: (case, arguments with {tmp} for the files fixture, a phrase of the one-line error)
ERRORS = [
    ("lr 0", [*TRAIN, "--lr", "0"], "lr: expected a finite number > 0"),
    ("lr inf", [*TRAIN, "--lr", "inf"], "lr: expected a finite number > 0"),
    ("negative decay", [*TRAIN, "--decay-gamma", "-1"], "decay_gamma: expected a factor in (0, 1]"),
    ("beta 1", [*TRAIN, "--betas", "1", "0.99"], "betas: expected two Adam coefficients in [0, 1)"),
    ("zero minutes", [*TRAIN, "--minutes", "0"], "--minutes: expected a positive number of minutes"),
    ("train on cuda", [*TRAIN, "--device", "cuda"], "no CUDA device here"),
    ("train on a banana", [*TRAIN, "--device", "banana"], "unknown device 'banana'"),
    ("minimize on cuda", ["minimize-dsd", "{tmp}/images/im0.png", "--steps", "1", "--device", "cuda"],
     "no CUDA device here"),
    ("restore on cuda", ["restore", "xsrresnet_sr_x4_psnr_cpu", "{tmp}/images/im0.png", "--out", "{tmp}/o",
                         "--device", "cuda"], "no CUDA device here"),
    ("alpha 1", ["fingerprint", "{tmp}/images/im0.png", "--alpha", "1"], "a factor of 1 compares an image with itself"),
    ("regressor alpha 1", ["train", "regressor", "--quick", "--alpha", "1"], "a factor of 1"),
    ("sr alpha 1", [*TRAIN, "--stage", "dsd", "--alpha", "1"], "a factor of 1"),
    ("float image out of range", ["fingerprint", "{tmp}/float_hdr.tif"], "float_hdr.tif': float image arrays must"),
    ("wide int32 image", ["fingerprint", "{tmp}/int32_wide.tif"], "a 32-bit integer image with values in"),
    ("decompression bomb", ["fingerprint", "{tmp}/bomb.png"], "claims more pixels than Pillow opens"),
    ("a folder as image", ["fingerprint", "{tmp}/images"], "images' is a folder"),
    ("csv is a folder", ["fingerprint", "{tmp}/images/im0.png", "--csv", "{tmp}/images"], "--csv '"),
    ("csv under a file", ["score", "{tmp}/images/im0.png", "--csv", "{tmp}/file/scores.csv"], "is a file, not a folder"),
    ("map is a folder", ["score", "{tmp}/images/im0.png", "--map", "{tmp}/images"], "is a folder; expected a file"),
    ("restore out is a file", ["restore", "xsrresnet_sr_x4_psnr_cpu", "{tmp}/images/im0.png", "--out", "{tmp}/file"],
     "--out '"),
    ("restore a regressor", ["restore", "dsd_regressor_a2_cpu", "{tmp}/images/im0.png", "--out", "{tmp}/restored"],
     "is a dsd_regressor network, not a restoration network"),
    ("figures out is a file", ["figures", "--only", "claims", "--out", "{tmp}/file"], "is a file; expected a folder"),
    ("minimize out is a folder", ["minimize-dsd", "{tmp}/images/im0.png", "--steps", "1", "--out", "{tmp}/images"],
     "is a folder; expected a file name"),
    ("resume and overwrite", [*TRAIN, "--resume", "--overwrite"], "give one of them"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "args", "phrase"), ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_is_a_one_line_error(vgg_weights, shared_data, files, capsys, case, args, phrase):
    args = [a.replace("{tmp}", str(files)) for a in args]
    if args[0] == "train":
        args += ["--data", str(files / "images"), "--out", str(files / "run")]
    status, _, err = run(args, capsys)
    assert status == 2, (case, err)
    assert err.startswith(f"dsdviz {args[0]}: error: ") and err.count("\n") == 1, err
    assert phrase in err and "Traceback" not in err, err
    assert not (files / "restored").exists()  # a refused restoration leaves no empty output folder


def test_nan_vgg_weights_are_refused(files, capsys, monkeypatch):
    monkeypatch.setenv("DSDVIZ_VGG19_WEIGHTS", str(files / "vgg_nan.pth"))
    status, _, err = run(["fingerprint", files / "images" / "im0.png"], capsys)
    assert status == 2 and "holds NaN or infinite values" in err and err.count("\n") == 1
    monkeypatch.setenv("DSDVIZ_VGG19_WEIGHTS", str(files / "images"))
    status, _, err = run(["fingerprint", files / "images" / "im0.png"], capsys)
    assert status == 2 and "images' is a folder; set DSDVIZ_VGG19_WEIGHTS" in err


def test_nan_model_weights_and_odd_model_arguments_are_refused(tmp_path):
    record = torch.load(shipped_models()["dsd_regressor_a2_cpu"], weights_only=True)
    next(v for v in record["state_dict"].values() if v.is_floating_point())[0] = float("inf")
    torch.save(record, tmp_path / "diverged.pt")
    with pytest.raises(ValueError, match="diverged.pt' holds NaN or infinite weights"):
        load_model(tmp_path / "diverged.pt")
    with pytest.raises(ValueError, match="expected a file path or a shipped model's name, got NoneType"):
        load_model(None)
    with pytest.raises(ValueError, match="is a folder"):
        load_model(tmp_path)


def test_sensible_acceptances(vgg_weights, files, capsys):
    # 16-bit data in a 32-bit integer file, and float data in [0, 1]: read at their true range
    values = np.asarray(Image.open(files / "int32.tif"), dtype=np.float64) / 65535
    torch.testing.assert_close(load_image(files / "int32.tif")[0, 0].double(), torch.from_numpy(values))
    assert float(load_image(files / "float.tif").max()) <= 0.5
    status, out, _ = run(["fingerprint", files / "float.tif"], capsys)
    assert status == 0 and "float.tif" in out
    # a 16 px image scores with a one-line warning: smaller than the regressors' tiles
    status, out, err = run(["score", files / "tiny.png", "--regressor"], capsys)
    assert status == 0 and "smaller than the 64 px tiles psi_2 was trained on" in err and "Traceback" not in err
    assert all(line.startswith("dsdviz score: warning: ") for line in err.splitlines())
    # --csv into a folder that does not exist yet: created
    status, _, _ = run(["fingerprint", files / "images" / "im0.png", "--csv", files / "new" / "fp.csv"], capsys)
    assert status == 0 and (files / "new" / "fp.csv").is_file()


def test_a_run_folder_with_a_run_needs_resume_or_overwrite(vgg_weights, files, capsys):
    train = [*TRAIN, "--data", files / "images", "--out", files / "run", "--steps", "2", "--checkpoint-every", "1"]
    assert run(train, capsys)[0] == 0
    status, _, err = run(train, capsys)
    assert status == 2 and "holds a run (checkpoint.pt, checkpoint.prev.pt, model.pt, log.jsonl" in err
    assert run([*train, "--overwrite"], capsys)[0] == 0
    # a truncated last checkpoint falls back to the previous one, with a note
    checkpoint = files / "run" / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    status, out, err = run([*train[:-4], "--steps", "3", "--checkpoint-every", "1", "--resume"], capsys)
    assert status == 0 and "resumed from the previous checkpoint checkpoint.prev.pt at step 1" in out, err


def test_the_lock_refuses_a_live_owner_and_takes_over_a_stale_one(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / ".lock").write_text(f'{{"pid": {sleeper.pid}, "host": "{socket.gethostname()}"}}')
        with pytest.raises(ValueError, match=rf"in use by another run \(process {sleeper.pid} on"):
            RunLock(tmp_path / "run").acquire()
    finally:
        sleeper.kill()
        sleeper.wait()
    with RunLock(tmp_path / "run") as lock:  # its owner is gone: stale, taken over
        assert lock.owner()["pid"] == os.getpid()
    assert not (tmp_path / "run" / ".lock").exists()
    (tmp_path / "run" / ".lock").write_text('{"pid": 1, "host": "another-machine"}')
    with pytest.raises(ValueError, match="If that run is gone, delete"):
        RunLock(tmp_path / "run").acquire()


def _cli(*args: object) -> list[str]:
    return [sys.executable, "-m", "dsdviz.cli", *map(str, args)]


@pytest.mark.slow
def test_two_concurrent_trainings_into_one_folder(vgg_weights, files):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = files / "run"
    first = subprocess.Popen(
        _cli(*TRAIN, "--steps", "300", "--data", files / "images", "--out", out), env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (out / ".lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(_cli(*TRAIN, "--data", files / "images", "--out", out, "--resume"), env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert second.returncode == 2 and "is in use by another run (process" in second.stderr, second.stderr
    assert "Traceback" not in second.stderr
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    log = (out / "log.jsonl").read_text()
    assert log.count('"split": "val"') == 2 and '"step": 300, "split": "train"' in log  # one run's log, whole
    assert not (out / ".lock").exists()


@pytest.mark.slow
def _default_sigint() -> None:
    """In the child before exec: Ctrl-C's default action, as in a terminal. A process started with SIGINT ignored
    keeps ignoring it (so Python installs no KeyboardInterrupt), and a test session may have left it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow  # seconds; make test runs it, make test-fast leaves it out
def test_ctrl_c_ends_minimize_dsd_with_status_130(vgg_weights, files):
    process = subprocess.Popen(
        _cli("minimize-dsd", files / "images" / "im0.png", "--steps", "100000", "--out", files / "t.pt",
             "--checkpoint-every", "5"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
        preexec_fn=_default_sigint,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (files / "t.pt").exists() and time.monotonic() < deadline:  # the first save: the loop is running
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "interrupted at step" in out and "Traceback" not in err
    assert not (files / "t.pt.lock").exists() and (files / "t.pt").is_file()


def _random_image_file(rng: np.random.Generator, stem: Path) -> Path:
    """An image of random size and mode, saved (PNG, or TIFF for 32-bit data), then perhaps truncated or with
    flipped bytes."""
    height, width = (int(v) for v in rng.integers(1, 80, size=2))
    mode = rng.choice(["L", "RGB", "RGBA", "P", "I;16", "I", "F", "1"])
    path = stem.with_suffix(".tif" if mode in ("I", "F") or rng.random() < 0.3 else ".png")
    if mode == "F":
        image = Image.fromarray(rng.random((height, width), dtype=np.float32) * rng.choice([1.0, 3.0]), mode="F")
    elif mode == "I":
        image = Image.fromarray(rng.integers(0, 70000, (height, width)).astype(np.int32), mode="I")
    elif mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (height, width)).astype(np.uint16))
    else:
        image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB").convert(mode)
    image.save(path)
    data = bytearray(path.read_bytes())
    corruption = rng.integers(0, 3)
    if corruption == 1:
        data = data[: int(rng.integers(1, len(data)))]
    elif corruption == 2:
        for index in rng.integers(0, len(data), size=8):
            data[index] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def test_fuzz_image_files_give_a_clear_error_or_a_valid_finite_result(vgg_weights, tmp_path, capsys):
    rng = np.random.default_rng(1234)
    outcomes = {"result": 0, "error": 0}
    for index in range(40):
        path = _random_image_file(rng, tmp_path / f"f{index}")
        status, out, err = run(["fingerprint", path, "--alpha", "2"], capsys)
        assert "Traceback" not in err, err
        lines = err.splitlines()
        assert all(line.startswith("dsdviz fingerprint: warning: ") for line in lines[:-1]), err  # e.g. Pillow's
        if status == 0:
            numbers = [float(v) for v in out.splitlines()[1].split()[3:]]
            assert numbers and all(np.isfinite(numbers)), out
            outcomes["result"] += 1
        else:
            assert status == 2 and lines[-1].startswith("dsdviz fingerprint: error: "), err
            outcomes["error"] += 1
    assert outcomes["result"] >= 5 and outcomes["error"] >= 5, outcomes


def test_bf16_on_a_cpu_without_it_names_the_command_line_option(files, capsys):
    if probe_capability("cpu").bf16:
        pytest.skip("this CPU has native bfloat16: the request succeeds")
    status, _, err = run([*TRAIN, "--precision", "bf16", "--data", files / "images", "--out", files / "run"], capsys)
    assert status == 2 and "--precision fp32" in err and err.count("\n") == 1
