"""Written-language identification, restricted to the app's language list, and language names."""
from __future__ import annotations

import functools
import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Sequence

from backend.core.catalogue import PREVIOUS_APP_LANGUAGES, ModelSpec
from backend.core.errors import ModelUnavailable
from backend.core.settings import Settings
from backend.models.loaded_model import LoadedModel

# Lingua's high-accuracy mode; the quick first pass (its low-accuracy trigram ranking, the top
# candidates re-ranked in high-accuracy mode: QuickDetector)
FULL, FAST = "lingua", "lingua-fast"
TOP_CANDIDATES = 4  # the quick pass re-ranks this many of the trigram ranking's best languages
_SMALL_DETECTORS_MAX = 4096  # cached candidate-set detectors (each a few hundred bytes: the models are shared)


@dataclass(frozen=True)
class LanguageGuess:
    lang: str  # BCP-47 code
    probability: float  # the detector's confidence; 1.0 when the user gave the language
    source: str  # "detected" or "given"
    detector: str = FULL  # which of Lingua's modes made the guess: FULL or FAST
    # below its mode's calibrated threshold (settings.langid_threshold_full / _quick), or "und": the
    # app shows the label as "xx?" and leaves it out of per-language counts
    uncertain: bool = False


def _lingua_detector(languages: tuple[str, ...], low_accuracy: bool = False):
    """Lingua restricted to ``languages``; returns (detector, the codes it knows)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    by_code = {}
    for code in languages:
        iso = getattr(IsoCode639_1, code.upper(), None)
        if iso is not None:
            by_code[code] = Language.from_iso_code_639_1(iso)
    builder = LanguageDetectorBuilder.from_languages(*by_code.values())
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build(), tuple(by_code)


class QuickDetector:
    """The quick first pass: Lingua's low-accuracy ranking (trigram models only, loaded for every
    language in under a second), whose top ``top`` languages (by confidence times the prior
    ``weights``) are re-ranked by a high-accuracy detector built from just those languages. Lingua
    loads its n-gram models lazily per language and shares them between detectors, so a candidate set
    costs its languages' models once (about half a second for four Latin-script ones, against 10-15 s
    for the full model's 69); the small detectors are cached by candidate set. On the held-out short
    lines it labels 0.845 right against the trigram ranking's 0.755, and leaves 75% of the lines
    unflagged against 57% (docs/langid_calibration.md)."""

    def __init__(self, languages: tuple[str, ...], top: int = TOP_CANDIDATES, weights: dict[str, float] | None = None):
        self.trigrams, self.languages = _lingua_detector(languages, low_accuracy=True)
        self._top = top
        self._weights = weights or {}  # the prior (added_language_weights) also picks the candidates
        self._small: dict[tuple[str, ...], object] = {}

    def compute_language_confidence_values(self, text: str) -> list:
        from lingua import LanguageDetectorBuilder

        ranked = [c for c in self.trigrams.compute_language_confidence_values(text) if c.value > 0]
        ranked.sort(key=lambda c: -c.value * self._weights.get(c.language.iso_code_639_1.name.lower(), 1.0))
        candidates = [c.language for c in ranked[:self._top]]
        if len(candidates) < 2:  # one script's only language, or no letters: nothing to re-rank
            return self.trigrams.compute_language_confidence_values(text)
        key = tuple(sorted(language.iso_code_639_1.name for language in candidates))
        detector = self._small.get(key)
        if detector is None:
            if len(self._small) >= _SMALL_DETECTORS_MAX:
                self._small.clear()
            detector = self._small[key] = LanguageDetectorBuilder.from_languages(*candidates).build()
        return detector.compute_language_confidence_values(text)


def _ranking(detector, text: str) -> list[tuple[str, float]]:
    """Every candidate language with Lingua's confidence, best first."""
    return [(c.language.iso_code_639_1.name.lower(), float(c.value))
            for c in detector.compute_language_confidence_values(text)]


