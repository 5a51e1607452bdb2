"""MATLAB-exact antialiased bicubic downscaling: dsdviz vs a dense-matrix baseline and torch.

* dsdviz: symmetric padding by one index gather + one strided convolution per axis;
* baseline: the straightforward exact implementation, one dense ``(out, in)`` weight
  matrix per axis applied with two matrix products (cost grows with ``in^2`` per row);
* torch: ``F.interpolate(..., mode="bicubic", antialias=True)``, the same kernel but
  not MATLAB's borders (shown for speed reference only; its max deviation is printed).

Forward and backward, float32, batch 8 of RGB images, factor 4 (and 2).

    python benchmarks/bench_resize.py [--sizes 256 512 1024 2048] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from dsdviz.resize import downscale, imresize


def dense_matrix(in_len: int, alpha: int, device: torch.device) -> torch.Tensor:
    """The ``(ceil(in / alpha), in)`` resampling matrix, read off by resizing an identity."""
    eye = torch.eye(in_len, dtype=torch.float64, device=device)[None, None]
    return imresize(eye, scale=(1 / alpha, 1.0))[0, 0].float()


def timed(fn, repeats: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--alphas", type=int, nargs="+", default=[4, 2])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    threads = torch.get_num_threads()
    print(f"downscale forward+backward, batch {args.batch} x 3 channels, float32, {device}, {threads} threads")
    header = (f"{'alpha':>5}{'px':>6}{'dsdviz ms':>11}{'dense ms':>10}{'torch ms':>10}{'vs dense':>10}{'MPx/s':>8}"
              f"{'max |dsdviz-dense|':>20}{'torch border dev':>18}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for alpha in args.alphas:
        for size in args.sizes:
            x = torch.rand(args.batch, 3, size, size, device=device, requires_grad=True)
            matrix = dense_matrix(size, alpha, device)

            def ours():
                downscale(x, alpha).sum().backward()
                sync()

            def dense():
                (matrix @ x @ matrix.T).sum().backward()
                sync()

            def torch_aa():
                F.interpolate(x, scale_factor=1 / alpha, mode="bicubic", antialias=True).sum().backward()
                sync()

            t_ours, t_dense, t_torch = (timed(f, args.repeats) for f in (ours, dense, torch_aa))
            with torch.no_grad():
                a, b = downscale(x, alpha), matrix @ x @ matrix.T
                c = F.interpolate(x, scale_factor=1 / alpha, mode="bicubic", antialias=True)
            mpx = args.batch * size * size / 1e6
            print(
                f"{alpha:>5}{size:>6}{t_ours * 1e3:>11.1f}{t_dense * 1e3:>10.1f}{t_torch * 1e3:>10.1f}"
                f"{t_dense / t_ours:>9.1f}x{mpx / t_ours:>8.1f}{(a - b).abs().max().item():>20.1e}"
                f"{(a - c).abs().max().item():>18.1e}",
                flush=True,
            )
    print("\nvs dense: dense-matrix time / dsdviz time; MPx/s: input megapixels per second (dsdviz)")


if __name__ == "__main__":
    main()
