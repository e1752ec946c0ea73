"""The benchmark harness: finding benchmarks, their database, measuring, and the report.

See the package docstring (``benchmarks/__init__.py``) for how to run and add benchmarks.
"""

import argparse
import contextlib
import cProfile
import datetime
import importlib
import json
import os
import pkgutil
import platform
import pstats
import secrets
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TextIO

BASE_DIR = Path(__file__).resolve().parent.parent
DOCS_PATH = BASE_DIR / "docs" / "benchmarks.md"
# Modules of the package that are machinery, not benchmarks.
NOT_BENCHMARKS = frozenset({"harness"})

DOCS_HEADER = """\
# Benchmarks

The latest figures of `make bench` (`python -m benchmarks [names...]`). Each benchmark module
writes its own section below, replaced whenever it runs again, with the machine and the date
it ran on. Timings are server time measured in-process with Django's test client (no network,
no browser): the median and the 90th percentile of many runs after a few warm-up requests, on
a database of their own that the harness creates, fills and drops; the load benchmark instead
drives the production server (gunicorn) over loopback with concurrent connections and reports
throughput and latency percentiles. How to run them and how to add one:
`benchmarks/__init__.py`.
"""

SUMMARY_START, SUMMARY_END = "<!-- benchmark-summary -->", "<!-- /benchmark-summary -->"
SUMMARY_HEADER = """\
## Targets at a glance

The figures that carry a target of the performance plan, gathered from the sections below
(each row links its section; each section names the machine and the date it ran on). A
figure is marked met or missed by the run that measured it, against the floor measured in
that same run where the target is a share of one.

| figure | target | measured | met | section |
|---|---|---|---|---|
"""


class BenchmarkError(RuntimeError):
    """A benchmark could not measure what it meant to (an unknown name, a failed request)."""


# --- Finding benchmarks -----------------------------------------------------------------------


def discover() -> dict[str, ModuleType]:
    """Every benchmark module of the package, by name: a module with a callable ``run``."""
    import benchmarks

    found = {}
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in NOT_BENCHMARKS or info.ispkg:
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        if callable(getattr(module, "run", None)):
            found[info.name] = module
    return found


def select(names: Iterable[str], available: dict[str, ModuleType]) -> list[tuple[str, ModuleType]]:
    """The benchmarks named (all when none are), in the order given."""
    names = list(names) or list(available)
    unknown = [name for name in names if name not in available]
    if unknown:
        raise BenchmarkError(
            f"No benchmark named {', '.join(unknown)}; there are: {', '.join(available)}."
        )
    return [(name, available[name]) for name in dict.fromkeys(names)]


def title_of(name: str, module: ModuleType) -> str:
    return getattr(module, "TITLE", name.replace("_", " ").capitalize())


# --- Measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    target: str = ""
    met: bool | None = None  # None: no target
    # The row of the summary at the top of docs/benchmarks.md this figure answers ("API list
    # of 50 under 8 connections"); empty for figures only their section shows.
    summary: str = ""


@dataclass(frozen=True)
class Timing:
    label: str
    samples_ms: tuple[float, ...]
    target_ms: float | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p90_ms(self) -> float:
        if len(self.samples_ms) < 2:
            return self.samples_ms[0]
        return statistics.quantiles(self.samples_ms, n=10, method="inclusive")[-1]

    @property
    def met(self) -> bool | None:
        return None if self.target_ms is None else self.median_ms < self.target_ms


