"""Calibrate when a language label is uncertain, per detector mode, on short UI-style lines.

    .venv/bin/python scripts/calibrate_langid.py            # writes assets/langid_thresholds.json
                                                            # and docs/langid_calibration.md

For each of Lingua's two modes (``full``: its high-accuracy mode; ``quick``: the low-accuracy
first pass that answers while the full one warms), the threshold is the lowest top confidence
(0.01 steps) at which the labels at or above it are right at least ``TARGET`` of the time on
assets/langid_short_lines/calibration.tsv. A label below it is shown as uncertain. The numbers in
the note come from heldout.tsv, which the thresholds never saw: accuracy of the labels not flagged,
coverage (the share not flagged) and accuracy of all labels, with n per language; and each
language's share of right labels with the app's previous 53-language list against today's.

Lines in languages outside the list (gl, mt, lb, fy, ht) stay in: their label is always wrong, so an
unflagged one counts against the accuracy, as it would for a user.
"""
from __future__ import annotations

import collections
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.core.catalogue import APP_LANGUAGES, PREVIOUS_APP_LANGUAGES  # noqa: E402
from backend.core.settings import LANGID_THRESHOLDS_PATH  # noqa: E402
from backend.models.language_id import _guess, _lingua_detector  # noqa: E402

SETS = ROOT / "assets" / "langid_short_lines"
NOTE = ROOT / "docs" / "langid_calibration.md"
TARGET = 0.97  # on the calibration set, so that the held-out set keeps >= 0.96
MODES = {"full": False, "quick": True}  # mode -> Lingua's low-accuracy flag


def read_set(name: str) -> list[dict]:
    with open(SETS / f"{name}.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def guesses(rows: list[dict], languages: tuple[str, ...], low_accuracy: bool) -> list[tuple[str, float]]:
    detector, _ = _lingua_detector(languages, low_accuracy)
    return [_guess(detector, row["text"]) for row in rows]


def calibrate(rows: list[dict], found: list[tuple[str, float]]) -> float:
    """The lowest threshold (0.01 steps) whose unflagged labels are right >= TARGET of the time."""
    for step in range(1, 101):
        threshold = step / 100
        kept = [row["lang"] == lang for row, (lang, p) in zip(rows, found) if p >= threshold]
        if kept and sum(kept) / len(kept) >= TARGET:
            return threshold
    return 1.0


def scores(rows: list[dict], found: list[tuple[str, float]], threshold: float) -> dict:
    right = [row["lang"] == lang for row, (lang, _) in zip(rows, found)]
    unflagged = [r for r, (_, p) in zip(right, found) if p >= threshold]
    return {"n": len(rows), "unflagged": len(unflagged),
            "accuracy_unflagged": sum(unflagged) / max(1, len(unflagged)),
            "coverage": len(unflagged) / max(1, len(rows)), "accuracy_all": sum(right) / max(1, len(rows))}


def per_language(rows, found, threshold, previous) -> list[tuple]:
    table = collections.defaultdict(lambda: [0, 0, 0, 0, 0])  # n, right, unflagged, unflagged right, right before
    for row, (lang, p), (old, _) in zip(rows, found, previous):
        cell = table[row["lang"]]
        cell[0] += 1
        cell[1] += lang == row["lang"]
        cell[2] += p >= threshold
        cell[3] += p >= threshold and lang == row["lang"]
        cell[4] += old == row["lang"]
    return sorted((code, *cell) for code, cell in table.items())


def main() -> None:
    calibration, heldout = read_set("calibration"), read_set("heldout")
    thresholds, lines = {}, []
    for mode, low in MODES.items():
        thresholds[mode] = calibrate(calibration, guesses(calibration, APP_LANGUAGES, low))
    LANGID_THRESHOLDS_PATH.write_text(json.dumps({
        "about": "Lingua's top confidence below which a label is uncertain, per detector mode; written by "
                 "scripts/calibrate_langid.py from assets/langid_short_lines/calibration.tsv",
        "target_accuracy": TARGET, **thresholds}, indent=2) + "\n", encoding="utf-8")
    lines += ["# Language ID on short lines: calibration and held-out numbers", "",
              "Written by `scripts/calibrate_langid.py` (do not edit by hand). Sets: "
              "`assets/langid_short_lines/` (see its README). Thresholds (`assets/langid_thresholds.json`): "
              + ", ".join(f"{m} {t:.2f}" for m, t in thresholds.items())
              + f", each the lowest at which the calibration set's unflagged labels are right >= {TARGET}.", ""]
    lines += ["## Held-out set (never calibrated on)", "",
              "| mode | n | unflagged | accuracy of unflagged labels | coverage | accuracy of all labels "
              "| accuracy of all labels, previous 53-language list |", "|---|---|---|---|---|---|---|"]
    tables = {}
    for mode, low in MODES.items():
        found = guesses(heldout, APP_LANGUAGES, low)
        previous = guesses(heldout, PREVIOUS_APP_LANGUAGES, low)
        s = scores(heldout, found, thresholds[mode])
        before = sum(row["lang"] == lang for row, (lang, _) in zip(heldout, previous)) / len(heldout)
        lines.append(f"| {mode} | {s['n']} | {s['unflagged']} | {s['accuracy_unflagged']:.3f} | {s['coverage']:.3f} "
                     f"| {s['accuracy_all']:.3f} | {before:.3f} |")
        tables[mode] = per_language(heldout, found, thresholds[mode], previous)
        print(mode, thresholds[mode], {k: round(v, 3) for k, v in s.items()}, "previous list:", round(before, 3))
    for mode, table in tables.items():
        worse = [f"{code} ({before}->{right} of {n})" for code, n, right, _, _, before in table if right < before]
        lines += ["", f"## Per language, {mode} mode (held-out)", "",
                  "Languages with fewer right labels than with the previous list: " + (", ".join(worse) or "none")
                  + ".", "", "| language | n | right | unflagged | unflagged and right | right, previous list |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {code}{'' if code in APP_LANGUAGES else ' (not in the list)'} | {n} | {right} | {unf} | {unf_right} "
                  f"| {before} |" for code, n, right, unf, unf_right, before in table]
    NOTE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {LANGID_THRESHOLDS_PATH.relative_to(ROOT)} and {NOTE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
