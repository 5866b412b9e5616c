"""Calibrate when a language label is uncertain, per detector mode, on short UI-style lines.

    .venv/bin/python scripts/calibrate_langid.py            # writes assets/langid_thresholds.json
                                                            # and docs/langid_calibration.md

Two detector modes: ``full``, Lingua's high-accuracy mode, and ``quick``, the first pass that
answers while the full one warms (backend.models.language_id.QuickDetector: Lingua's low-accuracy
trigram ranking, its top 4 languages re-ranked by a high-accuracy detector of just those 4). Per mode,
three numbers are fitted on assets/langid_short_lines/calibration.tsv only:

- a prior weight (from WEIGHTS) for the languages added to the previous 53-language list: their
  confidence is multiplied by it when ranking, and a label it changed is uncertain. Adding 16
  languages gave short lines in the old ones new wrong answers; the weight is the one that leaves no
  old language less often right than with the old list (on calibration.tsv), and then the most lines
  unflagged;
- a threshold (0.51-1.00) and a ratio (RATIOS): a label is sure when Lingua's confidence reaches the
  threshold or is the ratio times the runner-up language's (backend.models.language_id.is_sure); the
  pair is the one that leaves the most lines unflagged while those stay right at least ``TARGET`` of
  the time. The ratio arm is there for English: Lingua spreads its confidence over the Latin-script
  languages (0.3-0.5 on whole English sentences), so a threshold alone flags a third of the bundled
  corpus's English rows.

The numbers in the note come from heldout.tsv, which the fit never saw: accuracy of the labels not
flagged, coverage (the share not flagged) and accuracy of all labels, with n per language; and each
language's right labels against the same mode restricted to the previous 53-language list.

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
from backend.models.language_id import (  # noqa: E402
    QuickDetector,
    _lingua_detector,
    _ranking,
    added_language_weights,
    is_sure,
    pick,
)

SETS = ROOT / "assets" / "langid_short_lines"
NOTE = ROOT / "docs" / "langid_calibration.md"
TARGET = 0.97  # on the calibration set, so that the held-out set keeps >= 0.96
MODES = ("full", "quick")
RATIOS = (2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, float("inf"))
# Thresholds from 0.51: Lingua's confidences sum to 1, so a label at the threshold is Lingua's own first
# choice, and one the prior changed (never Lingua's first) is never above it.
THRESHOLDS = tuple(step / 100 for step in range(51, 101))
WEIGHTS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2)
OLD = frozenset(PREVIOUS_APP_LANGUAGES)

Guess = tuple  # (code, confidence, runner-up's confidence, whether the prior changed the label)


def read_set(name: str) -> list[dict]:
    with open(SETS / f"{name}.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def rankings(rows: list[dict], languages: tuple[str, ...], mode: str, weight: float = 1.0) -> list[list]:
    """Each line's ranking by the app's detector in ``mode`` (full: Lingua's high-accuracy mode;
    quick: QuickDetector, whose candidates the prior ``weight`` picks; trigrams: Lingua's low-accuracy
    mode alone, the quick pass before 2026-12-05)."""
    if mode == "quick":
        detector = QuickDetector(languages, weights=added_language_weights(languages, weight))
    else:
        detector = _lingua_detector(languages, mode == "trigrams")[0]
    return [_ranking(detector, row["text"]) for row in rows]


def guesses(rows: list[dict], mode: str, weight: float, ranked: list[list] | None = None) -> list[Guess]:
    """The app's labels in ``mode`` with the prior ``weight`` (``ranked``: full mode's rankings, which
    the weight does not change)."""
    if ranked is None:
        ranked = rankings(rows, APP_LANGUAGES, mode, weight)
    return [pick(r, added_language_weights(APP_LANGUAGES, weight)) for r in ranked]


def sure(guess: Guess, rule: tuple[float, float]) -> bool:
    lang, p, q, changed = guess
    return lang != "und" and not changed and is_sure(p, q, *rule)


def calibrate(rows: list[dict], found: list[Guess]) -> tuple[tuple[float, float], int]:
    """The (threshold, ratio) with the most unflagged lines whose labels are right >= TARGET, and that count."""
    best, best_kept = (1.0, float("inf")), -1
    for ratio in RATIOS:
        for threshold in THRESHOLDS:
            kept = [row["lang"] == guess[0] for row, guess in zip(rows, found) if sure(guess, (threshold, ratio))]
            if kept and sum(kept) / len(kept) >= TARGET and len(kept) > best_kept:
                best, best_kept = (threshold, ratio), len(kept)
    return best, best_kept


def regressions(rows: list[dict], found: list[Guess], previous: list[Guess]) -> list[str]:
    """The previous list's languages whose lines are less often right than with that list."""
    now, before = collections.Counter(), collections.Counter()
    for row, guess, old in zip(rows, found, previous):
        now[row["lang"]] += guess[0] == row["lang"]
        before[row["lang"]] += old[0] == row["lang"]
    return sorted(code for code in before if code in OLD and now[code] < before[code])


