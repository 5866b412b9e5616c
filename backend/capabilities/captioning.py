"""The Image tab's captioning job: caption a picture and feed the caption to the cross-lingual text
features (nearest corpus sentences, similarity with the user's sentences).

The captioner and its loader are in backend.models.captioning.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from backend.capabilities.retrieval import Hit, hits_to_dicts, nearest_sentences
from backend.capabilities.similarity import SimilarityResult, compare_with_typed
from backend.core.errors import InvalidInput
from backend.data.images import decode_image
from backend.models.language_id import LanguageGuess


@dataclass(frozen=True)
class CaptionAnalysis:
    caption: str
    model_id: str
    caption_language: LanguageGuess
    hits: tuple[Hit, ...]  # nearest corpus sentences to the caption
    similarity: SimilarityResult | None  # caption (index 0) against the sentences the user typed

    def to_dict(self) -> dict:
        """The ``caption`` API contract (documented in README: keep keys stable)."""
        sim = self.similarity
        return {
            "caption": self.caption,
            "model": self.model_id,
            "caption_language": self.caption_language.lang,
            "hits": hits_to_dicts(self.hits),
            "similarity": None if sim is None else [
                {"sentence": sim.sentences[p.j], "lang": sim.languages[p.j], "cosine": round(p.cosine, 7),
                 "rank": p.rank_i_to_j} for p in sim.pairs if p.i == 0
            ],
        }


def caption_image(registry, image, progress=None, caption_model: str | None = None) -> tuple[str, str]:
    """(model id, caption) for an RGB PIL image. Raises ModelUnavailable when no captioning model is
    configured (always, offline, unless BABELSCOPE_CAPTION_MODEL is set)."""
    captioner = registry.get("captioning", caption_model, progress)
    caption = captioner.caption(image)
    if not caption:
        raise InvalidInput(f"The model {captioner.model_id!r} produced an empty caption for this image.")
    return captioner.model_id, caption


def analyse_image(registry, path: str | os.PathLike | None, compare_text: str | None = None,
                  search_languages: Sequence[str] | None = None, k: int = 5, caption_model: str | None = None,
                  embedding_model: str | None = None, progress=None) -> CaptionAnalysis:
    """Caption the image at ``path``, find the caption's nearest corpus sentences in other
    languages, and compare it with the sentences in ``compare_text`` (one per line, optional)."""
    from backend.data.sentences import parse_sentences

    image = decode_image(path, registry.settings)
    typed = []
    if compare_text and compare_text.strip():
        typed = parse_sentences(compare_text, registry.settings, registry.get("langid"))
    captioner_id, caption = caption_image(registry, image, progress, caption_model)
    guess = registry.get("langid").identify(caption)
    hits = nearest_sentences(registry, caption, search_languages, k, embedding_model,
                             exclude_language=guess.lang, progress=progress)
    similarity = compare_with_typed(registry, caption, guess.lang, typed, embedding_model, progress)
    return CaptionAnalysis(caption, captioner_id, guess, hits, similarity)
