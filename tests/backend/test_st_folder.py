"""One reader of sentence-transformers folders, two questions: the Layers view asks whether the
model's own vector is a plain mean; the OpenVINO fast path takes only what it reproduces."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.models.encoders import hidden_states, openvino
from backend.models.encoders.openvino_runtime import FastPathUnavailable
from backend.models.encoders.st_folder import UnreadableFolder, pooling_modes, read_st_folder

OLD = "sentence_transformers.models."  # the type names sentence-transformers < 5 saved
NEW = {"Transformer": "sentence_transformers.base.modules.transformer.",  # >= 5: the class's module
       "Pooling": "sentence_transformers.sentence_transformer.modules.pooling.",
       "Dense": "sentence_transformers.base.modules.dense.",
       "Normalize": "sentence_transformers.base.modules.normalize."}
MEAN_FLAGS = {"word_embedding_dimension": 8, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
              "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}


def _folder(root: Path, pooling: dict, kinds=("Transformer", "Pooling", "Normalize"), new_types=False) -> Path:
    """A tiny folder as sentence-transformers saves one: the transformer at the root."""
    paths = {"Transformer": "", "Pooling": "1_Pooling", "Dense": "2_Dense", "Normalize": "3_Normalize"}
    modules = [{"idx": i, "name": str(i), "path": paths[k], "type": (NEW[k] if new_types else OLD) + k}
               for i, k in enumerate(kinds)]
    root.mkdir(parents=True, exist_ok=True)
    (root / "modules.json").write_text(json.dumps(modules))
    (root / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128, "do_lower_case": False}))
    (root / "config.json").write_text(json.dumps({"hidden_size": 8}))
    (root / "tokenizer.json").write_text("{}")
    (root / "model.safetensors").write_bytes(b"")
    (root / "1_Pooling").mkdir(exist_ok=True)
    (root / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    return root


def test_pooling_modes_read_both_generations_as_sentence_transformers_does():
    assert pooling_modes(MEAN_FLAGS) == ("mean",)
    assert pooling_modes({"pooling_mode": "mean", "include_prompt": True}) == ("mean",)
    assert pooling_modes({"pooling_mode": ["mean"]}) == ("mean",)
    assert pooling_modes({"pooling_mode": ["cls", "mean"]}) == ("cls", "mean")
    assert pooling_modes({**MEAN_FLAGS, "pooling_mode_cls_token": True}) == ("cls", "mean")
    assert pooling_modes({"pooling_mode_mean_tokens": False}) == ("mean",)  # no flag set: its default


@pytest.mark.parametrize("new_types", [False, True])
@pytest.mark.parametrize("pooling", [MEAN_FLAGS, {"embedding_dimension": 8, "pooling_mode": "mean",
                                                  "include_prompt": True}], ids=["flags", "pooling_mode"])
def test_a_plain_mean_folder_is_mean_to_both_readers(tmp_path, pooling, new_types):
    root = _folder(tmp_path / "m", pooling, new_types=new_types)
    folder = read_st_folder(root)
    assert folder.kinds == ["Transformer", "Pooling", "Normalize"]
    assert folder.transformer_dir == root and folder.max_seq_length == 128 and folder.pooling_modes == ("mean",)
    assert hidden_states._layout(root).mean_pooled  # the old Layers reader took "pooling_mode" for not-mean
    layout = openvino._layout(root)  # the old fast-path reader refused the >= 5 type names
    assert (layout.transformer_dir, layout.max_length, layout.dim) == (root, 128, 8)


@pytest.mark.parametrize("pooling", [{**MEAN_FLAGS, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True},
                                     {"pooling_mode": ["mean", "max"]}], ids=["cls", "mean+max"])
def test_other_poolings_are_not_mean_to_either(tmp_path, pooling):
    root = _folder(tmp_path / "m", pooling)
    assert not hidden_states._layout(root).mean_pooled
    with pytest.raises(FastPathUnavailable, match="mean pooling"):
        openvino._layout(root)


def test_each_reader_keeps_its_own_question(tmp_path):
    # prompt tokens left out of the mean: the Layers view (which passes no prompt) still reads a mean;
    # the fast path cannot reproduce it
    root = _folder(tmp_path / "prompt", {"pooling_mode": "mean", "include_prompt": False})
    assert hidden_states._layout(root).mean_pooled
    with pytest.raises(FastPathUnavailable, match="mean pooling"):
        openvino._layout(root)
    # a Dense layer after the mean: the Layers view reads the transformer, but the last layer is not the
    # model's embedding; the fast path refuses the stack
    root = _folder(tmp_path / "dense", MEAN_FLAGS, kinds=("Transformer", "Pooling", "Dense", "Normalize"))
    assert hidden_states._layout(root).transformer_dir == root and not hidden_states._layout(root).mean_pooled
    with pytest.raises(FastPathUnavailable, match="unsupported module stack"):
        openvino._layout(root)


def test_plain_transformers_folders_and_broken_files(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    layout = hidden_states._layout(plain)
    assert (layout.transformer_dir, layout.max_length, layout.mean_pooled) == (plain, 512, True)
    with pytest.raises(FastPathUnavailable, match="modules.json"):
        openvino._layout(plain)
    root = _folder(tmp_path / "broken", MEAN_FLAGS)
    (root / "1_Pooling" / "config.json").write_text("{not json")
    with pytest.raises(UnreadableFolder, match="config.json"):
        read_st_folder(root)
    with pytest.raises(FastPathUnavailable, match="config.json"):
        openvino._layout(root)
