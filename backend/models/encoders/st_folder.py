"""A sentence-transformers model folder read as sentence-transformers reads it, without loading it.

Two callers ask it different questions. The OpenVINO fast path (backend.models.encoders.openvino_export)
must reproduce the model's own vector, so it takes only Transformer -> mean Pooling -> (Normalize).
The Layers view (backend.models.encoders.hidden_states) reads any Transformer and only asks whether
the model's own sentence vector is the plain mean its last layer gives. Both read the folder here,
so they cannot disagree on what a Pooling config says: ``pooling_mode`` as sentence-transformers
>= 5 saves it, or the ``pooling_mode_*`` flags older versions saved. Imports no model library.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# The older flags, in sentence-transformers' own order (the order it concatenates several modes in).
_LEGACY_MODES = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}
_PACKAGE = "sentence_transformers."


class UnreadableFolder(ValueError):
    """A JSON file of the folder cannot be read or parsed."""


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnreadableFolder(f"cannot read {path.name}: {exc}") from exc


def pooling_modes(config: dict) -> tuple[str, ...]:
    """The modes a Pooling module's config asks for, as sentence-transformers loads it:
    ``pooling_mode`` (a name, or a list of names the model concatenates), else the older
    ``pooling_mode_*`` flags that are true, else ("mean",), its default."""
    if "pooling_mode" in config:
        mode = config["pooling_mode"]
        return (mode,) if isinstance(mode, str) else tuple(mode)
    return tuple(mode for key, mode in _LEGACY_MODES.items() if config.get(key)) or ("mean",)


def _kind(type_name: str) -> str:
    # "sentence_transformers.models.Pooling" (< 5) or "sentence_transformers.<...>.pooling.Pooling" (>= 5):
    # the class name; a module from elsewhere (remote code) keeps its full name, so it matches none of these
    return type_name.rsplit(".", 1)[-1] if type_name.startswith(_PACKAGE) else type_name


@dataclass(frozen=True)
class Module:
    kind: str  # "Transformer", "Pooling", "Dense", "Normalize", ... (see _kind)
    path: Path


@dataclass(frozen=True)
class StFolder:
    """What a folder declares; a plain transformers folder (no modules.json) has no modules and is
    its own transformer folder."""

    root: Path
    modules: tuple[Module, ...]
    transformer_dir: Path | None  # the first Transformer module's folder; None: there is none
    st_config_file: Path | None  # transformer_dir's sentence_bert_config.json, where it exists
    st_config: dict
    pooling_file: Path | None  # the first Pooling module's config.json, where it exists
    pooling: dict | None

    @property
    def kinds(self) -> list[str]:
        return [m.kind for m in self.modules]

    @property
    def max_seq_length(self) -> int | None:
        value = self.st_config.get("max_seq_length")
        return int(value) if value else None

    @property
    def do_lower_case(self) -> bool:
        return bool(self.st_config.get("do_lower_case", False))

    @property
    def pooling_modes(self) -> tuple[str, ...] | None:
        """None where the folder has no Pooling config."""
        return None if self.pooling is None else pooling_modes(self.pooling)


def read_st_folder(model_dir: Path) -> StFolder:
    """The folder's modules, its transformer's folder and sentence_bert_config.json, and its
    Pooling config. Raises UnreadableFolder where a JSON file it names is unreadable."""
    modules_file = model_dir / "modules.json"
    modules: tuple[Module, ...] = ()
    transformer_dir: Path | None = model_dir
    if modules_file.exists():
        modules = tuple(Module(_kind(m.get("type", "")), model_dir / m.get("path", ""))
                        for m in read_json(modules_file))
        transformer_dir = next((m.path for m in modules if m.kind == "Transformer"), None)
    st_config_file = transformer_dir / "sentence_bert_config.json" if transformer_dir is not None else None
    if st_config_file is not None and not st_config_file.exists():
        st_config_file = None
    pooling_file = next((m.path / "config.json" for m in modules if m.kind == "Pooling"), None)
    if pooling_file is not None and not pooling_file.exists():
        pooling_file = None
    return StFolder(model_dir, modules, transformer_dir, st_config_file,
                    read_json(st_config_file) if st_config_file else {}, pooling_file,
                    read_json(pooling_file) if pooling_file else None)
