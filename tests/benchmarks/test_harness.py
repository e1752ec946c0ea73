"""The benchmark harness finds, runs and reports benchmarks; no timing is asserted here."""

import contextlib
import datetime
import http.server
import threading
from io import StringIO

import psutil
import pytest

from benchmarks import harness
from benchmarks import load as load_benchmark
from benchmarks import performance as performance_benchmark
from benchmarks import portfolio as portfolio_benchmark


def test_discover_finds_benchmark_modules_not_machinery():
    found = harness.discover()

    assert "portfolio" in found
    assert "harness" not in found
    assert all(callable(module.run) for module in found.values())
    assert harness.title_of("portfolio", found["portfolio"]) == "Service portfolio"


def test_select_all_by_default_or_the_ones_named():
    found = harness.discover()

    assert [name for name, _ in harness.select([], found)] == list(found)
    assert [name for name, _ in harness.select(["portfolio", "portfolio"], found)] == ["portfolio"]
    with pytest.raises(harness.BenchmarkError, match="No benchmark named nothing-here"):
        harness.select(["nothing-here"], found)


def test_timing_median_and_p90():
    timing = harness.Timing("page", tuple(float(ms) for ms in range(1, 11)), target_ms=5)

    assert timing.median_ms == 5.5
    assert timing.p90_ms == pytest.approx(9.1)
    assert timing.met is False
    assert harness.Timing("page", (4.0, 4.0, 9.0), target_ms=5).met is True
    assert harness.Timing("page", (4.0,)).met is None


def test_bench_records_figures_and_query_counts_in_markdown():
    out = StringIO()
    bench = harness.Bench("portfolio", "Service portfolio", stdout=out)

    bench.figure("Generation", "9.1 s", target="< 60 s", met=True)
    bench.query_counts("Service list", {"100 services": 12, "10,000 services": 12})
    bench.query_counts("Service page", {"100 services": 20, "10,000 services": 31})
    bench.note("A note.")
    text = bench.markdown(machine="Some CPU", ran_on=datetime.date(2025, 1, 2), seconds=3)

    assert "## Service portfolio (`benchmarks/portfolio.py`)" in text
    assert "Run on 2025-01-02 in 3 s. Machine: Some CPU." in text
    assert "| Generation | 9.1 s | < 60 s | yes |" in text
    assert "| Service list: queries | 12 at 100 services, 12 at 10,000 services |" in text
    assert "| Service page: queries | 20 at 100 services, 31 at 10,000 services" in text
    assert "| **no** |" in text
    assert [figure.label for figure in bench.missed] == ["Service page: queries"]
    assert "TARGET MISSED" in out.getvalue()


def test_summary_table_gathers_the_rows_sections_mark(tmp_path):
    api = harness.Bench("api", "REST API", stdout=StringIO())
    api.figure("Raw upsert", "33,000 rows/s")
    api.figure("Sync", "5,000 rows/s = 15% of raw", target="≥ 10% of raw", met=True, summary="sync")
    load = harness.Bench("load", "Under load", stdout=StringIO())
    load.figure("API list", "150 req/s", target="≥ 200 req/s", met=False, summary="API list")
    day = datetime.date(2025, 1, 2)
    path = tmp_path / "benchmarks.md"

    harness.write_sections({"api": api.markdown(machine="CPU", ran_on=day, seconds=1)}, path)
    harness.write_sections({"load": load.markdown(machine="CPU", ran_on=day, seconds=1)}, path)

    text = path.read_text()
    summary = text.split(harness.SUMMARY_START)[1].split(harness.SUMMARY_END)[0]
    assert "| sync | ≥ 10% of raw | 5,000 rows/s = 15% of raw | met | [REST API](#" in summary
    assert "| API list | ≥ 200 req/s | 150 req/s | **missed** | [Under load](#" in summary
    assert "Raw upsert" not in summary
    assert text.index(harness.SUMMARY_START) < text.index("<!-- benchmark:api -->")
    # Rewritten in place, with a section's new figures.
    load = harness.Bench("load", "Under load", stdout=StringIO())
    load.figure("API list", "250 req/s", target="≥ 200 req/s", met=True, summary="API list")
    harness.write_sections({"load": load.markdown(machine="CPU", ran_on=day, seconds=1)}, path)
    text = path.read_text()
    assert text.count(harness.SUMMARY_START) == 1
    assert "| API list | ≥ 200 req/s | 250 req/s | met |" in text
    assert "150 req/s" not in text


