"""Reference solutions of the assignments, kept out of the student notebooks.

``SOLUTIONS[notebook][tag]`` is the source of the task cell tagged ``tag`` (``task-1``, ...);
tests/test_submission.py applies them to a copy of the student notebook and runs the
checker on it. ``BROKEN`` holds a wrong solution the checker must reject at the right cell.
"""

SOLUTIONS = {
    "Assignment_1_Fine_Tuning.ipynb": {
        "task-1": '''# Your code (Task 1)
def sentence_embeddings(hidden, mask):
    """hidden: (batch, seq, dim) float tensor; mask: (batch, seq) of 0/1.
    Returns (batch, dim): the masked mean over real tokens, L2-normalized."""
    weights = mask[..., None].to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)''',
        "task-2": '''# Your code (Task 2)
def fit_probe(features, labels):
    """Fit a linear classifier on frozen embeddings (features: (n, dim) array, labels: (n,)).
    Returns the fitted scikit-learn estimator (it needs .predict, .coef_ and .intercept_)."""
    return LogisticRegression(C=10, max_iter=2000).fit(features, labels)''',
        "task-3": '''# Your code (Task 3)
def fine_tune(model, ids, mask, labels, num_epochs, batch_size, learning_rate, generator):
    """Train the model's trainable parameters with AdamW on the cross-entropy loss.
    ids, mask: (n, seq) tensors; labels: (n,) int64 tensor. Returns the list of batch losses."""
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=learning_rate)
    losses = []
    for epoch in range(num_epochs):
        model.train()
        for batch in torch.randperm(len(labels), generator=generator).split(batch_size):
            loss = torch.nn.functional.cross_entropy(model(ids[batch], mask[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses''',
    },
}

# A plausible mistake: the mean over every position, padding included.
BROKEN = {
    "Assignment_1_Fine_Tuning.ipynb": {
        "task-1": '''# Your code (Task 1)
def sentence_embeddings(hidden, mask):
    return torch.nn.functional.normalize(hidden.mean(1), dim=-1)''',
    },
}
