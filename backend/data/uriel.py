"""URIEL typology (Littell et al. 2017) as the URIEL+ package ships it (``urielplus``, Khan et al. 2025):
genetic, syntactic, phonological, inventory, geographic and featural distances between languages.

The package's files are read here directly, read-only, and the package is never imported: at first
use ``URIELPlus()`` copies its four ``original_uriel/*.npz`` files into its own install folder (which
fails on a read-only site-packages: Docker as non-root, Spaces), and importing it calls
``logging.basicConfig(level=INFO)`` on the host's root logger. The arrays hold no Python objects, so
they load with ``allow_pickle=False``.

The distance is URIEL+'s own (``URIELPlusQuerying.new_distance`` with its defaults: union
aggregation, angular metric), checked against the package in tests/backend/test_languages.py: for
each pair, the features both languages have a value for; each feature's value the largest known
value over its sources (the mean for geography); then 2·arccos(cos θ)/π, 0 = same direction.
Unlike the package, the distance is not rounded to 4 decimals, and a pair where one side's vector is
all zeros (a language URIEL puts in no family, such as Basque) has no distance (None) instead of
the package's distance to a uniform 1e-10 vector.
"""
from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from backend.core.errors import ModelUnavailable

TYPOLOGIES = ("genetic", "syntactic", "phonological", "inventory", "geographic", "featural")
# Which file and which features each distance reads (URIEL+'s map_new_distance_to_loaded_features).
_FILE_OF = {"genetic": "family_features.npz", "geographic": "geocoord_features.npz"}
_PREFIX_OF = {"syntactic": ("S_",), "phonological": ("P_",), "inventory": ("INV_",), "featural": ("",)}


@dataclass(frozen=True)
class Typology:
    """One distance's per-language vectors: values (L, f) with 0 where unknown (float32, or a scipy
    sparse matrix for the 0/1 family features), and known (L, f) bool, or None where all are known."""

    values: object
    known: np.ndarray | None

    def rows(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, known) of rows ``idx`` as dense float64 arrays."""
        values = self.values[idx]
        values = np.asarray(values.toarray() if hasattr(values, "toarray") else values, dtype=np.float64)
        known = np.ones_like(values) if self.known is None else self.known[idx].astype(np.float64)
        return values, known


class Uriel:
    """The URIEL vectors of every language (7,970, by ISO 639-3 code), aggregated over sources once."""

    def __init__(self, directory: Path):
        from scipy import sparse

        self.directory = directory
        self.typologies: dict[str, Typology] = {}
        codes = None
        for name in ("family_features.npz", "features.npz", "geocoord_features.npz"):
            with np.load(directory / name, allow_pickle=False) as archive:
                data, feats = archive["data"], archive["feats"]
                langs = np.asarray(archive["langs"]).astype(str)
            order = np.argsort(langs)  # the files list languages in different orders
            if codes is None:
                codes = langs[order]
            elif not np.array_equal(codes, langs[order]):
                raise ModelUnavailable(f"{name} lists other languages than family_features.npz: reinstall urielplus.")
            data = data[order]
            known_source = (data != -1.0) & np.isfinite(data)
            has_value = known_source.any(axis=2)
            if name == "family_features.npz":
                member = data[:, :, 0] == 1.0
                if not known_source.all():
                    raise ModelUnavailable("URIEL's family features have unknown cells; this loader expects 0/1.")
                self.typologies["genetic"] = Typology(sparse.csr_matrix(member, dtype=np.float64), None)
                self._family_of_row = _top_families(member, feats)
            elif name == "features.npz":
                # union: the largest known value over the sources (URIEL+'s default aggregation)
                values = np.where(known_source, data, -np.inf).max(axis=2)
                values = np.where(has_value, values, 0.0).astype(np.float32)
                for kind, prefixes in _PREFIX_OF.items():
                    cols = np.array([str(f).startswith(prefixes) for f in feats])
                    self.typologies[kind] = Typology(values[:, cols], has_value[:, cols])
            else:  # geography: one source; URIEL+ takes the mean of known values, i.e. the value
                values = np.where(has_value, data[:, :, 0], 0.0).astype(np.float32)
                self.typologies["geographic"] = Typology(values, has_value)
        self.codes = [str(c) for c in codes]
        self._row = {code: i for i, code in enumerate(self.codes)}
        self._usable_rows = {kind: self._usable_mask(t) for kind, t in self.typologies.items()}

    @staticmethod
    def _usable_mask(t: Typology) -> np.ndarray:
        if t.known is None:  # family features: a language in no family has no genetic data
            return np.asarray(t.values.sum(axis=1)).ravel() > 0
        return t.known.any(axis=1)

    def has(self, code: str, typology: str | None = None) -> bool:
        """Whether URIEL has any value for ``code`` (in ``typology``; any of the six if None)."""
        row = self._row.get(code)
        if row is None:
            return False
        kinds = (typology,) if typology else TYPOLOGIES
        return any(self._usable(kind, row) for kind in kinds)

    def _usable(self, kind: str, row: int) -> bool:
        return bool(self._usable_rows[kind][row])

    def family(self, code: str) -> str | None:
        """The language's top family in URIEL's family features (``"Indo-European"``), None if none."""
        row = self._row.get(code)
        return None if row is None else self._family_of_row[row]

    def distances(self, typology: str, codes: Sequence[str]) -> np.ndarray:
        """float64 (k, k) URIEL+ angular distances in [0, 1], NaN where undefined (a language without
        data, no shared feature, or an all-zero vector on the shared features); 0 on the diagonal of
        a language with data."""
        t = self.typologies[typology]
        rows = [self._row.get(c) for c in codes]
        k = len(codes)
        out = np.full((k, k), np.nan)
        present = [i for i, r in enumerate(rows) if r is not None and self._usable(typology, r)]
        if not present:
            return out
        v, m = t.rows(np.array([rows[i] for i in present]))
        dot = v @ v.T  # unknown values are 0, so this sums over the shared features only
        sq = (v * v) @ m.T  # sq[a, b]: |a|² over the features b knows too
        shared = m @ m.T
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = dot / np.sqrt(sq * sq.T)
        dist = 2.0 * np.arccos(np.clip(cos, -1.0, 1.0)) / np.pi
        dist[(shared == 0) | (sq == 0) | (sq.T == 0)] = np.nan
        np.fill_diagonal(dist, 0.0)
        out[np.ix_(present, present)] = dist
        return out


def _top_families(member: np.ndarray, feats) -> list[str | None]:
    """Each language's top family: of its family features, the one with the most member languages
    (a lineage's root; the file lists a root before its branches, and argmax keeps the first of ties)."""
    size = member.sum(axis=0).astype(np.int32)
    best = np.where(member, size[None, :], -1).argmax(axis=1)
    names = [str(f).removeprefix("F_") for f in feats]
    return [names[b] if member[i, b] else None for i, b in enumerate(best)]


def urielplus_directory() -> Path:
    """The ``original_uriel`` folder of the installed urielplus package, found without importing it."""
    spec = importlib.util.find_spec("urielplus")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("URIEL needs the urielplus package: pip install urielplus==1.3.2.")
    directory = Path(list(spec.submodule_search_locations)[0]) / "database" / "original_uriel"
    if not (directory / "features.npz").is_file():
        raise ModelUnavailable(f"urielplus is installed but {directory} has no features.npz; reinstall it.")
    return directory


_lock = threading.Lock()
_loaded: Uriel | None = None


def load_uriel() -> Uriel:
    """The URIEL vectors, read once per process (3 s here under load; peak RSS 360 MB while reading,
    34 MB kept)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = Uriel(urielplus_directory())
        return _loaded