def test_main_prints_every_target_with_the_cpu_model(monkeypatch):
    class Module:
        TITLE = "Tiny"

        @staticmethod
        def run(bench):
            bench.figure("Fast", "1 ms", target="< 2 ms", met=True)
            bench.figure("Slow", "9 ms", target="< 2 ms", met=False)

    monkeypatch.setattr(harness, "discover", lambda: {"tiny": Module})
    monkeypatch.setattr(harness, "benchmark_database", lambda keepdb: _nothing())
    monkeypatch.setattr(harness, "describe_machine", lambda: "Some CPU")
    out = StringIO()

    assert harness.main(["tiny", "--no-write", "--strict"], stdout=out) == 1

    text = out.getvalue()
    assert f"Targets on {harness.cpu_model()}:" in text
    assert "met    Tiny: Fast: 1 ms (< 2 ms)" in text
    assert "MISSED Tiny: Slow: 9 ms (< 2 ms)" in text


@contextlib.contextmanager
def _nothing():
    yield "no database"


def test_replace_section_appends_then_replaces_in_place():
    document = harness.replace_section("", "portfolio", "## Portfolio\n\nfirst")
    document = harness.replace_section(document, "api", "## API\n\nfirst")
    assert document.startswith(harness.DOCS_HEADER)

    replaced = harness.replace_section(document, "portfolio", "## Portfolio\n\nsecond")

    assert "first" in replaced.split("<!-- benchmark:api -->")[1]
    assert "second" in replaced and replaced.count("## Portfolio") == 1
    assert replaced.index("benchmark:portfolio") < replaced.index("benchmark:api")
    assert harness.replace_section(replaced, "portfolio", "## Portfolio\n\nsecond") == replaced


def test_write_sections_keeps_other_sections(tmp_path):
    path = tmp_path / "benchmarks.md"
    harness.write_sections({"api": "## API\n\nold", "portfolio": "## P\n\nold"}, path)
    harness.write_sections({"portfolio": "## P\n\nnew"}, path)

    text = path.read_text()
    assert "## API\n\nold" in text and "## P\n\nnew" in text and "## P\n\nold" not in text


def test_main_lists_benchmarks():
    out = StringIO()

    assert harness.main(["--list"], stdout=out) == 0

    assert "portfolio: Service portfolio" in out.getvalue()


def test_main_rejects_an_unknown_benchmark():
    out = StringIO()

    assert harness.main(["nothing-here"], stdout=out) == 2

    assert "No benchmark named nothing-here" in out.getvalue()


@pytest.mark.django_db
def test_portfolio_benchmark_runs_on_tiny_data(monkeypatch):
    """A smoke test of the benchmark's own code, at a few dozen services and two runs."""
    monkeypatch.setattr(portfolio_benchmark, "SMALL_SERVICES", 60)
    monkeypatch.setattr(portfolio_benchmark, "RUNS", 2)
    bench = harness.Bench("portfolio", "Service portfolio", scale=0.008, stdout=StringIO())

    portfolio_benchmark.run(bench)

    labels = [figure.label for figure in bench.figures]
    assert labels[0].startswith("Generating 80 services, 400 items, 240 dependencies")
    timed = [f for f in bench.figures if f.value.startswith("median ")]
    assert len(timed) == 5
    search = timed[-1]
    assert search.summary == "search q= on lists"
    # A table of 80 rows is read whole: whether the index is used shows at full size.
    assert search.value.endswith(("the trigram index", "an index", "a sequential scan"))
    counts = [f for f in bench.figures if f.label.endswith(": queries")]
    assert [f.value.count(" at ") for f in counts] == [2, 2, 2, 2]
    assert all(f.met for f in counts), [f.value for f in counts]


