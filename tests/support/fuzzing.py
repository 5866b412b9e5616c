"""What every fuzz test (tests/fuzz/) shares: the check on each refusal, the tally, nasty text.

A bad input must give an AppError whose message is specific (it names what was wrong, never the
generic "Something went wrong" nor Gradio's internal "Could not preprocess") and matches the
pattern its case names, with the process's own memory (RssAnon) under ``settings.max_rss_mb``.

Each fuzz test declares the endpoints it fuzzes with ``@pytest.mark.fuzzes("/api", ...)`` (on the
function, or on a ``pytest.param``): a refusal from an undeclared endpoint fails, and so does a
declared endpoint that the test never called (tests/fuzz/conftest.py). The declarations, read from
the modules themselves, are what tests/fuzz/test_afterwards.py checks against the served endpoints.
"""
from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import httpx
import pytest
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st

GENERIC = re.compile(r"Something went wrong inside Babelscope|Could not (pre|post)process|^Error$|^None$|"
                     r"Traceback|Exception\b")
SIM = "The dog is sleeping.\nDer Hund schläft."

# Every refusal checked in this test session, per endpoint: the report at the end prints it.
COUNTS: collections.Counter = collections.Counter()


class Declared:
    """The running test's declared endpoints, and the refusals it has checked from each."""

    def __init__(self, apis: frozenset[str]):
        self.apis = apis
        self.calls: collections.Counter = collections.Counter()


_current: Declared | None = None


def begin(apis: frozenset[str]) -> Declared:
    global _current
    _current = Declared(apis)
    return _current


def end() -> None:
    global _current
    _current = None


# Messages that a malformed line of text may get: the first bad line decides which one.
TEXT_ERRORS = (r"control or non-text character|bidirectional override|no visible characters|combining marks|"
               r"The input is empty|at least 2|characters; the limit is")

NASTY_TEXT = [
    ("empty", "", "The input is empty"),
    ("whitespace", "  \n\t \n\u3000 ", "The input is empty"),
    ("1 MB", "x" * 1_000_000, r"1,000,000 characters; the limit is 100,000"),
    ("NUL", "ok\nnul \x00 here", r"U\+0000"),
    ("bell", "ok\nbell \x07", r"U\+0007"),
    ("ANSI escape", "ok\n\x1b[31mred\x1b[0m", r"U\+001B"),
    ("DEL", "ok\ndel\x7f", r"U\+007F"),
    ("private use", "ok\nprivate \ue000 use", r"U\+E000"),
    ("non-character", "ok\nnon-character \uffff", r"U\+FFFF"),
    ("unassigned", "ok\nunassigned \U000e0080", r"U\+E0080"),
    ("RTL override", "ok\ninvoice\u202egnp.exe", r"bidirectional override \(U\+202E\)"),
    ("LTR override", "ok\n\u202dabc", r"U\+202D"),
    ("RTL embedding", "ok\n\u202bشسي\u202c", r"U\+202B"),
    ("ZWJ only", "ok\n\u200d\u200d\u200d", "no visible characters"),
    ("zero-width mix", "ok\n\u200b\u200c\u2060\ufeff", "no visible characters"),
    ("combining flood", "ok\ne" + "\u0301" * 500, "combining marks"),
    ("lone combining run", "ok\n" + "\u0336" * 40, "combining marks"),
    ("10k lines", "line\n" * 10_000, r"10,?000 sentences; the limit is 64"),
    ("long line", "ok\n" + "y" * 5000, r"5,000 characters; the limit is 1,000"),
    ("binary junk", "ok\n" + "".join(map(chr, range(1, 32))), r"U\+0001"),
]
NASTY_IDS = [case[0] for case in NASTY_TEXT]


def rss_mb(field: str = "RssAnon") -> float:
    """This process's resident memory (the app is served in-process), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def check_message(api: str, message: str, fragment: str, registry) -> None:
    if _current is None:
        pytest.fail(f"{api}: a refusal checked outside a test marked @pytest.mark.fuzzes")
    assert api in _current.apis, f"{api} is called but the test declares only {sorted(_current.apis)}"
    assert not re.search(fragment, "~"), f"{api}: /{fragment}/ matches any message: name what the error says"
    assert message.strip(), f"{api}: empty error message"
    assert not GENERIC.search(message), f"{api}: generic or internal error: {message[:300]}"
    assert re.search(fragment, message), f"{api}: expected /{fragment}/, got: {message[:300]}"
    assert rss_mb() < registry.settings.max_rss_mb, f"RSS {rss_mb():.0f} MB over the configured bound"
    _current.calls[api] += 1
    COUNTS[api] += 1


def expect_app_error(client, registry, api: str, args: tuple = (), fragment: str = "", **kwargs) -> None:
    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api, **kwargs)
    check_message(api, str(info.value), fragment, registry)


def raw_error(app_url: str, api: str, data: list) -> str:
    """The error message of a call made over Gradio's REST API with the JSON escaped (ensure_ascii),
    for strings that gradio_client cannot encode (lone surrogates are not valid UTF-8)."""
    base = app_url.rstrip("/")
    post = httpx.post(f"{base}/gradio_api/call/{api.strip('/')}", content=json.dumps({"data": data}),
                      headers={"content-type": "application/json"}, timeout=30)
    post.raise_for_status()
    event_id = post.json()["event_id"]
    event = None
    with httpx.stream("GET", f"{base}/gradio_api/call/{api.strip('/')}/{event_id}", timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("error", "complete"):
                assert event == "error", f"{api} accepted {data!r}"
                payload = json.loads(line[5:])
                return payload["error"] if isinstance(payload, dict) else str(payload)
    raise AssertionError(f"{api}: no error event")


# --- generated: hypothesis ---------------------------------------------------------------------

# Characters that str.splitlines() splits on would end the line rather than sit in it.
_SPLITTERS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_BAD_CHARS = st.one_of(
    st.characters(categories=("Cc", "Co"), exclude_characters=_SPLITTERS + "\t"),
    st.sampled_from(["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\ufffe", "\uffff", "\U0010ffff"]),
)
_LINE = st.text(st.characters(exclude_categories=("Cs",), exclude_characters=_SPLITTERS), max_size=30)


@st.composite
def text_with_a_bad_character(draw, min_lines: int = 1, max_lines: int = 5):
    lines = draw(st.lists(_LINE, min_size=min_lines, max_size=max_lines))
    where = draw(st.integers(0, len(lines) - 1))
    at = draw(st.integers(0, len(lines[where])))
    lines[where] = lines[where][:at] + draw(_BAD_CHARS) + lines[where][at:]
    return "\n".join(lines)


FUZZ = hsettings(max_examples=30, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
