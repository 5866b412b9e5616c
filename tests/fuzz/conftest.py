"""The fuzz tests' frame: each test's declared endpoints held to account, test_afterwards run last,
and the tally of refusals with the memory bound printed at the end (also without ``-s``)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import fuzzing

AFTERWARDS = Path(__file__).with_name("test_afterwards.py")


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzzes(*apis): the endpoints a fuzz test sends bad input to "
                                       "(tests/support/fuzzing.py)")


def pytest_collection_modifyitems(items):
    """The good requests and the coverage check come after every bad input, whatever the file order."""
    items.sort(key=lambda item: Path(item.path) == AFTERWARDS)


@pytest.fixture(autouse=True)
def declared_endpoints(request):
    """A test may refuse only through the endpoints it declares, and must reach each of them."""
    apis = frozenset(api for mark in request.node.iter_markers("fuzzes") for api in mark.args)
    declared = fuzzing.begin(apis)
    yield declared
    fuzzing.end()
    if apis and not getattr(request.node, "_fuzz_failed", False):
        silent = sorted(apis - set(declared.calls))
        assert not silent, f"{request.node.name} declares {silent} but checked no refusal from them"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item._fuzz_failed = True  # its own failure says why; the declared-endpoints check would only repeat it
    return report


@pytest.fixture(scope="session", autouse=True)
def report_counts(request):
    yield
    counts = fuzzing.COUNTS
    lines = [f"fuzz: {sum(counts.values())} bad inputs, each an AppError with a specific message:"]
    lines += [f"  {api:<24} {n:>4}" for api, n in sorted(counts.items())]
    lines.append(f"  the test process (app in-process): anonymous memory {fuzzing.rss_mb():.0f} MB now (the bound), "
                 f"peak RSS {fuzzing.rss_mb('VmHWM'):.0f} MB with mapped files and libraries")
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print("\n" + "\n".join(lines))
