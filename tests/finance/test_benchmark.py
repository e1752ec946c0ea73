"""A smoke test of the TCO benchmark's own code on tiny data; no timing is asserted."""

from io import StringIO

import pytest

from benchmarks import harness
from benchmarks import tco as tco_benchmark

pytestmark = pytest.mark.django_db


def test_tco_benchmark_runs_on_tiny_data():
    bench = harness.Bench("tco", tco_benchmark.TITLE, scale=0.01, stdout=StringIO())

    tco_benchmark.run(bench)

    labels = [figure.label for figure in bench.figures]
    assert labels[0].startswith("Roll-up, 12 services, 500 cost items (0.25 of full size)")
    assert "Peak memory of the full roll-up (tracemalloc)" in labels
    counts = [f for f in bench.figures if f.label.endswith(": queries")]
    assert [f.value.count(" at ") for f in counts] == [3, 3]
