"""Performance benchmarks: ``make bench``, or ``python -m benchmarks [names...]``.

Benchmarks are not tests: they measure, print each figure with whether its target is met, and
write their latest results into ``docs/benchmarks.md`` (one section per benchmark module,
replaced on each run, with the machine and the date). Tests never assert on wall-clock time.

The harness (``benchmarks.harness``) never touches real data: it creates a database of its
own, named after DATABASE_URL's with ``_bench`` appended, through Django's test-database
machinery; migrates it; runs the benchmarks; and drops it at the end. Each benchmark module
starts from the freshly migrated database (what one module creates is flushed before the
next runs).

Options::

    python -m benchmarks                 # every benchmark
    python -m benchmarks portfolio api   # only these
    python -m benchmarks --list          # what there is
    python -m benchmarks --scale 0.1     # a quick trial at a tenth of the data; not written
    python -m benchmarks --no-write      # print only, leave docs/benchmarks.md alone
    python -m benchmarks --keepdb        # keep the benchmark database for a look afterwards

Adding a benchmark
------------------
Write a module ``benchmarks/<name>.py`` (a name not starting with an underscore) with::

    TITLE = "Total cost of ownership"          # the section heading in docs/benchmarks.md
    DESCRIPTION = "What is measured, on what data."   # optional, a paragraph

    def run(bench: benchmarks.harness.Bench) -> None:
        ...make data (e.g. portfolio.generate.generate_portfolio), then measure:
        client = bench.client(user)
        bench.timed("Service page", lambda: client.get(url), target_ms=150)
        queries = bench.count_queries(lambda: client.get(url))   # once per data size
        bench.query_counts("Service page", {"100 services": 12, "10,000 services": queries})
        bench.figure("Engine run, 10,000 services", "2.1 s", target="< 5 s", met=True)
        bench.note("Anything a reader of the figures should know.")

It is found by name and imported after Django is set up (it may import models at the top).
``bench.scale`` (1.0 normally) lets ``--scale`` shrink the data for a quick trial. The
``Bench`` methods are documented in ``benchmarks.harness``.
"""
