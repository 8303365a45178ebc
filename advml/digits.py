"""A reference digit classifier, trained once and cached, to score generated digits.

Generative notebooks (autoencoders, VAE, GANs, VQ-VAE) measure sample quality instead of
eyeballing it: a good generator produces images this classifier labels confidently, and a
generator without mode collapse covers all ten classes.

>>> report = advml.score_digits(samples)     # samples: (N, 28, 28) floats in [0, 1]
>>> report["mean_confidence"], report["classes_covered"]

The field's measure of a generator is the Frechet Inception Distance (FID; Heusel et al., 2017,
https://arxiv.org/abs/1706.08500): fit a Gaussian to the features a reference network computes
for real images and another to those of generated images, and report the Frechet distance
between the two Gaussians. For digits the reference network is this classifier and its features
are its penultimate layer (``digit_features``), so the "FID for digits" is

>>> advml.frechet_distance(advml.digit_features(samples), advml.digit_features(real))

``class_entropy`` adds the entropy of the predicted-class histogram (mode coverage), and
``sample_quality_table`` prints both for a generator beside its floor (held-out real digits)
and its ceilings (an untrained generator, noise).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .assets import load_mnist
from .cache import build_once

CLASSIFIER_CACHE = "models/digit-classifier-v1"
_model = None


def _build_classifier(folder: Path) -> None:
    import keras

    (x_train, y_train), (x_test, y_test) = load_mnist()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ], name="digit_classifier")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # Light augmentation (small shifts) makes it less brittle on imperfect generated digits.
    rng = np.random.default_rng(0)
    x = x_train[..., None].astype("float32") / 255.0
    shifted = np.stack([np.roll(img, tuple(rng.integers(-2, 3, size=2)), axis=(0, 1)) for img in x])
    model.fit(np.concatenate([x, shifted]), np.concatenate([y_train, y_train]), epochs=6,
              batch_size=128, verbose=0)
    _, accuracy = model.evaluate(x_test[..., None] / 255.0, y_test, verbose=0)
    model.save(folder / "classifier.keras")
    (folder / "test_accuracy.txt").write_text(f"{accuracy:.4f}\n")


def digit_classifier():
    """The cached reference CNN (trained on the 4,000 training digits of ``load_mnist()``;
    ~0.97 test accuracy). Takes ~30 s the first time, then loads in a second."""
    global _model
    if _model is None:
        import keras

        folder = build_once(CLASSIFIER_CACHE, _build_classifier)
        _model = keras.saving.load_model(folder / "classifier.keras")
        _model.test_accuracy = float((folder / "test_accuracy.txt").read_text())
    return _model


def _digit_batch(images, who: str) -> np.ndarray:
    """``images`` as a float32 (N, 28, 28, 1) batch in [0, 1], or a ValueError saying why not."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype("float32") / 255.0
    if images.ndim == 2 and images.shape[1] == 784:
        raise ValueError(f"{who} needs a batch of 28x28 images, got flat rows of shape "
                         f"{images.shape}: reshape them first, e.g. x.reshape(-1, 28, 28)")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) == 0:
        raise ValueError(f"{who} needs a batch of 28x28 images, got shape {images.shape}")
    if not np.issubdtype(images.dtype, np.number) or not np.all(np.isfinite(images)):
        raise ValueError(f"{who} needs finite numbers; the batch holds NaN or inf (a diverged "
                         f"generator?)")
    if images.min() < -0.01 or images.max() > 1.01:
        raise ValueError(f"{who} needs values in [0, 1], got [{images.min():.2f}, "
                         f"{images.max():.2f}] (rescale e.g. (x + 1) / 2 for tanh outputs)")
    return images[..., None].astype("float32")


def _predict(images, who: str) -> np.ndarray:
    return digit_classifier().predict(_digit_batch(images, who), verbose=0)