def fit(rows: list[dict], mode: str, previous: list[Guess]) -> tuple[dict, list[tuple]]:
    """The prior weight, then (threshold, ratio): the weakest prior that leaves no language of the
    previous list less often right than with that list (else the fewest such, then the most lines
    unflagged), then the pair with the most unflagged lines at TARGET."""
    ranked = rankings(rows, APP_LANGUAGES, mode) if mode == "full" else None
    tried = []
    for weight in WEIGHTS:
        found = guesses(rows, mode, weight, ranked)
        rule, kept = calibrate(rows, found)
        tried.append((weight, rule, kept, regressions(rows, found, previous),
                      sum(row["lang"] == g[0] for row, g in zip(rows, found))))
    weight, rule, *_ = min(tried, key=lambda t: (len(t[3]), -t[0] if not t[3] else -t[2]))
    return {"added_weight": weight, "threshold": rule[0], "ratio": rule[1]}, tried


def scores(rows: list[dict], found: list[Guess], rule: tuple[float, float]) -> dict:
    right = [row["lang"] == guess[0] for row, guess in zip(rows, found)]
    unflagged = [r for r, guess in zip(right, found) if sure(guess, rule)]
    return {"n": len(rows), "unflagged": len(unflagged),
            "accuracy_unflagged": sum(unflagged) / max(1, len(unflagged)),
            "coverage": len(unflagged) / max(1, len(rows)), "accuracy_all": sum(right) / max(1, len(rows))}


def per_language(rows, found, rule, baselines: list[list[Guess]]) -> list[tuple]:
    """Per language: (code, n, right, unflagged, unflagged and right, right with each baseline...)."""
    table = collections.defaultdict(lambda: [0] * (4 + len(baselines)))
    for i, (row, guess) in enumerate(zip(rows, found)):
        is_right, unflagged = guess[0] == row["lang"], sure(guess, rule)
        cell = table[row["lang"]]
        cell[0] += 1
        cell[1] += is_right
        cell[2] += unflagged
        cell[3] += unflagged and is_right
        for j, baseline in enumerate(baselines):
            cell[4 + j] += baseline[i][0] == row["lang"]
    return sorted((code, *cell) for code, cell in table.items())


def note(code: str) -> str:
    return " (not in the list)" if code not in APP_LANGUAGES else "" if code in OLD else " (added)"


