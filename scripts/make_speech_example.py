"""Synthesise the Speech tab's example clip with eSpeak NG, so a first visit has something to press.

    python scripts/make_speech_example.py     # writes assets/speech_examples/de_grandmother.flac

The sentence is meaning c001 of the bundled corpus in German ("My grandmother lives with us in a
small house near the river."), so its nearest corpus sentences in the other languages are its own
translations. Voice de+m3 at 175 words a minute: the one Whisper base recognised best in our trials
(tests/support/speech_audio.py uses the same). 16 kHz mono FLAC, Whisper's own rate.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = REPO_ROOT / "assets" / "speech_examples"
EXAMPLE = EXAMPLES_DIR / "de_grandmother.flac"
TEXT = "Meine Großmutter wohnt bei uns in einem kleinen Haus am Fluss."


def main() -> int:
    import numpy as np
    import soundfile as sf

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "clip.wav"
        subprocess.run(["espeak-ng", "-s", "175", "-v", "de+m3", "-w", str(wav), TEXT], check=True)
        samples, rate = sf.read(str(wav), dtype="float32")
    # linear resampling to 16 kHz is enough for speech below 8 kHz that espeak-ng makes
    target = 16_000
    t = np.arange(int(len(samples) * target / rate)) * rate / target
    resampled = np.interp(t, np.arange(len(samples)), samples).astype(np.float32)
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    sf.write(str(EXAMPLE), resampled, target, format="FLAC", subtype="PCM_16")
    print(f"{EXAMPLE.relative_to(REPO_ROOT)}: {len(resampled) / target:.1f} s, {EXAMPLE.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
