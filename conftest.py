"""pytest configuration shared by the helpers' tests and nbval over notebooks/."""


def pytest_collectstart(collector):  # noqa: ANN001, ANN201 - pytest hook
    # nbval compares every output except what is listed here. stderr carries live progress only
    # (build logs, debootstrap phases, timings); every result a cell proves is printed to stdout.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