@pytest.mark.django_db
def test_performance_benchmark_runs_on_tiny_data(monkeypatch):
    """A smoke test of the measurements benchmark's own code: a few dozen services, a few
    months of figures, one sync batch, two runs of each page."""
    monkeypatch.setattr(performance_benchmark, "SMALL_SERVICES", 30)
    monkeypatch.setattr(performance_benchmark, "MONTHS", 3)
    monkeypatch.setattr(performance_benchmark, "RUNS", 2)
    monkeypatch.setattr(performance_benchmark, "BATCH", 40)
    bench = harness.Bench("performance", "Measurements", scale=0.005, stdout=StringIO())

    performance_benchmark.run(bench)

    labels = [figure.label for figure in bench.figures]
    assert labels[0].startswith("Generating 50 services, 250 items and ")
    counts = [f for f in bench.figures if f.label.endswith(": queries")]
    assert [f.value.count(" at ") for f in counts] == [2, 2, 2]
    assert all(f.met for f in counts), [f.value for f in counts]
    assert labels[-1].startswith("Sync 48 new figures in batches of 40")


def test_load_benchmark_runs_the_image_commands():
    command = load_benchmark.dockerfile_command()
    assert command[:2] == ["gunicorn", "portico.wsgi:application"]
    assert "--workers" in command
    variables, argv = load_benchmark.dockerfile_collectstatic()
    assert argv[:3] == ["python", "manage.py", "collectstatic"]
    assert {"DATABASE_URL", "SECRET_KEY"} <= set(variables)


def test_load_benchmark_compares_the_other_worker_class_and_the_bare_stack():
    image = load_benchmark.dockerfile_command()
    other = load_benchmark.other_worker_class(image)
    assert {load_benchmark.worker_class(image), load_benchmark.worker_class(other)} == {
        "sync",
        "gthread",
    }
    assert other[other.index("--workers") + 1] == image[image.index("--workers") + 1]
    assert load_benchmark.describe(image) == "2 sync workers"
    assert load_benchmark.describe(other) == "2 gthread workers of 4 threads"
    bare = load_benchmark.bare_stack_command(image)
    assert bare[:2] == ["gunicorn", "benchmarks.barestack.wsgi:application"]
    assert bare[2:] == image[2:]


class Answer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self):
        body = b"missing" if self.path == "/missing" else b"ok"
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server(monkeypatch):
    # No PostgreSQL backends serve this one.
    monkeypatch.setattr(load_benchmark.Server, "database_cpu_seconds", lambda self: None)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield load_benchmark.Server(server.server_address[1], psutil.Process())
    server.shutdown()
    server.server_close()


def test_load_driver_keeps_connections_and_measures(local_server):
    result = load_benchmark.drive(local_server, "/", {}, connections=2, warmup=0.1, duration=0.5)

    assert result.rate > 0 and result.seconds == 0.5
    assert result.percentile(50) <= result.percentile(99)
    # Measured requests reuse the connections opened during the warm-up.
    assert result.connections_opened == 0
    # The server's CPU is its child processes'; this process may have children of its own
    # (started by other tests of the same worker), so only the sign is certain here.
    assert result.client_cpu >= 0 and result.server_cpu >= 0
    assert result.database_cpu is None


def test_load_driver_refuses_an_answer_other_than_200(local_server):
    with pytest.raises(harness.BenchmarkError, match="answered 404"):
        load_benchmark.drive(local_server, "/missing", {}, connections=1, warmup=0, duration=0.2)
