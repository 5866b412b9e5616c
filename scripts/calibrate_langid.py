"""Calibrate when a language label is uncertain, per detector mode, on short UI-style lines.

    .venv/bin/python scripts/calibrate_langid.py            # writes assets/langid_thresholds.json
                                                            # and docs/langid_calibration.md

For each of Lingua's two modes (``full``: its high-accuracy mode; ``quick``: the low-accuracy
first pass that answers while the full one warms), a label is sure when Lingua's confidence reaches
a threshold or is a ratio times the runner-up language's (backend.models.language_id.is_sure); any
other label is shown as uncertain. The pair (threshold in 0.01 steps, ratio from RATIOS) is the one
that leaves the most lines of assets/langid_short_lines/calibration.tsv unflagged while the
unflagged labels stay right at least ``TARGET`` of the time. The ratio arm is there for English:
Lingua spreads its confidence over the Latin-script languages (0.3-0.5 on whole English sentences),
so a threshold alone flags a third of the bundled corpus's English rows. The numbers in
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
from backend.models.language_id import _guess, _lingua_detector, is_sure  # noqa: E402

SETS = ROOT / "assets" / "langid_short_lines"
NOTE = ROOT / "docs" / "langid_calibration.md"
TARGET = 0.97  # on the calibration set, so that the held-out set keeps >= 0.96
MODES = {"full": False, "quick": True}  # mode -> Lingua's low-accuracy flag
RATIOS = (2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, float("inf"))


def read_set(name: str) -> list[dict]:
    with open(SETS / f"{name}.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def guesses(rows: list[dict], languages: tuple[str, ...], low_accuracy: bool) -> list[tuple[str, float, float]]:
    detector, _ = _lingua_detector(languages, low_accuracy)
    return [_guess(detector, row["text"]) for row in rows]


def calibrate(rows: list[dict], found: list[tuple[str, float, float]]) -> tuple[float, float]:
    """The (threshold, ratio) with the most unflagged lines whose labels are right >= TARGET."""
    best, best_kept = (1.0, float("inf")), -1
    for ratio in RATIOS:
        for step in range(1, 101):
            rule = (step / 100, ratio)
            kept = [row["lang"] == lang for row, (lang, p, q) in zip(rows, found) if is_sure(p, q, *rule)]
            if kept and sum(kept) / len(kept) >= TARGET and len(kept) > best_kept:
                best, best_kept = rule, len(kept)
    return best


def scores(rows: list[dict], found, rule: tuple[float, float]) -> dict:
    right = [row["lang"] == lang for row, (lang, _, _) in zip(rows, found)]
    unflagged = [r for r, (_, p, q) in zip(right, found) if is_sure(p, q, *rule)]
    return {"n": len(rows), "unflagged": len(unflagged),
            "accuracy_unflagged": sum(unflagged) / max(1, len(unflagged)),
            "coverage": len(unflagged) / max(1, len(rows)), "accuracy_all": sum(right) / max(1, len(rows))}


def per_language(rows, found, rule, previous) -> list[tuple]:
    table = collections.defaultdict(lambda: [0, 0, 0, 0, 0])  # n, right, unflagged, unflagged right, right before
    for row, (lang, p, q), (old, _, _) in zip(rows, found, previous):
        sure = is_sure(p, q, *rule)
        cell = table[row["lang"]]
        cell[0] += 1
        cell[1] += lang == row["lang"]
        cell[2] += sure
        cell[3] += sure and lang == row["lang"]
        cell[4] += old == row["lang"]
    return sorted((code, *cell) for code, cell in table.items())


def main() -> None:
    calibration, heldout = read_set("calibration"), read_set("heldout")
    thresholds, lines = {}, []
    for mode, low in MODES.items():
        thresholds[mode] = calibrate(calibration, guesses(calibration, APP_LANGUAGES, low))
    LANGID_THRESHOLDS_PATH.write_text(json.dumps({
        "about": "Per detector mode, a label is sure when Lingua's confidence reaches <mode> or is <mode>_ratio "
                 "times the runner-up's, else uncertain; written by scripts/calibrate_langid.py from "
                 "assets/langid_short_lines/calibration.tsv",
        "target_accuracy": TARGET, **{key: value for mode, (t, r) in thresholds.items()
                                      for key, value in ((mode, t), (f"{mode}_ratio", r))}}, indent=2) + "\n",
        encoding="utf-8")
    lines += ["# Language ID on short lines: calibration and held-out numbers", "",
              "Written by `scripts/calibrate_langid.py` (do not edit by hand). Sets: "
              "`assets/langid_short_lines/` (see its README). A label is sure when Lingua's confidence reaches the "
              "threshold or is the ratio times the runner-up's (`assets/langid_thresholds.json`): "
              + ", ".join(f"{m} {t:.2f} or {r:g}×" for m, (t, r) in thresholds.items())
              + f", each the pair leaving most calibration lines unflagged with those right >= {TARGET}.", ""]
    lines += ["## Held-out set (never calibrated on)", "",
              "| mode | n | unflagged | accuracy of unflagged labels | coverage | accuracy of all labels "
              "| accuracy of all labels, previous 53-language list |", "|---|---|---|---|---|---|---|"]
    tables = {}
    for mode, low in MODES.items():
        found = guesses(heldout, APP_LANGUAGES, low)
        previous = guesses(heldout, PREVIOUS_APP_LANGUAGES, low)
        s = scores(heldout, found, thresholds[mode])
        before = sum(row["lang"] == lang for row, (lang, _, _) in zip(heldout, previous)) / len(heldout)
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
