"""Command line: ``dsdviz <command>``, one module per group of commands.

* :mod:`~dsdviz.cli.fingerprints`: ``fingerprint``, ``figures``;
* :mod:`~dsdviz.cli.optimize`: ``minimize-dsd``, ``match-fingerprint``;
* :mod:`~dsdviz.cli.train`: ``train`` (options generated from the training settings);
* :mod:`~dsdviz.cli.scoring`: ``restore``, ``score``.

Run ``dsdviz <command> --help`` for the options of each command. Errors (bad input, missing,
corrupt or unwritable files, devices this machine lacks) print one line ``dsdviz <command>: error: ...``
and exit with status 2; an interrupted command (Ctrl-C) exits with status 130.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from ..data import DATA_ENV
from ..features import WEIGHTS_ENV, WeightsUnavailableError
from . import fingerprints, optimize, scoring, train


def build_parser() -> argparse.ArgumentParser:
    """The ``dsdviz`` parser with every command."""
    parser = argparse.ArgumentParser(
        prog="dsdviz",
        description="Deep self-dissimilarity (DSD) fingerprints of images.",
        epilog=f"VGG19 weights: set {WEIGHTS_ENV} to a local state dict when offline. Data: {DATA_ENV}.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for group in (fingerprints, optimize, train, scoring):
        group.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dsdviz`` command."""
    args = build_parser().parse_args(argv)

    def one_line(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        print(f"dsdviz {args.command}: warning: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = one_line
            return args.run(args)
    except (ValueError, WeightsUnavailableError, FloatingPointError) as error:
        print(f"dsdviz {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file the command writes or reads: the OS's reason and the file's name
        where = f" {error.filename!r}" if error.filename else ""
        print(f"dsdviz {args.command}: error: {error.strerror or error}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dsdviz {args.command}: interrupted", file=sys.stderr)
        return 130


__all__ = ["build_parser", "main"]
