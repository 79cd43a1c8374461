"""The benchmark suite (issue 5): ``python -m benchmarks`` runs every figure and prints a table.

    python -m benchmarks [--only startup,payment,routing,history,idle,simulator] [--runs N] [--markdown]

Figures are medians (or p95s) over ``--runs`` repetitions (default 5; some figures take several samples per
run). Nothing here fails on time: a figure over its target says ``missed`` and the exit status stays 0. See
benchmarks/README.md for what each figure measures and how.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable

from .common import Figure, markdown_table, progress, table

GROUPS: dict[str, str] = {
    "startup": "benchmarks.startup",
    "payment": "benchmarks.payment",
    "routing": "benchmarks.route_edit",
    "history": "benchmarks.history",
    "idle": "benchmarks.idle",
    "simulator": "benchmarks.simulator",
}
"""Group name -> module with ``run(runs) -> list[Figure]``, in the order of the issue's figures."""


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.node() or 'this machine'}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.2f} at the start"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated groups to run (default all: {','.join(GROUPS)})"
    )
    parser.add_argument("--runs", type=int, default=5, help="repetitions of each figure (default 5)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose among {', '.join(GROUPS)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    import importlib

    figures: list[Figure] = []
    started = time.perf_counter()
    print(machine(), file=sys.stderr)
    for name in chosen:
        progress(f"== {name}")
        group_started = time.perf_counter()
        try:
            run: Callable[[int], list[Figure]] = importlib.import_module(GROUPS[name]).run
            figures.extend(run(args.runs))
        except Exception as error:  # one broken group must not hide the others' figures
            traceback.print_exc()
            figures.append(Figure(name, "could not be measured", None, "", note=f"{type(error).__name__}: {error}"))
        progress(f"{name} took {time.perf_counter() - group_started:.0f} s")
    print()
    print(f"lnconsole benchmarks on {machine()}; {args.runs} runs; {time.perf_counter() - started:.0f} s in all")
    print(table(figures))
    if args.markdown:
        print()
        print(markdown_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