class Bench:
    """What a benchmark module's ``run(bench)`` measures with; it records every figure for
    the report and prints it as it goes."""

    def __init__(self, name: str, title: str, *, scale: float = 1.0, stdout: TextIO = sys.stdout):
        self.name = name
        self.title = title
        self.scale = scale
        self.stdout = stdout
        self.figures: list[Figure] = []
        self.notes: list[str] = []

    # --- recording ----------------------------------------------------------------------------

    def figure(
        self,
        label: str,
        value: str,
        *,
        target: str = "",
        met: bool | None = None,
        summary: str = "",
    ):
        """Record one figure; ``target`` in words, ``met`` whether it was reached;
        ``summary`` the row of the summary table it answers, if any."""
        figure = Figure(label, value, target, met, summary)
        self.figures.append(figure)
        verdict = "" if met is None else ("  target met" if met else "  TARGET MISSED")
        aim = f" (target {target})" if target else ""
        self.stdout.write(f"  {label}: {value}{aim}{verdict}\n")
        self.stdout.flush()
        return figure

    def note(self, text: str) -> None:
        """A paragraph (Markdown) under the figures: what a reader should know about them."""
        self.notes.append(text)
        self.stdout.write("  " + text.replace("\n", "\n  ") + "\n")

    # --- measuring ----------------------------------------------------------------------------

    def client(self, user=None):
        """A Django test client, logged in as ``user`` when one is given."""
        from django.test import Client

        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    def timed(
        self,
        label: str,
        request: Callable[[], object],
        *,
        runs: int = 50,
        warmup: int = 5,
        target_ms: float | None = None,
        profile_on_miss: bool = True,
        summary: str = "",
    ) -> Timing:
        """Time ``request()`` ``runs`` times after ``warmup`` untimed calls; record the median
        and p90. A response other than 200 stops the benchmark. When the target is missed,
        one more call is profiled and its slowest functions and queries added as a note."""
        for _ in range(warmup):
            check_response(label, request())
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = request()
            samples.append((time.perf_counter() - started) * 1000)
            check_response(label, response)
        timing = Timing(label, tuple(samples), target_ms)
        self.figure(
            label,
            f"median {timing.median_ms:.1f} ms, p90 {timing.p90_ms:.1f} ms ({runs} runs)",
            target="" if target_ms is None else f"median < {target_ms:g} ms",
            met=timing.met,
            summary=summary,
        )
        if timing.met is False and profile_on_miss:
            self.note(f"Profile of one “{label}” request:\n\n" + profile(request))
        return timing

    def count_queries(self, request: Callable[[], object]) -> int:
        """How many SQL queries one ``request()`` makes."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            check_response("query count", request())
        return len(queries)

    def query_counts(self, label: str, counts: dict[str, int]) -> Figure:
        """Record the query counts of one page at several data sizes ({"100 services": 12,
        ...}); the target is that they do not grow with the data."""
        value = ", ".join(f"{count} at {size}" for size, count in counts.items())
        return self.figure(
            f"{label}: queries",
            value,
            target="same at every size",
            met=len(set(counts.values())) == 1,
        )

    # --- the report ---------------------------------------------------------------------------

    @property
    def missed(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.met is False]

    def markdown(
        self, *, machine: str, ran_on: datetime.date, seconds: float, load: float | None = None
    ) -> str:
        module = sys.modules.get(f"benchmarks.{self.name}")
        description = getattr(module, "DESCRIPTION", "")
        lines = [
            f"## {self.title} (`benchmarks/{self.name}.py`)",
            "",
            f"Run on {ran_on.isoformat()} in {seconds:.0f} s"
            + ("" if load is None else f", load average {load:.1f} at the start")
            + f". Machine: {machine}.",
            "",
        ]
        if self.scale != 1:
            lines += [f"**Scaled run** (data × {self.scale:g}): not the reference figures.", ""]
        if description:
            lines += [description.strip(), ""]
        lines += ["| Measure | Result | Target | Met |", "|---|---|---|---|"]
        for figure in self.figures:
            met = {None: "", True: "yes", False: "**no**"}[figure.met]
            cells = [figure.label, figure.value, figure.target, met]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        for note in self.notes:
            lines += ["", note]
        # The rows this section gives the summary table, read back by summary_table().
        for figure in self.figures:
            if figure.summary:
                row = {
                    "figure": figure.summary,
                    "target": figure.target,
                    "measured": figure.value,
                    "met": figure.met,
                    "section": self.title,
                    "anchor": anchor_of(lines[0]),
                }
                lines += ["", f"<!-- summary: {json.dumps(row, ensure_ascii=False)} -->"]
        return "\n".join(lines) + "\n"


def anchor_of(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to -."""
    text = heading.lstrip("#").strip().lower()
    kept = "".join(c for c in text if c.isalnum() or c in " -_")
    return "#" + kept.replace(" ", "-")


