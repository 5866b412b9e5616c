"""Written-language identification, restricted to the app's language list, and language names."""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from typing import Sequence

from backend.config import ModelSpec, Settings
from backend.errors import ModelUnavailable
from backend.loaded_model import LoadedModel


@dataclass(frozen=True)
class LanguageGuess:
    lang: str  # BCP-47 code
    probability: float  # langid's normalised probability; 1.0 when the user gave the language
    source: str  # "detected" or "given"


def _lingua_detector(languages: tuple[str, ...]):
    """Lingua restricted to ``languages``; returns (detector, the codes it knows)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    by_code = {}
    for code in languages:
        iso = getattr(IsoCode639_1, code.upper(), None)
        if iso is not None:
            by_code[code] = Language.from_iso_code_639_1(iso)
    return LanguageDetectorBuilder.from_languages(*by_code.values()).build(), tuple(by_code)


def _guess(detector, text: str) -> tuple[str, float]:
    ranked = detector.compute_language_confidence_values(text)
    if not ranked or ranked[0].value <= 0:  # no letters at all (digits, emoji): nothing to go on
        return "und", 0.0
    best = ranked[0]
    return best.language.iso_code_639_1.name.lower(), float(best.value)


# One sentence per script, detected as soon as the worker starts: Lingua loads a script's language
# models (4-10 s for the 35 Latin-script languages) on its first text in that script.
_WARM_TEXTS = ("The dog is sleeping.",)
_WORKER_TIMEOUT_S = 300.0  # the first text of a script builds its models: seconds idle, minutes on a loaded host


def lingua_spec(languages: tuple[str, ...]) -> ModelSpec:
    """The one built-in language identifier, restricted to ``languages``."""
    return ModelSpec("lingua", "langid", "lingua", "packaged:lingua", "lingua language detector", True,
                     ", ".join(languages), approx_mb=0)


class LanguageIdentifier(LoadedModel):
    """Lingua, restricted to the app's languages, in a worker process of its own.

    Measured on our bundled sets (2,290 sentences, 8-10 languages), restricted to the same list:
    lingua 99.7% correct, langid.py 97.5% (it confuses ru/uk/bg, hi/mr, es/ca on short lines).
    Lingua builds a script's n-gram models on its first text in that script, holding the GIL for
    4-10 s: in the server's process that froze every request. In a worker process the load runs on
    another core, starts as soon as the identifier is created (the app warms it at launch), and the
    server keeps serving. Requests and answers are JSON lines on the worker's stdin/stdout.
    """

    def __init__(self, languages: tuple[str, ...], spec: ModelSpec | None = None):
        import subprocess
        import sys

        from backend.config import REPO_ROOT

        super().__init__(spec or lingua_spec(languages))
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "backend.language_id", "--worker", ",".join(languages)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(REPO_ROOT),
            env=env, text=True, encoding="utf-8", bufsize=1)
        hello = self._read()  # the worker names its languages before it warms up
        self.languages = tuple(hello["languages"])

    def _read(self) -> dict:
        import selectors

        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            if not sel.select(_WORKER_TIMEOUT_S):
                self.close()
                raise ModelUnavailable("The language identifier did not answer in time; try again.")
        line = self._proc.stdout.readline()
        if not line:
            raise ModelUnavailable("The language identifier's worker process stopped; try again.")
        return json.loads(line)

    def identify_many(self, texts: Sequence[str]) -> list[LanguageGuess]:
        """One guess per text, in one round trip to the worker."""
        if not texts:
            return []
        with self._lock:
            if self._proc.poll() is not None:
                raise ModelUnavailable("The language identifier's worker process stopped; try again.")
            self._proc.stdin.write(json.dumps({"texts": list(texts)}, ensure_ascii=False) + "\n")
            self._proc.stdin.flush()
            answer = self._read()
        return [LanguageGuess(lang=lang, probability=prob, source="detected") for lang, prob in answer["guesses"]]

    def identify(self, text: str) -> LanguageGuess:
        return self.identify_many([text])[0]

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to report to
            pass


def _serve(languages: tuple[str, ...]) -> None:
    """The worker's loop: JSON lines in, JSON lines out; ends when its stdin closes."""
    import sys

    detector, known = _lingua_detector(languages)
    out = sys.stdout
    out.write(json.dumps({"languages": known}) + "\n")
    out.flush()
    for text in _WARM_TEXTS:
        _guess(detector, text)
    for line in sys.stdin:
        texts = json.loads(line)["texts"]
        out.write(json.dumps({"guesses": [_guess(detector, t) for t in texts]}) + "\n")
        out.flush()


def load_language_identifier(spec, settings: Settings) -> LanguageIdentifier:
    """The registry's loader for the ``langid`` capability."""
    return LanguageIdentifier(settings.languages, spec)


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
    _serve(tuple(parser.parse_args().worker.split(",")))
