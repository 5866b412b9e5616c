"""Render text into images with PIL and the Noto fonts, and rebuild the Image tab's examples.

    python scripts/render_image_examples.py      # writes assets/image_examples/*.png

The tests and bench/ocr.py render their images with ``render_lines`` too, so every OCR figure in
this project comes from text we wrote and fonts Debian ships (`make test` apt-installs
fonts-noto-core and fonts-noto-cjk). Deterministic: the same fonts give the same bytes.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

EXAMPLES_DIR = REPO_ROOT / "assets" / "image_examples"
NOTO_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
# Face index inside NotoSansCJK-Regular.ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK.
CJK_FACE = {"ja": 0, "ko": 1, "zh": 2}
SCRIPT_FONTS = {"ar": "NotoSansArabic-Regular.ttf", "hi": "NotoSansDevanagari-Regular.ttf"}

# The examples a newcomer clicks: (file name, [(lang, line), ...], background, ink). Written by us.
EXAMPLES = (
    ("sign_zh.png", [("zh", "出口"), ("zh", "请勿吸烟"), ("zh", "我们的化学课五分钟后开始。")],
     (200, 30, 30), (255, 255, 255)),
    ("menu_ja.png", [("ja", "本日のおすすめ"), ("ja", "味噌ラーメン　八百円"), ("ja", "天ぷらうどん　九百円"),
                     ("ja", "お茶は無料です")], (250, 244, 230), (40, 30, 20)),
    ("notice_de.png", [("de", "Achtung!"), ("de", "Der Aufzug ist heute außer Betrieb."),
                       ("de", "Bitte benutzen Sie die Treppe.")], (255, 230, 120), (0, 0, 0)),
    ("poster_mixed.png", [("en", "Open house at the library"), ("fr", "Portes ouvertes à la bibliothèque"),
                          ("zh", "图书馆开放日"), ("ja", "図書館の見学会"), ("de", "Tag der offenen Tür")],
     (235, 242, 255), (10, 30, 90)),
    # One notice in five languages, each its own segment on the Image tab (a sign that is its own parallel text)
    ("sign_five.png", [("en", "The museum is closed on Mondays."), ("de", "Das Museum ist montags geschlossen."),
                       ("fr", "Le musée est fermé le lundi."), ("es", "El museo está cerrado los lunes."),
                       ("zh", "博物馆每周一闭馆。")], (245, 245, 240), (20, 20, 20)),
)


def font_path(name: str) -> Path:
    for folder in NOTO_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} is not installed: run `make test` (it apt-installs fonts-noto-core "
                            "and fonts-noto-cjk).")


def font_for(lang: str, size: int):
    """The Noto face that covers ``lang``'s script (Latin and Cyrillic: Noto Sans)."""
    from PIL import ImageFont

    if lang in CJK_FACE:
        return ImageFont.truetype(str(font_path("NotoSansCJK-Regular.ttc")), size, index=CJK_FACE[lang])
    return ImageFont.truetype(str(font_path(SCRIPT_FONTS.get(lang, "NotoSans-Regular.ttf"))), size)


def render_lines(lines, size: int = 36, background=(255, 255, 255), ink=(0, 0, 0), margin: int = 24,
                 spacing: float = 0.6):
    """An RGB image with one text line per (lang, text), left-aligned, each in its script's font.

    Lines are ``size`` px fonts with ``spacing`` × size between them; the canvas fits the text."""
    from PIL import Image, ImageDraw

    fonts = [font_for(lang, size) for lang, _ in lines]
    boxes = [f.getbbox(text) for f, (_, text) in zip(fonts, lines)]
    width = max(b[2] for b in boxes) + 2 * margin
    step = int(size * (1 + spacing))
    height = step * len(lines) + 2 * margin - int(size * spacing)
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    for i, (font, (_, text)) in enumerate(zip(fonts, lines)):
        draw.text((margin, margin + i * step), text, font=font, fill=ink)
    return image


def main() -> None:
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    for name, lines, background, ink in EXAMPLES:
        path = EXAMPLES_DIR / name
        render_lines(lines, size=40, background=background, ink=ink).save(path, optimize=True)
        print(f"{path.relative_to(REPO_ROOT)}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