def summary_rows(document: str) -> list[dict]:
    """The summary rows every section of ``document`` carries, in the sections' order."""
    rows = []
    for line in document.splitlines():
        if line.startswith("<!-- summary: ") and line.endswith(" -->"):
            rows.append(json.loads(line.removeprefix("<!-- summary: ").removesuffix(" -->")))
    return rows


def summary_table(document: str) -> str:
    """The table at the top of docs/benchmarks.md, built from the sections it holds: one row
    per figure a benchmark marked as answering a target of the plan."""
    lines = [SUMMARY_HEADER.rstrip("\n")]
    for row in summary_rows(document):
        met = {None: "", True: "met", False: "**missed**"}[row["met"]]
        cells = [
            row["figure"],
            row["target"],
            row["measured"],
            met,
            f"[{row['section']}]({row['anchor']})",
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def with_summary(document: str) -> str:
    """``document`` with its summary table (re)built, just below the header."""
    block = f"{SUMMARY_START}\n{summary_table(document).rstrip()}\n{SUMMARY_END}"
    if SUMMARY_START in document and SUMMARY_END in document:
        before, rest = document.split(SUMMARY_START, 1)
        return before + block + rest.split(SUMMARY_END, 1)[1]
    first_section = document.find("<!-- benchmark:")
    if first_section < 0:
        return document.rstrip("\n") + "\n\n" + block + "\n"
    return document[:first_section] + block + "\n\n" + document[first_section:]


def check_response(label: str, response) -> None:
    status = getattr(response, "status_code", 200)
    if status != 200:
        raise BenchmarkError(f"{label}: the request answered {status}, not 200.")


def profile(request: Callable[[], object], *, functions: int = 15, queries: int = 5) -> str:
    """The slowest project functions (cumulative) and SQL queries of one ``request()``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as captured:
        profiler.enable()
        request()
        profiler.disable()
    stats = pstats.Stats(profiler).stats
    rows = []
    for (filename, line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        path = Path(filename)
        if not path.is_relative_to(BASE_DIR):
            continue
        relative = path.relative_to(BASE_DIR)
        # The project's own code: not installed packages, not the benchmark calling it.
        if "site-packages" in relative.parts or relative.parts[0] == "benchmarks":
            continue
        rows.append((cumulative, f"{relative}:{line} {function}"))
    rows.sort(reverse=True)
    lines = ["```", "cumulative ms  project function"]
    lines += [f"{seconds * 1000:13.1f}  {where}" for seconds, where in rows[:functions]]
    lines += ["", f"{len(captured)} queries; the slowest:"]
    slowest = sorted(captured.captured_queries, key=lambda q: float(q["time"]), reverse=True)
    for query in slowest[:queries]:
        sql = " ".join(query["sql"].split())
        lines.append(f"{float(query['time']) * 1000:8.1f} ms  {sql[:400]}")
    lines.append("```")
    return "\n".join(lines)


# --- The machine and the database -------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def memory_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    with contextlib.suppress(ValueError, OSError, AttributeError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return None


def describe_machine() -> str:
    import django
    from django.db import connection

    cores = os.cpu_count() or 0
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    cpus = f"{cores} cores" + (f" ({available} available)" if available != cores else "")
    memory = memory_gib()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0].split()[0]
    parts = [
        cpu_model(),
        cpus,
        f"{memory:.1f} GiB memory" if memory else "memory unknown",
        f"{platform.system()} {platform.machine()}",
        f"Python {platform.python_version()}",
        f"PostgreSQL {postgres}",
        f"Django {django.get_version()}",
    ]
    return ", ".join(parts)


@contextlib.contextmanager
def benchmark_database(*, keepdb: bool = False):
    """A database of the benchmarks' own: DATABASE_URL's name plus ``_bench``, created and
    migrated through Django's test-database machinery, and dropped afterwards."""
    from django.db import connection

    original_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{original_name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=True, keepdb=keepdb)
    try:
        yield connection.settings_dict["NAME"]
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0, keepdb=keepdb)