def pick(ranking: list[tuple[str, float]], weights: dict[str, float] | None = None
         ) -> tuple[str, float, float, bool]:
    """(code, Lingua's confidence, the strongest other language's confidence, whether the prior
    changed the label). ``weights``: a prior per code (1.0 when absent) that multiplies the confidence
    for ranking only; the confidence reported stays Lingua's."""
    if not ranking or ranking[0][1] <= 0:  # no letters at all (digits, emoji): nothing to go on
        return "und", 0.0, 0.0, False
    weights = weights or {}
    best = max(range(len(ranking)), key=lambda i: ranking[i][1] * weights.get(ranking[i][0], 1.0))
    runner_up = max((value for i, (_, value) in enumerate(ranking) if i != best), default=0.0)
    return ranking[best][0], ranking[best][1], runner_up, best != 0


def added_language_weights(languages: Sequence[str], weight: float) -> dict[str, float]:
    """The prior for the languages added to the previous 53-language list (cy, ga, is, la, yo, zu, ...):
    their confidence is multiplied by ``weight`` when ranking. Without it, widening the list made short
    lines in some old languages (kk, nb, pt on the calibration set) less often right than before."""
    return {code: weight for code in languages if code not in PREVIOUS_APP_LANGUAGES and weight != 1.0}


def _guess(detector, text: str, weights: dict[str, float] | None = None) -> tuple[str, float, float, bool]:
    """``pick`` over the detector's ranking of ``text``."""
    return pick(_ranking(detector, text), weights)


def is_sure(probability: float, runner_up: float, threshold: float, ratio: float) -> bool:
    """A label is sure when Lingua's confidence reaches ``threshold``, or is ``ratio`` times the
    runner-up's. The second arm keeps English, whose confidence Lingua spreads over the Latin-script
    languages (0.3-0.5 on whole sentences), when no other language comes close
    (scripts/calibrate_langid.py fits both numbers)."""
    return probability >= threshold or probability >= ratio * runner_up


# One sentence per script the app's languages use, detected as soon as a worker starts: Lingua loads
# a script's language models on its first text in that script (10 s for the Latin ones, 3-4 s for all
# the others together, on one core), so no later request waits on a load.
_WARM_TEXTS = ("The dog is sleeping.", "Собака спит.", "Ο σκύλος κοιμάται.", "الكلب نائم.", "הכלב ישן.",
               "कुत्ता सो रहा है।", "কুকুরটি ঘুমাচ্ছে।", "நாய் தூங்குகிறது.", "కుక్క నిద్రపోతోంది.",
               "狗在睡觉。", "犬が寝ています。", "개가 자고 있다.", "สุนัขกำลังนอนหลับ", "Շունը քնած է։",
               "ძაღლს სძინავს.", "કૂતરો સૂઈ રહ્યો છે.", "ਕੁੱਤਾ ਸੌਂ ਰਿਹਾ ਹੈ।")
_WORKER_TIMEOUT_S = 300.0  # a worker's first answer waits on its warm-up: seconds idle, minutes on a loaded host


def lingua_spec(languages: tuple[str, ...]) -> ModelSpec:
    """The one built-in language identifier, restricted to ``languages``."""
    return ModelSpec("lingua", "langid", "lingua", "packaged:lingua", "lingua language detector", True,
                     ", ".join(languages), approx_mb=0)


