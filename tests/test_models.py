"""Unit tests of advml.models: the offline SmolLM2 and MiniLM checkpoints, both frameworks."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import advml
from advml import cache, models, runtime

ROOT = Path(__file__).resolve().parents[1]


def test_smollm2_folder_is_a_verified_hf_checkpoint():
    folder = advml.smollm2_path()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"):
        assert (folder / name).is_file(), name
    assert cache.verify(folder, expect={"source_sha256": models.SMOLLM2_GGUF_SHA256}) is None


def test_smollm2_transformers_and_keras_agree():
    import torch

    tokenizer, model = advml.load_smollm2()
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    chat = [{"role": "user", "content": "Name a primary colour."}]
    ids = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="np")
    ids = np.asarray(ids["input_ids"])
    assert "Name a primary colour." in tokenizer.decode(ids[0])
    with torch.no_grad():
        reference = model(torch.tensor(ids)).logits.numpy()
    causal_lm = advml.load_smollm2_keras()
    logits = causal_lm.predict_on_batch({"token_ids": ids, "padding_mask": np.ones_like(ids)})
    assert np.abs(np.asarray(logits) - reference).max() < 1e-3
    assert (np.asarray(logits)[0, -1].argmax() == reference[0, -1].argmax())


def test_minilm_transformers_and_keras_agree():
    import torch

    sentences = ["A man is eating food.", "Crème brûlée at the café was délicieux!"]
    tokenizer, model = advml.load_minilm()
    encoded = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**encoded).last_hidden_state.numpy()
    ids, mask = encoded["input_ids"].numpy(), encoded["attention_mask"].numpy()
    reference = advml.mean_pool(hidden, mask)
    keras_tokenizer, backbone = advml.load_minilm_keras()
    for sentence, row, row_mask in zip(sentences, ids, mask):  # same ids without [CLS]/[SEP]
        assert np.asarray(keras_tokenizer(sentence)).tolist() == row[row_mask == 1][1:-1].tolist()
    out = backbone.predict_on_batch({"token_ids": ids, "segment_ids": np.zeros_like(ids),
                                     "padding_mask": mask})["sequence_output"]
    assert np.abs(advml.mean_pool(out, mask) - reference).max() < 1e-4
    assert np.allclose(np.linalg.norm(reference, axis=1), 1, atol=1e-6)


def test_hub_names_fail_fast_offline(monkeypatch):
    monkeypatch.setattr(runtime, "has_network", lambda *a, **k: False)
    with pytest.raises(advml.NetworkUnavailable, match="advml.load_smollm2"):
        advml.hub_model("smollm2-1.7b")
    with pytest.raises(KeyError, match="unknown hub model"):
        advml.hub_model("gpt-5")


@pytest.fixture(scope="module")
def real_smollm2():
    return advml.smollm2_path()  # the set-up's converted folder, in the real cache


def test_corrupt_smollm2_cache_is_rebuilt(real_smollm2, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    builds = []

    def copy_real(target):  # stands in for the ~45 s conversion (raced for real below)
        builds.append(target)
        for item in real_smollm2.iterdir():
            if item.name != cache.MANIFEST:
                shutil.copy(item, target / item.name)

    monkeypatch.setattr(models, "_convert_smollm2", copy_real)
    folder = advml.smollm2_path()
    assert folder == tmp_path / models.SMOLLM2_CACHE and len(builds) == 1
    weights = folder / "model.safetensors"
    with open(weights, "r+b") as handle:
        handle.truncate(weights.stat().st_size // 2)
    assert advml.smollm2_path() == folder and len(builds) == 2
    assert "rebuilding" in capsys.readouterr().out
    assert cache.verify(folder, expect={"source_sha256": models.SMOLLM2_GGUF_SHA256}) is None


def test_two_processes_prepare_smollm2_at_once(tmp_path):
    """The real conversion, raced by two processes into an empty cache: one converts, both
    get the same verified folder."""
    env = dict(os.environ, COURSE_CACHE_DIR=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="2")
    code = ("import advml, advml.models as m, advml.cache as c; p = advml.smollm2_path(); "
            "print('PATH', p); print('OK', c.verify(p, expect={'source_sha256': "
            "m.SMOLLM2_GGUF_SHA256}) is None)")
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), outputs
    paths = {line for out in outputs for line in out.splitlines() if line.startswith("PATH")}
    assert paths == {f"PATH {tmp_path / models.SMOLLM2_CACHE}"}
    assert all("OK True" in out for out in outputs)
    assert sum(out.count("converting SmolLM2") for out in outputs) == 1


def test_label_log_probs_match_a_direct_forward_pass():
    import torch

    tokenizer, model = advml.load_smollm2()
    label_ids = [tokenizer.encode(" negative")[0], tokenizer.encode(" positive")[0]]
    texts = ["a gem of a film .", "dull , long and pointless .", "fine ."]
    prefix, template = "Classify the sentiment.\n", "Review: {text}\nSentiment:"
    scores = advml.label_log_probs(model, tokenizer, texts, label_ids, prefix=prefix,
                                   template=template, batch_size=2)
    assert scores.shape == (3, 2) and scores.dtype == np.float64
    with torch.no_grad():
        for text, row in zip(texts, scores):
            ids = torch.tensor([tokenizer.encode(prefix + template.format(text=text))])
            direct = torch.log_softmax(model(input_ids=ids).logits[0, -1].double(), -1)
            assert np.abs(direct[label_ids].numpy() - row).max() < 1e-4
    no_prefix = advml.label_log_probs(model, tokenizer, texts, label_ids, template=template)
    assert no_prefix.shape == (3, 2) and np.isfinite(no_prefix).all()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(texts="one text"), TypeError, "list of strings"),
    (dict(texts=[]), TypeError, "non-empty"),
    (dict(template="no slot"), ValueError, "must contain"),
    (dict(label_ids=[10**7]), ValueError, "token ids"),
    (dict(batch_size=0), ValueError, "batch_size"),
])
def test_label_log_probs_bad_arguments(kwargs, error, match):
    tokenizer, model = advml.load_smollm2()
    args = dict(texts=["ok ."], label_ids=[1, 2], template="{text}") | kwargs
    with pytest.raises(error, match=match):
        advml.label_log_probs(model, tokenizer, **args)