def score_digits(images, confident: float = 0.9) -> dict:
    """Score generated digits with the reference classifier.

    ``images``: (N, 28, 28) or (N, 28, 28, 1) floats in [0, 1] (uint8 0-255 also accepted).
    Returns the mean top-class probability, the fraction above ``confident``, the number of
    the ten classes that receive at least 2% of the samples, and the per-class counts.
    """
    probabilities = _predict(images, "score_digits")
    top = probabilities.max(axis=1)
    labels = probabilities.argmax(axis=1)
    counts = np.bincount(labels, minlength=10)
    return {"n": len(probabilities), "mean_confidence": float(top.mean()),
            "fraction_confident": float((top >= confident).mean()),
            "classes_covered": int((counts >= max(1, 0.02 * len(probabilities))).sum()),
            "class_counts": counts.tolist(), "labels": labels}


# --- The FID for digits -----------------------------------------------------------------------

_feature_model = None


def _features_and_probabilities(images, who: str) -> tuple[np.ndarray, np.ndarray]:
    """One pass of the reference classifier: penultimate features and class probabilities."""
    global _feature_model
    batch = _digit_batch(images, who)
    if _feature_model is None:
        import keras

        classifier = digit_classifier()
        _feature_model = keras.Model(classifier.inputs, [classifier.get_layer("flatten").output,
                                                         classifier.outputs[0]],
                                     name="digit_features")
    features, probabilities = _feature_model.predict(batch, batch_size=500, verbose=0)
    return np.asarray(features, dtype=np.float64), np.asarray(probabilities)


def digit_features(images) -> np.ndarray:
    """The reference classifier's penultimate-layer features of a batch of digits.

    ``images``: (N, 28, 28) or (N, 28, 28, 1) floats in [0, 1] (uint8 0-255 also accepted).
    Returns an (N, 1600) float64 array: the flattened output of the last convolution block,
    the input of the softmax layer (dropout is off at inference), as Inception's pool layer is
    for the FID.
    """
    return _features_and_probabilities(images, "digit_features")[0]


def _features(feats, who: str) -> np.ndarray:
    feats = np.asarray(feats, dtype=np.float64)
    if feats.ndim != 2:
        raise ValueError(f"{who} needs a 2-D array of features (one row per image), got shape "
                         f"{feats.shape}; compute them with advml.digit_features(images)")
    if len(feats) < 2:
        raise ValueError(f"{who} needs at least 2 rows to estimate a covariance, got "
                         f"{len(feats)} (use hundreds: the estimate is biased upwards at small N)")
    if not np.all(np.isfinite(feats)):
        raise ValueError(f"{who}: the features hold NaN or inf")
    return feats


def frechet_distance(feats_a, feats_b) -> float:
    """The Frechet distance between Gaussians fitted to two sets of features (rows = samples).

    d^2 = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)),

    with the means ``mu`` and the unbiased covariances ``S`` of the rows (Dowson & Landau, 1982;
    the FID of Heusel et al., 2017, is this distance on Inception features). The square root
    of S_a S_b is never formed: tr((S_a S_b)^(1/2)) is the sum of the square roots of the
    eigenvalues of S_a S_b, which are real and >= 0 because they are also the eigenvalues of
    the symmetric S_a^(1/2) S_b S_a^(1/2). They are computed with ``numpy.linalg.eigvalsh`` on
    whichever symmetric matrix is smaller: S_a^(1/2) S_b S_a^(1/2) (features x features, with
    S_a^(1/2) from ``eigh``) when there are fewer features than samples, or else
    K K^T with K = A B^T (samples x samples; A and B the centered rows divided by sqrt(N - 1)),
    which has the same nonzero eigenvalues. Round-off can make a few eigenvalues slightly
    negative: they are clipped at 0 (the real part of the square root, as scipy's ``sqrtm``
    route takes). The result is clipped at 0 too. Symmetric in its arguments, 0 for a set
    with itself; like every FID it is biased upwards at small N, so compare distances computed
    at the same sample sizes.
    """
    a = _features(feats_a, "frechet_distance (first set)")
    b = _features(feats_b, "frechet_distance (second set)")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"frechet_distance needs features of the same width, got {a.shape[1]} "
                         f"and {b.shape[1]}: compute both with advml.digit_features")
    if len(a) > len(b):  # the smaller set on the left keeps K K^T small (and the result symmetric)
        a, b = b, a
    mean_term = float(np.sum((a.mean(axis=0) - b.mean(axis=0)) ** 2))
    a_c = (a - a.mean(axis=0)) / np.sqrt(len(a) - 1)   # S_a = a_c^T a_c
    b_c = (b - b.mean(axis=0)) / np.sqrt(len(b) - 1)
    trace_a, trace_b = float(np.sum(a_c ** 2)), float(np.sum(b_c ** 2))
    width = a.shape[1]
    if width <= len(a):
        cov_a, cov_b = a_c.T @ a_c, b_c.T @ b_c
        values, vectors = np.linalg.eigh(cov_a)
        root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
        middle = root_a @ cov_b @ root_a
    else:
        k = a_c @ b_c.T
        middle = k @ k.T
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_root = float(np.sum(np.sqrt(np.clip(eigenvalues, 0, None))))
    return max(0.0, mean_term + trace_a + trace_b - 2.0 * trace_root)


