from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """The benchmark commands (`bench_rollups`, `bench_api`, `bench_pages`): they print numbers
    and are not tests; see docs/performance.md."""

    name = "benchmarks"