def reset_database() -> None:
    """Back to the freshly migrated state, as a TransactionTestCase with serialized rollback."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection

    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    connection.creation.deserialize_db_from_string(connection._test_serialized_contents)
    ContentType.objects.clear_cache()


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
    # The benchmark database is thrown away: a throw-away key signs its sessions.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    from django.apps import apps

    if not apps.ready:
        import django

        django.setup()


def configure_for_benchmarks() -> None:
    """Settings for an in-process test client (for this process only)."""
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Static URLs without the manifest, so no collectstatic (minutes) is needed first; the
    # manifest lookup it saves is a dictionary access per {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# --- The report file --------------------------------------------------------------------------


def section_markers(name: str) -> tuple[str, str]:
    return f"<!-- benchmark:{name} -->", f"<!-- /benchmark:{name} -->"


def replace_section(document: str, name: str, section: str) -> str:
    """``document`` with the section of benchmark ``name`` replaced (or appended)."""
    start, end = section_markers(name)
    block = f"{start}\n{section.rstrip()}\n{end}"
    if not document.strip():
        document = DOCS_HEADER
    if start in document and end in document:
        before, rest = document.split(start, 1)
        after = rest.split(end, 1)[1]
        return before + block + after
    return document.rstrip("\n") + "\n\n" + block + "\n"


def write_sections(sections: dict[str, str], path: Path = DOCS_PATH) -> None:
    document = path.read_text() if path.exists() else ""
    for name, section in sections.items():
        document = replace_section(document, name, section)
    path.write_text(with_summary(document))


# --- The command ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run Portico's benchmarks on a database of their own and write the "
        "figures to docs/benchmarks.md.",
    )
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply data sizes (a quick trial; the figures are then not written)",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone"
    )
    parser.add_argument(
        "--keepdb", action="store_true", help="keep the benchmark database afterwards"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    return args


def main(argv: list[str] | None = None, *, stdout: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    setup_django()
    available = discover()
    if args.list:
        for name, module in available.items():
            stdout.write(f"{name}: {title_of(name, module)}\n")
        return 0
    try:
        chosen = select(args.names, available)
    except BenchmarkError as exc:
        stdout.write(f"{exc}\n")
        return 2

    configure_for_benchmarks()
    write = not args.no_write and args.scale == 1
    sections: dict[str, str] = {}
    missed: list[str] = []
    failed: list[str] = []
    targets: list[tuple[str, Figure]] = []
    with benchmark_database(keepdb=args.keepdb) as database:
        stdout.write(f"Benchmark database: {database}\n")
        machine = describe_machine()
        stdout.write(f"Machine: {machine}\n")
        for index, (name, module) in enumerate(chosen):
            if index:
                reset_database()
            bench = Bench(name, title_of(name, module), scale=args.scale, stdout=stdout)
            stdout.write(f"\n{bench.title} (benchmarks/{name}.py)\n")
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            started = time.perf_counter()
            try:
                module.run(bench)
            except Exception:
                failed.append(name)
                stdout.write(traceback.format_exc())
                continue
            seconds = time.perf_counter() - started
            missed += [f"{bench.title}: {figure.label}" for figure in bench.missed]
            targets += [(bench.title, f) for f in bench.figures if f.met is not None]
            sections[name] = bench.markdown(
                machine=machine, ran_on=datetime.date.today(), seconds=seconds, load=load
            )
    if write and sections:
        write_sections(sections)
        stdout.write(f"\nWrote {', '.join(sections)} to {DOCS_PATH.relative_to(BASE_DIR)}.\n")
    elif sections:
        stdout.write("\nFigures not written (--no-write or --scale).\n")
    if targets:
        stdout.write(f"\nTargets on {cpu_model()}:\n")
        for title, figure in targets:
            verdict = "met   " if figure.met else "MISSED"
            stdout.write(f"  {verdict} {title}: {figure.label}: {figure.value} ({figure.target})\n")
    stdout.write(
        f"{len(missed)} target(s) missed" + (": " + "; ".join(missed) if missed else "") + ".\n"
    )
    if failed:
        stdout.write(f"Failed: {', '.join(failed)}.\n")
        return 1
    return 1 if args.strict and missed else 0