def main() -> None:
    calibration, heldout = read_set("calibration"), read_set("heldout")
    fitted, tried, found, previous = {}, {}, {}, {}
    for mode in MODES:
        before = [pick(r) for r in rankings(calibration, PREVIOUS_APP_LANGUAGES, mode)]
        fitted[mode], tried[mode] = fit(calibration, mode, before)
        found[mode] = guesses(heldout, mode, fitted[mode]["added_weight"])
        previous[mode] = [pick(r) for r in rankings(heldout, PREVIOUS_APP_LANGUAGES, mode)]
        print(mode, fitted[mode])
    trigrams = [pick(r) for r in rankings(heldout, APP_LANGUAGES, "trigrams")]
    # the quick pass as it was with the previous list: the trigram ranking alone
    old_quick = [pick(r) for r in rankings(heldout, PREVIOUS_APP_LANGUAGES, "trigrams")]
    LANGID_THRESHOLDS_PATH.write_text(json.dumps({
        "about": "Per detector mode, the added languages' confidence is multiplied by <mode>_added_weight when "
                 "ranking (a label it changed is uncertain), and a label is sure when Lingua's confidence reaches "
                 "<mode> or is <mode>_ratio times the runner-up's, else uncertain; written by "
                 "scripts/calibrate_langid.py from assets/langid_short_lines/calibration.tsv",
        "target_accuracy": TARGET,
        **{key: value for mode, f in fitted.items() for key, value in (
            (mode, f["threshold"]), (f"{mode}_ratio", f["ratio"]), (f"{mode}_added_weight", f["added_weight"]))},
    }, indent=2) + "\n", encoding="utf-8")
    lines = ["# Language ID on short lines: calibration and held-out numbers", "",
             "Written by `scripts/calibrate_langid.py` (do not edit by hand). Sets: "
             "`assets/langid_short_lines/` (see its README). Two detector modes: **full** is Lingua's "
             "high-accuracy mode; **quick**, the first pass that answers while the full one loads, is Lingua's "
             "low-accuracy (trigram) ranking whose top 4 languages are re-ranked by a high-accuracy detector "
             "built from just those 4. In each, the confidence of the languages added to the previous "
             "53-language list is multiplied by a prior weight when ranking (a label the prior changed is "
             "uncertain; the confidence reported stays Lingua's), and a label is sure when Lingua's "
             "confidence reaches the threshold or is the ratio times the runner-up's "
             "(`assets/langid_thresholds.json`): "
             + ", ".join(f"{m} weight {f['added_weight']:g}, {f['threshold']:.2f} or {f['ratio']:g}×"
                         for m, f in fitted.items())
             + ". All three are fitted on `calibration.tsv` only: the weakest prior that leaves no language of the "
             "previous list less often right than with that list, then the pair leaving most lines unflagged with "
             f"those right >= {TARGET}. In the quick mode the prior also picks the 4 candidates.", ""]
    lines += ["## Held-out set (never calibrated on)", "",
              "| mode | n | unflagged | accuracy of unflagged labels | coverage | accuracy of all labels "
              "| accuracy of all labels, previous 53-language list |", "|---|---|---|---|---|---|---|"]
    tables = {}
    for mode in MODES:
        rule = (fitted[mode]["threshold"], fitted[mode]["ratio"])
        s = scores(heldout, found[mode], rule)
        before = sum(row["lang"] == g[0] for row, g in zip(heldout, previous[mode])) / len(heldout)
        lines.append(f"| {mode} | {s['n']} | {s['unflagged']} | {s['accuracy_unflagged']:.3f} | {s['coverage']:.3f} "
                     f"| {s['accuracy_all']:.3f} | {before:.3f} |")
        tables[mode] = per_language(heldout, found[mode], rule,
                                    [previous[mode]] + ([old_quick] if mode == "quick" else []))
        print(mode, {k: round(v, 3) for k, v in s.items()}, "previous list:", round(before, 3))
    alone = sum(row["lang"] == g[0] for row, g in zip(heldout, trigrams)) / len(heldout)
    was = sum(row["lang"] == g[0] for row, g in zip(heldout, old_quick)) / len(heldout)
    lines += ["", "\"Previous 53-language list\": the same mode restricted to that list, without a prior. The "
              f"trigram ranking alone (the quick pass before the re-ranking) labels {alone:.3f} of these lines right "
              f"with today's {len(APP_LANGUAGES)} languages, {was:.3f} with the previous list."]
    lines += ["", "## The fit on the calibration set", "",
              "| mode | prior weight | threshold | ratio | unflagged | right labels | languages of the previous list "
              "less often right than with it |", "|---|---|---|---|---|---|---|"]
    for mode in MODES:
        lines += [f"| {mode} | {weight:g}{' (chosen)' if weight == fitted[mode]['added_weight'] else ''} "
                  f"| {t:.2f} | {r:g} | {kept} of {len(calibration)} | {right} | {', '.join(worse) or 'none'} |"
                  for weight, (t, r), kept, worse, right in tried[mode]]
    for mode, table in tables.items():
        quick = mode == "quick"
        worse = [f"{code} ({before[0]}->{right} of {n})" for code, n, right, _, _, *before in table
                 if right < before[0]]
        lines += ["", f"## Per language, {mode} mode (held-out)", "",
                  "Languages with fewer right labels than with the previous list: " + (", ".join(worse) or "none")
                  + ".", ""]
        if quick:
            behind = [f"{code} ({before[1]}->{right} of {n})" for code, n, right, _, _, *before in table
                      if right < before[1]]
            full_right = {code: right for code, _, right, *_ in tables["full"]}
            lines += ["Languages with fewer right labels than the quick pass had with the previous list (trigram "
                      "ranking alone): " + (", ".join(behind) or "none") + "."
                      + (" The full mode's models give these lines the same labels (right: "
                         + ", ".join(f"{b.split()[0]} {full_right[b.split()[0]]}" for b in behind) + ")."
                         if behind else ""), ""]
        lines += ["| language | n | right | unflagged | unflagged and right | right, previous list |"
                  + (" right, previous list, trigrams alone |" if quick else ""),
                  "|---|---|---|---|---|---|" + ("---|" if quick else "")]
        lines += [f"| {code}{note(code)} | {n} | {right} | {unf} | {unf_right} | "
                  + " | ".join(str(b) for b in before) + " |"
                  for code, n, right, unf, unf_right, *before in table]
    NOTE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {LANGID_THRESHOLDS_PATH.relative_to(ROOT)} and {NOTE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
