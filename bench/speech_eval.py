"""Speech -> text on espeak-ng clips of the bundled corpus: ASR speed, spoken-language ID, P@1.

    .venv/bin/python bench/speech_eval.py [meanings per language, default 5]

For each of en/fr/de/es it speaks the first N corpus meanings, transcribes them with the
packaged Whisper base, and searches the transcript among one other language's 220 sentences.
Prints ASR seconds per audio second, language-ID accuracy and retrieval P@1.
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.capabilities.retrieval import nearest_sentences
from backend.data.audio import load_audio  # noqa: E402
from backend.data.corpus import bundled_corpus  # noqa: E402
from backend.registry import build_registry  # noqa: E402

TARGET = {"en": "de", "fr": "en", "de": "en", "es": "en"}


def main(n: int) -> None:
    registry = build_registry()
    recognizer = registry.get("speech")
    corpus = bundled_corpus()
    ids = list(dict.fromkeys(s.id for s in corpus))[:n]
    asr_s = audio_s = 0.0
    lang_ok = hit_ok = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for lang, target in TARGET.items():
            for cid in ids:
                text = next(s.text for s in corpus if s.id == cid and s.lang == lang)
                wav = Path(tmp) / f"{lang}-{cid}.wav"
                subprocess.run(["espeak-ng", "-s", "175", "-v", f"{lang}+m3", "-w", str(wav), text], check=True)
                audio = load_audio(wav, registry.settings)
                start = time.perf_counter()
                result = recognizer.transcribe(audio)
                asr_s += time.perf_counter() - start
                audio_s += audio.duration_s
                top = nearest_sentences(registry, result.text, [target], 1)[0]
                lang_ok += result.language == lang
                hit_ok += top.id == cid
                total += 1
                print(f"{lang} {cid} lang={result.language} ({result.language_probability:.2f}) "
                      f"hit={top.id == cid} {result.text!r}")
    print(f"ASR: {asr_s / audio_s:.3f} s per audio second ({audio_s:.0f} s of audio)")
    print(f"spoken-language ID: {lang_ok}/{total} = {lang_ok / total:.2f}")
    print(f"retrieval P@1 (transcript -> other language, 220 candidates): {hit_ok}/{total} = {hit_ok / total:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