class _Worker:
    """One Lingua process: JSON lines on its stdin and stdout. It names its languages at once, warms
    every script, says ``{"ready": true}``, then answers ``{"texts": [...]}`` with ``{"guesses": ...}``."""

    def __init__(self, languages: tuple[str, ...], low_accuracy: bool, added_weight: float = 1.0):
        import subprocess
        import sys

        from backend.core.settings import REPO_ROOT

        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend.models.language_id", "--worker", ",".join(languages),
             "--added-weight", repr(float(added_weight))] + (["--low-accuracy"] if low_accuracy else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(REPO_ROOT),
            env=env, bufsize=0)
        self.ready = False
        self.lock = threading.Lock()  # one request at a time on the pipe
        self._buffer = b""  # bytes read from stdout, not yet a whole line
        hello = self._message(_WORKER_TIMEOUT_S)  # the languages come before the warm-up
        if hello is None:
            self.close()
            raise ModelUnavailable("The language identifier did not start in time; try again.")
        self.languages = tuple(hello["languages"])

    def _message(self, timeout: float | None) -> dict | None:
        """The next line from the worker as JSON; None when none came within ``timeout`` seconds. Reads
        the pipe unbuffered, so a line already read is never hidden from the next select."""
        import selectors

        while b"\n" not in self._buffer:
            with selectors.DefaultSelector() as sel:
                sel.register(self.proc.stdout, selectors.EVENT_READ)
                if not sel.select(timeout):
                    return None
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                raise ModelUnavailable("The language identifier's worker process stopped; try again.")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        message = json.loads(line)
        if message.get("ready"):
            self.ready = True
        return message

    def wait_ready(self, timeout: float, block: bool = True) -> bool:
        """True once the worker has warmed every script, reading its messages for up to ``timeout``
        seconds. ``block=False``: return at once while a request holds the pipe (that request reads
        the ready line itself)."""
        if self.ready or not self.lock.acquire(blocking=block):
            return self.ready
        try:
            deadline = time.monotonic() + timeout
            while not self.ready and self.alive:
                if self._message(max(0.0, deadline - time.monotonic())) is None:
                    break
        finally:
            self.lock.release()
        return self.ready

    def identify(self, texts: list[str]) -> list[list]:
        if not self.alive:
            raise ModelUnavailable("The language identifier's worker process stopped; try again.")
        request = memoryview((json.dumps({"texts": texts}, ensure_ascii=False) + "\n").encode("utf-8"))
        while request:  # an unbuffered pipe may take a long request in parts
            request = request[self.proc.stdin.write(request):]
        while True:
            message = self._message(_WORKER_TIMEOUT_S)
            if message is None:
                self.close()
                raise ModelUnavailable("The language identifier did not answer in time; try again.")
            if "guesses" in message:
                return message["guesses"]

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class LanguageIdentifier(LoadedModel):
    """Lingua, restricted to the app's languages, in worker processes of its own.

    Measured on our bundled sets (2,290 sentences, 8-10 languages), restricted to the same list:
    lingua 99.7% correct, langid.py 97.5% (it confuses ru/uk/bg, hi/mr, es/ca on short lines).
    Lingua builds a script's n-gram models on its first text in that script, holding the GIL for
    4-10 s: in the server's process that froze every request. In a worker process the load runs on
    another core, starts as soon as the identifier is created (the app starts it first thing at
    launch), and the server keeps serving.

    ``fast_start``: a second worker runs the quick pass (``QuickDetector``: Lingua's trigram ranking,
    its top candidates re-ranked in high-accuracy mode; the trigram models of every language load in
    under a second). It answers until the full worker has warmed every script, and each guess names
    the mode that made it (``LanguageGuess.detector``), so the app can say so. Then it is closed.

    ``added_weights``: per mode, the prior for the languages added to the previous 53-language list
    (``added_language_weights``); a label the prior changed is uncertain.
    """

    def __init__(self, languages: tuple[str, ...], spec: ModelSpec | None = None, fast_start: bool = False,
                 thresholds: dict[str, tuple[float, float]] | None = None,
                 added_weights: dict[str, float] | None = None):
        super().__init__(spec or lingua_spec(languages))
        # {FULL: (threshold, ratio), FAST: (...)}: a guess that is not ``is_sure`` is uncertain
        self.thresholds = dict(thresholds or {FULL: (0.0, 0.0), FAST: (0.0, 0.0)})
        weights = added_weights or {}
        self._full = _Worker(languages, low_accuracy=False, added_weight=weights.get(FULL, 1.0))
        self._fast = (_Worker(languages, low_accuracy=True, added_weight=weights.get(FAST, 1.0))
                      if fast_start else None)
        self.languages = self._full.languages

    @property
    def _proc(self):  # the full worker's process (tests check it is not this one)
        return self._full.proc

    def identify_many(self, texts: Sequence[str], quick_ok: bool = False) -> list[LanguageGuess]:
        """One guess per text, in one round trip to a worker. ``quick_ok``: while the full model is
        still warming, the low-accuracy worker may answer (the caller shows ``detector``); otherwise
        the call waits for the full model."""
        if not texts:
            return []
        with self._lock:
            if self._fast is not None and (self._full.wait_ready(0, block=False) or not self._fast.alive):
                with self._fast.lock:  # a quick request in flight finishes first
                    self._fast.close()
                self._fast = None
            worker = self._fast if quick_ok and self._fast is not None else self._full
        with worker.lock:
            guesses = worker.identify(list(texts))
        detector = FULL if worker is self._full else FAST
        return [LanguageGuess(lang, prob, "detected", detector,
                              self.is_uncertain(lang, prob, second, detector, changed))
                for lang, prob, second, changed in guesses]

    def is_uncertain(self, lang: str, probability: float, runner_up: float, detector: str = FULL,
                     prior_changed: bool = False) -> bool:
        """Whether a detected label falls short of its mode's calibrated rule, is no language at all, or
        is not Lingua's own first choice (the added languages' prior changed it)."""
        return (lang == "und" or prior_changed
                or not is_sure(probability, runner_up, *self.thresholds.get(detector, (0.0, 0.0))))

    def identify(self, text: str, quick_ok: bool = False) -> LanguageGuess:
        return self.identify_many([text], quick_ok)[0]

    def wait_until_ready(self, timeout: float = _WORKER_TIMEOUT_S) -> bool:
        """Block until the full model has warmed every script (tests; scripts that want its answers)."""
        return self._full.wait_ready(timeout)

    @property
    def alive(self) -> bool:
        return self._full.alive

    def close(self) -> None:
        for worker in (self._full, self._fast):
            if worker is not None:
                worker.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to report to
            pass


