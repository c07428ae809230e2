"""Command line of the companion package: ``python -m common {run,list} ...``.

Examples::

    python -m common run                      # every chapterNN/*.ipynb, default mode
    python -m common run chapter01 --quick    # one chapter, GATAM_QUICK=1
    python -m common run chapter03/01_vae.ipynb --timeout 600 --out /tmp/build
    python -m common list chapter02           # show what `run` would execute

Exit codes: 0 every notebook ran; 1 at least one failed, timed out or could not be read (a
malformed .ipynb is reported as a row with status "error" and the others still run); 2 bad
command line (unknown target, unknown kernel, bad option).

The output folder (``--out``, default ``$GATAM_BUILD_DIR`` or ``<repo>/build``) is passed to
each notebook's kernel as ``GATAM_BUILD_DIR``: files a notebook writes with
``common.config.build_dir(...)`` land there too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from common.run import (
    REPO_ROOT,
    TargetError,
    default_out_dir,
    find_notebooks,
    format_summary,
    run_notebooks,
)

_TARGETS_HELP = (
    "what to run: 'all' (default: every chapterNN/*.ipynb in reading order), a chapter folder "
    "('chapter01'), or notebook paths"
)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m common",
        description=(
            "Companion notebooks of 'Generative AI for Trading and Asset Management': "
            "execute notebooks and collect an executed copy, HTML, seconds and peak memory."
        ),
        epilog=(
            "Examples: `python -m common run chapter01 --quick`; `python -m common list`. "
            "Run `python -m common run --help` for the options of a subcommand."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,list}")
    sub.required = True

    run = sub.add_parser(
        "run",
        help="execute notebooks; write build/<chapter>/<name>.ipynb + .html and build/summary.*",
        description=(
            "Execute notebooks top to bottom in a fresh kernel (working directory: the notebook's "
            "folder). Writes the executed notebook and an HTML copy to OUT/<chapter>/ (also when "
            "it fails), prints a table (notebook, status, seconds, peak MiB, mode) and saves it "
            "as OUT/summary.csv and OUT/summary.md. Exit code 1 if any notebook failed."
        ),
    )
    run.add_argument("targets", nargs="*", metavar="TARGET", help=_TARGETS_HELP)
    run.add_argument(
        "--quick",
        action="store_true",
        help="quick mode: GATAM_QUICK=1 (small budgets, same code path); default sets GATAM_QUICK=0",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help=(
            f"build folder (default: $GATAM_BUILD_DIR or {REPO_ROOT / 'build'}); notebooks see "
            "it as GATAM_BUILD_DIR and write their own files below it"
        ),
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="wall-clock budget per notebook; 0 means no limit (default: 1800)",
    )
    run.add_argument(
        "--inplace",
        action="store_true",
        help="also write each successfully executed notebook over its source (for maintainers)",
    )
    run.add_argument("--kernel", default="python3", help="Jupyter kernel name (default: python3)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    lst = sub.add_parser(
        "list",
        help="print the notebooks a target selects",
        description="Print the notebooks that `run` would execute for the given targets.",
    )
    lst.add_argument("targets", nargs="*", metavar="TARGET", help=_TARGETS_HELP)
    return parser


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 a notebook failed, 2 usage error).

    Args:
        argv: arguments without the program name (default: ``sys.argv[1:]``).
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        notebooks = find_notebooks(args.targets)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if args.command == "list":
        for path in notebooks:
            print(_display(path))
        return 0

    if args.timeout < 0:
        parser.error(f"--timeout must be >= 0 (0: no limit), got {args.timeout:g}")
    try:
        table = run_notebooks(
            notebooks,
            quick=args.quick,
            out_dir=args.out,
            timeout=args.timeout or None,
            inplace=args.inplace,
            kernel=args.kernel,
            progress=not args.no_progress,
        )
    except ValueError as exc:  # unknown kernel and similar up-front checks
        print(f"error: {exc}", file=sys.stderr)
        return 2

    out_dir = args.out if args.out is not None else default_out_dir()
    print(format_summary(table), end="")
    print(f"\nsaved {out_dir / 'summary.csv'} and {out_dir / 'summary.md'}")
    bad = table[table["status"] != "ok"]
    if len(bad):
        print(f"{len(bad)} of {len(table)} notebook(s) did not run cleanly", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
