"""One colour per language, the same in every map and tab, safe for colour-blind viewers.

The 256 colours (assets/language_palette.txt, built by scripts/build_palette.py) stay apart under
deuteranopia and protanopia as well as normal vision: the first ``DISTINCT`` (11) by at least 15
CIEDE2000 for all three viewers, the first 30 by at least 7.5. More than ~11 colours cannot all stay
15 apart for a deuteranope (the hues collapse onto one blue-yellow axis), so the most common
languages take those slots. A language's colour depends on its code only, never on which other
languages a map holds: codes in ``ORDER`` (the bundled corpus's languages, three common ones, then
the app's, then the CLDR atlas's locales) take the palette in that order; any other code gets a
colour from a hash of its name.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Iterable

from backend.core.catalogue import APP_LANGUAGES
from backend.core.settings import REPO_ROOT

PALETTE_PATH = REPO_ROOT / "assets" / "language_palette.txt"
PALETTE_SIZE = 256
BUNDLED_LANGUAGES = ("en", "de", "fr", "es", "ru", "zh", "ar", "hi")
COMMON_LANGUAGES = ("ja", "pt", "it")  # with the bundled eight, the DISTINCT slots
DISTINCT = 11  # ORDER[:DISTINCT] stay >= 15 CIEDE2000 apart for normal, deuteranope and protanope viewers
# The CLDR atlas's locales that are not app languages, alphabetically (babel's set, frozen here so a
# babel upgrade that adds a locale does not shift anyone else's colour).
CLDR_EXTRA = (
    "ab", "ak", "am", "as", "ast", "az", "be", "bew", "bgn", "br", "brx", "bs", "ccp", "ce", "chr", "ckb",
    "cv", "cy", "dsb", "dz", "ee", "eo", "fil", "fo", "frr", "fur", "fy", "ga", "gd", "gl", "gsw", "gu",
    "ha", "hsb", "ht", "ia", "ie", "ig", "is", "jv", "kab", "kea", "kgp", "km", "kn", "kok", "ks", "ksh",
    "ku", "kxv", "ky", "la", "lb", "lij", "lld", "ln", "lo", "mai", "mi", "ml", "mn", "mt", "my", "mzn",
    "nds", "ne", "nn", "no", "nqo", "oc", "om", "or", "pa", "pcm", "ps", "qu", "rm", "sat", "sc", "scn",
    "sd", "se", "si", "smn", "so", "syr", "szl", "tg", "ti", "tk", "to", "trw", "tt", "ug", "uz", "vec",
    "wae", "wo", "xh", "xnr", "yi", "yo", "yrl", "yue", "zu",
)
ORDER: tuple[str, ...] = tuple(dict.fromkeys((*BUNDLED_LANGUAGES, *COMMON_LANGUAGES, *APP_LANGUAGES, *CLDR_EXTRA)))


@lru_cache(maxsize=1)
def palette() -> tuple[str, ...]:
    """The 256 '#rrggbb' colours, most distinct first."""
    colours = tuple(line.strip() for line in PALETTE_PATH.read_text(encoding="utf-8").splitlines() if line.strip())
    if len(colours) != PALETTE_SIZE:
        raise RuntimeError(f"{PALETTE_PATH} holds {len(colours)} colours, not {PALETTE_SIZE}: "
                           "rebuild it with scripts/build_palette.py.")
    return colours


_POSITION = {code: n for n, code in enumerate(ORDER)}


def colour_index(code: str) -> int:
    """The palette slot of a language code: its place in ORDER, else a stable hash into the slots
    ORDER leaves free (so an unknown code never takes a common language's colour)."""
    code = str(code)
    if code in _POSITION:
        return _POSITION[code]
    free = PALETTE_SIZE - len(ORDER)
    return len(ORDER) + int.from_bytes(hashlib.sha1(code.encode("utf-8")).digest()[:4], "big") % free


def language_colour(code: str) -> str:
    """'#rrggbb' for a language code; the same in every map and tab."""
    return palette()[colour_index(code)]


def language_palette(codes: Iterable[str]) -> dict[str, str]:
    """{code: '#rrggbb'} for ``codes``, in their order."""
    return {str(code): language_colour(code) for code in codes}