def _serve(languages: tuple[str, ...], low_accuracy: bool, added_weight: float = 1.0) -> None:
    """The worker's loop: JSON lines in, JSON lines out; ends when its stdin closes."""
    import sys

    weights = added_language_weights(languages, added_weight)
    if low_accuracy:
        detector = QuickDetector(languages, weights=weights)
        known = detector.languages
    else:
        detector, known = _lingua_detector(languages)
    out = sys.stdout

    def send(message: dict) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    send({"languages": known})
    for text in _WARM_TEXTS:  # the quick pass warms its trigram models only: a request loads its candidates'
        _ranking(detector.trigrams if low_accuracy else detector, text)
    send({"ready": True})
    for line in sys.stdin:
        send({"guesses": [_guess(detector, t, weights) for t in json.loads(line)["texts"]]})


def load_language_identifier(spec, settings: Settings) -> LanguageIdentifier:
    """The registry's loader for the ``langid`` capability."""
    return LanguageIdentifier(settings.languages, spec, fast_start=settings.langid_fast_start,
                              thresholds={FULL: (settings.langid_threshold_full, settings.langid_ratio_full),
                                          FAST: (settings.langid_threshold_quick, settings.langid_ratio_quick)},
                              added_weights={FULL: settings.langid_added_weight_full,
                                             FAST: settings.langid_added_weight_quick})


# Codes that name the same language in different schemes: Whisper (and older ISO 639 usage) on the
# left, the app's CLDR/Lingua code on the right. Whisper says "no" for Norwegian where Lingua says
# "nb" (Bokmål, the written standard of nearly all Norwegian text).
LANGUAGE_ALIASES = {"no": "nb", "iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "fil": "tl"}


def canonical_language(code: str) -> str:
    """One scheme for comparing language codes: lower case, the base subtag, aliases resolved
    ("no" -> "nb", "iw" -> "he", "zh-Hant" -> "zh"). "und" stays "und"."""
    base = (code or "und").strip().lower().replace("_", "-").split("-")[0] or "und"
    return LANGUAGE_ALIASES.get(base, base)


@functools.cache
def language_name(code: str, display_locale: str = "en") -> str:
    """English name of a BCP-47 code from CLDR (babel); the code itself when CLDR has none."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code, sep="-").get_display_name(display_locale) or code
    except (ValueError, UnknownLocaleError):
        return code


@functools.cache
def is_language_code(code: str) -> bool:
    """True when CLDR knows ``code`` as a language (so "fr" is, "ok" is not)."""
    from babel import Locale

    return code.split("-")[0] in Locale("en").languages


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Babelscope's language-ID worker (JSON lines on stdin/stdout).")
    parser.add_argument("--worker", required=True, help="comma-separated language codes")
    parser.add_argument("--low-accuracy", action="store_true",
                        help="the quick pass (Lingua's trigram ranking, its top candidates re-ranked)")
    parser.add_argument("--added-weight", type=float, default=1.0,
                        help="prior for the languages added to the previous 53-language list")
    args = parser.parse_args()
    _serve(tuple(args.worker.split(",")), args.low_accuracy, args.added_weight)
