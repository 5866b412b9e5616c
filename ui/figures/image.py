"""Image tab: the picture with its text boxes, the reading's summary, and the feature tables."""
from __future__ import annotations

import pandas as pd

from backend.capabilities.similarity import SimilarityResult
from backend.core.catalogue import CAPTION_GUIDANCE, OCR_MIN_CONFIDENCE
from backend.models.ocr import LOW_CONFIDENCE, SCRIPT_PROBLEM, SUPPORTED_SCRIPTS, UNSUPPORTED_SCRIPTS
from ui.escaping import escape_markdown, isolated_markdown
from ui.figures.nearest import NEAREST_COLUMNS, nearest_table
from ui.figures.text import language_label, language_tag, shorten

MAX_DISPLAY_SIDE = 1600  # the picture sent back to the browser; boxes are scaled with it
SCRIPT_LIMIT = (f"The OCR model reads {SUPPORTED_SCRIPTS}. It cannot read {UNSUPPORTED_SCRIPTS}: "
                "those come out as nothing, or as look-alike letters that are withheld here.")


def annotated_picture(reading):
    """(image, [((x0, y0, x1, y1), label), ...]) for gr.AnnotatedImage. Labels are plain text (the
    component shows them as text, never as HTML), numbered so that repeated text keeps its own box."""
    image = reading.picture.image
    scale = min(1.0, MAX_DISPLAY_SIDE / max(image.size))
    if scale < 1.0:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    boxes = []
    for i, line in enumerate(reading.lines, 1):
        x0, y0, x1, y1 = (round(v * scale) for v in line.bbox)
        label = shorten(line.text, 40) if line.text else f"not read: {line.problem}"
        boxes.append(((x0, y0, x1, y1), f"{i}. {label}"))
    return image, boxes


def reading_markdown(reading) -> str:
    """What was found, in words: the language and sentiment, withheld lines and why, notes, caption."""
    parts = []
    if reading.status == "text":
        f = reading.features
        n = sum(1 for line in reading.lines if line.text)
        g = f.language
        parts.append(f"**Text in the picture**: {n} line{'s' * (n != 1)}, "
                     f"{language_tag(g.lang, g.probability, g.uncertain)} "
                     f"({escape_markdown(language_label(g.lang).partition(' ')[2].strip('()') or g.lang)}), "
                     f"read in {reading.ocr_seconds:.1f} s · "
                     f"**Sentiment**: {f.sentiment.label} ({max(f.sentiment.probabilities):.2f}).")
        if len(reading.segments) > 1:
            parts.append(segments_markdown(reading))
    elif reading.status == "no_text":
        parts.append(f"**No text found in this picture.** {SCRIPT_LIMIT}")
    if reading.withheld(SCRIPT_PROBLEM):
        n = reading.withheld(SCRIPT_PROBLEM)
        parts.append(f"⚠️ **Script not supported**: {n} line{'s' * (n != 1)} did not read as text in any "
                     f"language (most likely a script the model cannot read), so {'they are' if n > 1 else 'it is'} "
                     f"not shown as text. {SCRIPT_LIMIT}")
    if reading.withheld(LOW_CONFIDENCE):
        n = reading.withheld(LOW_CONFIDENCE)
        parts.append(f"⚠️ **Too unclear to read**: {n} line{'s' * (n != 1)} had a confidence below "
                     f"{OCR_MIN_CONFIDENCE:.2f} and {'are' if n > 1 else 'is'} not shown as text. {SCRIPT_LIMIT}")
    parts.extend(escape_markdown(note) for note in reading.picture.notes)
    if reading.text_truncated:
        parts.append("The text is long: the features use its first part only.")
    if reading.caption is not None:
        c = reading.caption
        parts.append(f"**Caption** ({escape_markdown(language_label(c.features.language.lang))}, by "
                     f"{escape_markdown(c.model_id)}): “{isolated_markdown(c.features.text)}”")
    elif reading.caption_note and reading.caption_note != CAPTION_GUIDANCE:
        parts.append(f"ℹ️ No caption: {escape_markdown(reading.caption_note)}")
    return "\n\n".join(parts)


def segments_markdown(reading) -> str:
    """One line per segment (its lines, language with confidence, sentiment), and whether the picture
    is its own parallel text."""
    rows = []
    for k, segment in enumerate(reading.segments, 1):
        g, f = segment.features.language, segment.features
        numbers = ", ".join(str(i + 1) for i in segment.lines)
        rows.append(f"{k}. {language_tag(g.lang, g.probability, g.uncertain)} (line{'s' * (len(segment.lines) > 1)} "
                    f"{numbers}): “<bdi>{escape_markdown(shorten(f.text, 70))}</bdi>” · {f.sentiment.label}")
    mutual = ", ".join(f"{i + 1} ↔ {j + 1}" for i, j in reading.mutual_segments)
    verdict = ("**The picture is its own parallel text**: every segment is nearer another segment than any "
               "corpus sentence (a sign saying one thing in several languages)." if reading.parallel else
               "The segments are not all nearer each other than the corpus: they say different things.")
    return (f"**{len(reading.segments)} segments** (consecutive lines in one language), each searched on its own:"
            + "\n\n" + "\n".join(rows) + "\n\n" + verdict + (f" Mutual nearest segments: {mutual}." if mutual else ""))


def _sources(reading):
    if len(reading.segments) > 1:
        for k, segment in enumerate(reading.segments, 1):
            yield f"segment {k} ({segment.features.language.lang})", segment.features
    elif reading.features is not None:
        yield "text in the picture", reading.features
    if reading.caption is not None:
        yield "caption", reading.caption.features


NEAREST_BY_SOURCE_COLUMNS = ["from", *NEAREST_COLUMNS]


def nearest_by_source(reading) -> pd.DataFrame:
    """Nearest corpus sentences to the picture's text and to the caption, one table."""
    frames = [nearest_table(f.nearest).assign(**{"from": source}) for source, f in _sources(reading)]
    if not frames:
        return pd.DataFrame([], columns=NEAREST_BY_SOURCE_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    return table[["from", *[c for c in table.columns if c != "from"]]]


SIMILARITY_COLUMNS = ["from", "sentence", "lang", "cosine", "rank among its neighbours"]


def similarity_by_source(reading) -> pd.DataFrame:
    """Each typed sentence against the picture's text (and the caption), most similar first."""
    rows = []
    for source, f in _sources(reading):
        for d in f.similarity_dicts() or []:
            rows.append([source, d["sentence"], d["lang"], round(d["cosine"], 4), d["rank"]])
    return pd.DataFrame(rows, columns=SIMILARITY_COLUMNS)


def caption_similarity_table(result: SimilarityResult | None) -> pd.DataFrame:
    """The caption (sentence 0) against each sentence the user typed, most similar first (/caption)."""
    columns = ["sentence", "lang", "cosine to caption", "rank among caption's neighbours"]
    if result is None:
        return pd.DataFrame([], columns=columns)
    pairs = sorted((p for p in result.pairs if p.i == 0), key=lambda p: -p.cosine)
    return pd.DataFrame([[result.sentences[p.j], result.languages[p.j], round(p.cosine, 4), p.rank_i_to_j]
                         for p in pairs], columns=columns)


def caption_markdown(analysis) -> str:
    g = analysis.caption_language
    return (f"**Caption** ({escape_markdown(language_label(g.lang))}, by {escape_markdown(analysis.model_id)}): "
            f"“{isolated_markdown(analysis.caption)}”")