def class_entropy(images) -> float:
    """Entropy, in bits, of the histogram of the reference classifier's predicted classes.

    log2(10) = 3.32 bits when the ten classes are predicted equally often; 0 when every image
    gets the same class (total mode collapse). Real test digits score close to 3.32.
    """
    probabilities = _features_and_probabilities(images, "class_entropy")[1]
    return _entropy_bits(np.bincount(probabilities.argmax(axis=1), minlength=10))


def _entropy_bits(counts) -> float:
    p = np.asarray(counts, dtype=np.float64) / np.sum(counts)
    p = p[p > 0]
    return float(-np.sum(p * np.log2(p)) + 0.0)


_default_reference_features = None


def sample_quality_table(samples_by_name: dict, real_heldout, reference=None, *,
                         floor_name: str = "real held-out digits (floor)",
                         show: bool = True) -> dict:
    """The FID for digits and the class entropy of each set of samples, as a small table.

    ``samples_by_name``: {row name: (N, 28, 28) images in [0, 1]}, e.g. the model and its
    ceilings (an untrained generator, uniform noise). ``real_heldout``: N real digits the model
    never trained on, the floor: what a perfect generator would score at this N.
    ``reference``: the real digits every row is compared with (default: the 4,000 training
    digits of ``advml.load_mnist()``). Every row must hold the same number of images as
    ``real_heldout`` (the FID's small-sample bias depends on N). Prints the table (unless
    ``show=False``) and returns {row name: {"fid", "fid_over_floor", "entropy_bits",
    "mean_confidence", "n"}}, the floor first.
    """
    if not isinstance(samples_by_name, dict) or not samples_by_name:
        raise ValueError("sample_quality_table needs a dict {row name: images}, e.g. "
                         "{'VAE samples': samples, 'noise': noise}")
    rows = {floor_name: real_heldout, **samples_by_name}
    n = len(np.asarray(real_heldout))
    for name, images in rows.items():
        if len(np.asarray(images)) != n:
            raise ValueError(f"sample_quality_table: row {name!r} has {len(np.asarray(images))} "
                             f"images and the floor {n}; the FID is biased upwards at small N, "
                             f"so pass the same number of images for every row")
    global _default_reference_features
    if reference is None:  # the training digits; their features are computed once per kernel
        if _default_reference_features is None:
            from .assets import load_mnist

            (train_images, _), _ = load_mnist()
            _default_reference_features = digit_features(train_images)
        reference_features = _default_reference_features
    else:
        reference_features = digit_features(reference)
    results = {}
    for name, images in rows.items():
        features, probabilities = _features_and_probabilities(
            images, f"sample_quality_table (row {name!r})")
        counts = np.bincount(probabilities.argmax(axis=1), minlength=10)
        results[name] = {"n": n, "fid": frechet_distance(features, reference_features),
                         "entropy_bits": _entropy_bits(counts),
                         "mean_confidence": float(probabilities.max(axis=1).mean())}
    floor = results[floor_name]["fid"]
    for row in results.values():
        row["fid_over_floor"] = row["fid"] / floor if floor > 0 else float("inf")
    if show:
        width = max(len(name) for name in results)
        print(f"{'':{width}}  FID (digits)  x floor  class entropy  mean conf.   "
              f"(N = {n}; reference: {len(reference_features):,} real digits)")
        for name, row in results.items():
            print(f"{name:>{width}}  {row['fid']:12.1f}  {row['fid_over_floor']:7.1f}  "
                  f"{row['entropy_bits']:8.2f} bits  {row['mean_confidence']:10.3f}")
    return results
