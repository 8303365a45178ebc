"""Scoring labels with a causal language model (transformers, PyTorch).

Review_LLM.ipynb builds this function step by step; later notebooks call it from here.

>>> tokenizer, model = load_smollm2()
>>> ids = [tokenizer.encode(" negative")[0], tokenizer.encode(" positive")[0]]
>>> label_log_probs(model, tokenizer, ["a gem of a film ."], ids,
...                 prefix="Classify the sentiment.\\n", template="Review: {text}\\nSentiment:")
array([[-3.1, -0.9]])   # log p(" negative"), log p(" positive") after the prompt
"""
from __future__ import annotations

import copy

import numpy as np


def label_log_probs(model, tokenizer, texts, label_ids, prefix: str = "",
                    template: str = "{text}", batch_size: int = 16) -> np.ndarray:
    """``log p(label | prefix + template.format(text=text))`` for every text and label token.

    Returns a float64 array of shape ``(len(texts), len(label_ids))``. The prefix is encoded
    and run once; its key/value cache is reused for every batch. Rows are right-padded, and
    the vocabulary projection is applied only at each row's last real token, which makes
    scoring several times cheaper than computing all logits.
    """
    import torch

    if isinstance(texts, str) or not len(texts) or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a non-empty list of strings (wrap a single text in a list)")
    if "{text}" not in template:
        raise ValueError(f"template must contain '{{text}}' where each text goes, got {template!r}")
    vocab = model.get_output_embeddings().weight.shape[0]
    label_ids = [int(i) for i in label_ids]
    if not label_ids or not all(0 <= i < vocab for i in label_ids):
        raise ValueError(f"label_ids must be token ids in [0, {vocab}), got {label_ids!r}; "
                         "take them from tokenizer.encode(' label')[0]")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    scores = []
    with torch.no_grad():
        prefix_ids = tokenizer.encode(prefix) if prefix else []
        prefix_cache = (kv_cache(model(input_ids=torch.tensor([prefix_ids]), use_cache=True))
                        if prefix_ids else None)
        for start in range(0, len(texts), batch_size):
            rows = [tokenizer.encode(template.format(text=t)) for t in texts[start:start + batch_size]]
            ids = torch.full((len(rows), max(map(len, rows))), pad)
            for i, row in enumerate(rows):
                ids[i, :len(row)] = torch.tensor(row)  # right padding: pads come after, unseen
            kwargs = {}
            if prefix_cache is not None:
                cache = copy.deepcopy(prefix_cache)
                cache.batch_repeat_interleave(len(rows))
                kwargs = cache_kwargs(cache)
            hidden = model.base_model(input_ids=ids, **kwargs).last_hidden_state
            last = hidden[torch.arange(len(rows)), torch.tensor([len(r) - 1 for r in rows])]
            logits = model.get_output_embeddings()(last).double()
            scores.append(torch.log_softmax(logits, dim=-1)[:, label_ids].numpy())
    return np.concatenate(scores)


# --------------------------------------------------------------------------- KV cache
def _transformers_at_least(version: tuple[int, ...]) -> bool:
    from .colab import installed_version, version_tuple

    found = installed_version("transformers")
    return found is not None and version_tuple(found) >= version


def kv_cache(output):
    """The key/value cache a transformers model returned (``use_cache=True``): ``output.cache``
    from transformers 5.24 on, ``output.past_key_values`` before (Colab's 5.15)."""
    return output.cache if hasattr(output, "cache") else output.past_key_values


def cache_kwargs(cache) -> dict:
    """The keyword that passes ``cache`` back into a model: ``{"cache": cache}`` from
    transformers 5.24 on, ``{"past_key_values": cache}`` before (the old name still works
    in 5.24, with a deprecation warning, until 5.40)."""
    return {"cache" if _transformers_at_least((5, 24)) else "past_key_values": cache}
