"""Command line: ``python -m dbcode <command> [options]`` (also installed as ``dbcode``).

Commands
--------
build          execute the chapters of ``_toc.yml`` with papermill and build the book
check-metrics  compare figures/manifest.json with the committed one (frozen metrics)
tolerances     measure the key numbers' seed-to-seed spread: figures/tolerances.json
chapters       list the files of ``_toc.yml`` and whether they are notebooks
sweep          run a named sweep of networks (e.g. fig4b) on Dask, resumably
status         progress of a named sweep in the result store, with projected time
export         write the summary of a sweep's finished networks to results/<scale>/<name>.json
fingerprint    digests of the data and of short networks (compare across machines)

Adding a command: write ``configure(parser)`` and ``run(args) -> int`` and add a
:class:`Command` to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="book root with _toc.yml and _config.yml (default: found from the current folder)",
    )


# --------------------------------------------------------------------------- build
def _configure_build(parser: argparse.ArgumentParser) -> None:
    from dbcode.model.params import SCALES

    _add_root(parser)
    parser.add_argument(
        "--scale",
        choices=SCALES,
        default="ci",
        help="simulation scale passed to every chapter (default: ci)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed passed to every chapter")
    parser.add_argument(
        "--chapters",
        nargs="+",
        metavar="NAME",
        default=None,
        help="execute only these chapters (file stems, e.g. bars)",
    )
    parser.add_argument(
        "--no-html",
        dest="html",
        action="store_false",
        help="execute the chapters but skip jupyter-book build",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep executed copies that are fresh (same source, code, scale, seed)",
    )
    parser.add_argument(
        "--strict-metrics",
        action="store_true",
        help="fail when a frozen metric moved beyond its tolerance",
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="per-cell timeout in seconds (default: none)"
    )


def _run_build(args: argparse.Namespace) -> int:
    from dbcode.book.pipeline import BuildError, build

    try:
        build(
            args.root,
            scale=args.scale,
            seed=args.seed,
            chapters=args.chapters,
            html=args.html,
            reuse=args.reuse,
            strict_metrics=args.strict_metrics,
            timeout=args.timeout,
        )
    except BuildError as exc:
        print(f"dbcode build: error: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


# --------------------------------------------------------------------------- check-metrics
def _configure_check(parser: argparse.ArgumentParser) -> None:
    _add_root(parser)
    parser.add_argument(
        "--against",
        default="HEAD",
        help="git revision whose figures/manifest.json is the reference (default: HEAD)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="reference manifest file instead of a git revision",
    )
    parser.add_argument(
        "--current",
        type=Path,
        default=None,
        help="manifest to check (default: figures/manifest.json of the book)",
    )


def _run_check(args: argparse.Namespace) -> int:
    from dbcode.book import tolerances
    from dbcode.book.metrics import check_frozen_metrics
    from dbcode.book.pipeline import committed_manifest, find_root
    from dbcode.viz import figures

    root = find_root(args.root)  # a BuildError is reported by main()
    if args.baseline is not None:
        baseline = figures.load_manifest(args.baseline)
    else:
        baseline = committed_manifest(root, ref=args.against)
        if baseline is None:
            print("dbcode check-metrics: not a git checkout; pass --baseline FILE", file=sys.stderr)
            return 2
    current = figures.load_manifest(args.current or figures.manifest_path(root / "figures"))
    report = check_frozen_metrics(baseline, current, tolerances=tolerances.load(root))
    print(report.format())
    return 0 if report.ok else 1


# --------------------------------------------------------------------------- tolerances
def _configure_tolerances(parser: argparse.ArgumentParser) -> None:
    from dbcode.book.tolerances import DEFAULT_SEEDS

    _add_root(parser)
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=list(DEFAULT_SEEDS),
        help="build seeds to measure the spread over (default: %(default)s)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="folder of the builds (default: _build/tolerances; reused)",
    )


def _run_tolerances(args: argparse.Namespace) -> int:
    from dbcode.book import tolerances
    from dbcode.book.pipeline import find_root, measure_tolerances

    root = find_root(args.root)  # a BuildError is reported by main()
    if len(set(args.seeds)) < 3:
        print("dbcode tolerances: error: give at least three different seeds", file=sys.stderr)
        return 2
    measured = measure_tolerances(root, sorted(set(args.seeds)), work=args.work)
    target = tolerances.write(root, measured)
    n = sum(len(v) for v in measured["numbers"].values())
    print(f"{n} tolerances ({measured['rule']}, seeds {measured['seeds']}) written to {target}")
    for fig, names in sorted(measured["unstable"].items()):
        for name, values in sorted(names.items()):
            print(f"  unstable (not compared): {fig}.{name}: {values}")
    return 0


# --------------------------------------------------------------------------- chapters
def _configure_chapters(parser: argparse.ArgumentParser) -> None:
    _add_root(parser)


def _run_chapters(args: argparse.Namespace) -> int:
    from dbcode.book.pipeline import BuildError, collect_chapters, find_root

    try:
        chapters = collect_chapters(find_root(args.root))
    except BuildError as exc:
        print(f"dbcode chapters: error: {exc}", file=sys.stderr)
        return 1
    for chapter in chapters:
        kind = "notebook" if chapter.notebook else "page"
        print(f"{chapter.name:<16} {kind:<9} {chapter.relpath}")
    return 0


# --------------------------------------------------------------------------- sweeps
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _configure_sweep_common(parser: argparse.ArgumentParser) -> None:
    import dbcode.chapters  # noqa: F401  (the chapters register their sweeps)
    from dbcode.run.registry import SWEEPS

    parser.add_argument(
        "name",
        choices=sorted(SWEEPS),
        metavar="NAME",
        help=f"sweep name: {', '.join(sorted(SWEEPS))}",
    )
    parser.add_argument("--scale", choices=("ci", "paper"), default="ci")
    parser.add_argument(
        "--seeds",
        type=_positive_int,
        default=None,
        help="seeds per condition, at least 1 (default: the sweep's)",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="worker processes of the local cluster (default: one per core)",
    )
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        help="result store folder (default: DBCODE_CACHE or .cache/dbcode)",
    )


def _configure_sweep(parser: argparse.ArgumentParser) -> None:
    _configure_sweep_common(parser)
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="compute also the networks the committed record already holds",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="address of a running Dask scheduler (default: a local cluster)",
    )


def _run_sweep(args: argparse.Namespace) -> int:
    from dbcode.run import registry, sweep
    from dbcode.run.store import ResultStore

    # seed-major order: an interrupted sweep has covered every condition evenly
    jobs = sorted(registry.named_jobs(args.name, args.scale, args.seeds), key=lambda j: j.seed)
    store = ResultStore(args.store) if args.store else ResultStore()
    jobs = _without_committed(jobs, args)
    print(sweep.status(jobs, store).format(args.workers or 1), flush=True)
    sweep.run(
        jobs,
        scheduler=args.scheduler,
        workers=args.workers,
        store=store,
        progress=True,
        desc=args.name,
    )
    print(sweep.status(jobs, store).format(args.workers or 1), flush=True)
    return 0


def _without_committed(jobs: list, args: argparse.Namespace) -> list:
    """The jobs whose network the committed record lacks (``--recompute``: all), after
    saying how many it holds."""
    from dbcode.run import records

    path = records.summary_path(args.name, args.scale)
    if path is None or getattr(args, "recompute", False):
        return jobs
    committed = {id(job) for job in records.committed_jobs(jobs, path)}
    if committed:
        print(
            f"{len(committed)} of {len(jobs)} networks are in the committed record "
            f"{path.name}: not computed again (--recompute to compute them anyway)",
            flush=True,
        )
    by_name = records.rows_without_parameters(path)
    if committed and by_name:
        print(
            f"warning: {by_name} rows of {path.name} were written before records kept "
            "each network's parameters and match a network by rule, N_z, seed and data "
            "only: if the sweep's parameters changed since, pass --recompute",
            flush=True,
        )
    return [job for job in jobs if id(job) not in committed]


def _run_status(args: argparse.Namespace) -> int:
    from dbcode.run import registry, sweep
    from dbcode.run.jobs import default_workers
    from dbcode.run.store import ResultStore

    jobs = registry.named_jobs(args.name, args.scale, args.seeds)
    store = ResultStore(args.store) if args.store else ResultStore()
    jobs = _without_committed(jobs, args)
    print(sweep.status(jobs, store).format(args.workers or default_workers()))
    return 0


def _run_export(args: argparse.Namespace) -> int:
    from dbcode.run import records, registry
    from dbcode.run.store import ResultStore

    named = registry.named_sweep(args.name)
    jobs = registry.named_jobs(args.name, args.scale, args.seeds)
    store = ResultStore(args.store) if args.store else ResultStore()
    path = records.summary_path(args.name, args.scale)
    if path is None:
        print("dbcode export: run from a source checkout (results/ lives there)", file=sys.stderr)
        return 2
    try:
        summary = records.export_summary(
            jobs,
            store,
            path,
            describe=named.describe,
            keep_fields=named.keep_fields,
            keep_states=named.keep_states,
            force=args.force,
        )
    except records.RecordShrinks as exc:
        print(f"python -m dbcode export: {exc}", file=sys.stderr)
        return 1
    print(f"{summary['done']} of {summary['total']} networks written to {path}")
    if named.keep_fields:
        from dbcode.run.field_classes import write_record_classes

        target = write_record_classes(path, records.load_fields(args.name, args.scale))
        print(f"receptive-field classes of its fields written to {target}")
    return 0


def _configure_export(parser: argparse.ArgumentParser) -> None:
    _configure_sweep_common(parser)
    parser.add_argument(
        "--force",
        action="store_true",
        help="write only what the store holds, dropping committed networks it lacks",
    )


# --------------------------------------------------------------------------- fingerprint
def _configure_fingerprint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", type=Path, default=None, help="also write the digests to this JSON file"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="compare with the digests in this JSON file (exit 1 if any differ)",
    )


def _run_fingerprint(args: argparse.Namespace) -> int:
    import json

    from dbcode.run.fingerprint import fingerprint

    if args.compare is not None and not args.compare.is_file():
        print(f"dbcode fingerprint: no file {args.compare}", file=sys.stderr)
        return 2
    digests = fingerprint()
    for name, arrays in digests.items():
        print(f"{name:28s} " + " ".join(f"{k}={v}" for k, v in arrays.items()))
    if args.json is not None:
        args.json.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    if args.compare is not None:
        reference = json.loads(args.compare.read_text())
        differ = sorted(
            f"{name}.{k}"
            for name in set(reference) | set(digests)
            for k in set(reference.get(name, {})) | set(digests.get(name, {}))
            if reference.get(name, {}).get(k) != digests.get(name, {}).get(k)
        )
        if differ:
            print(f"{len(differ)} digest(s) differ from {args.compare}: " + ", ".join(differ))
            return 1
        print(f"all digests equal those in {args.compare}")
    return 0


COMMANDS: list[Command] = [
    Command(
        "build",
        "execute the chapters (papermill) and build the book (jupyter-book)",
        _configure_build,
        _run_build,
    ),
    Command(
        "check-metrics",
        "compare key numbers of figures/manifest.json with the committed ones",
        _configure_check,
        _run_check,
    ),
    Command(
        "tolerances",
        "measure the tolerances of the key numbers over several seeds",
        _configure_tolerances,
        _run_tolerances,
    ),
    Command("chapters", "list the files of _toc.yml", _configure_chapters, _run_chapters),
    Command(
        "sweep",
        "run a named sweep of networks on Dask (resumes where it stopped)",
        _configure_sweep,
        _run_sweep,
    ),
    Command(
        "status",
        "show how much of a named sweep is done and the projected time",
        _configure_sweep_common,
        _run_status,
    ),
    Command(
        "export",
        "write a summary of a sweep's finished networks (committed record)",
        _configure_export,
        _run_export,
    ),
    Command(
        "fingerprint",
        "digests of the data and of short networks of every rule",
        _configure_fingerprint,
        _run_fingerprint,
    ),
]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dbcode",
        description="Reproduce the figures and the book of 'Local dendritic balance enables "
        "learning of efficient representations in networks of spiking neurons'.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub_parser = sub.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub_parser)
        sub_parser.set_defaults(_run=command.run)
    return parser


def _log_data_sources() -> None:
    """Show on stderr which data source every load uses (the ``dbcode.data`` log)."""
    import logging

    logger = logging.getLogger("dbcode.data")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("data: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    _log_data_sources()
    from dbcode.book.pipeline import BuildError
    from dbcode.model.params import ParameterError
    from dbcode.run.sweep import SchedulerUnreachable

    try:
        return int(args._run(args) or 0)
    except (BuildError, ParameterError, SchedulerUnreachable, FileNotFoundError) as exc:
        print(f"python -m dbcode {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in _BOOK_MODULES:
            print(
                f"python -m dbcode {args.command}: {exc.name} is missing; install the book "
                "tools with: pip install -c requirements/lock.txt -e '.[book]'",
                file=sys.stderr,
            )
            return 2
        raise
    except BrokenPipeError:
        # the reader closed the pipe (`... | head`): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


# Packages of the `book` extra that the commands import.
_BOOK_MODULES = {"papermill", "jupytext", "nbformat", "yaml", "jupyter_book", "nbclient"}


if __name__ == "__main__":
    sys.exit(main())
