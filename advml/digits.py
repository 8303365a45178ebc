"""A reference digit classifier, trained once and cached, to score generated digits.

Generative notebooks (autoencoders, VAE, GANs, VQ-VAE) measure sample quality instead of
eyeballing it: a good generator produces images this classifier labels confidently, and a
generator without mode collapse covers all ten classes.

>>> report = advml.score_digits(samples)     # samples: (N, 28, 28) floats in [0, 1]
>>> report["mean_confidence"], report["classes_covered"]
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


def score_digits(images, confident: float = 0.9) -> dict:
    """Score generated digits with the reference classifier.

    ``images``: (N, 28, 28) or (N, 28, 28, 1) floats in [0, 1] (uint8 0-255 also accepted).
    Returns the mean top-class probability, the fraction above ``confident``, the number of
    the ten classes that receive at least 2% of the samples, and the per-class counts.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype("float32") / 255.0
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) == 0:
        raise ValueError(f"score_digits needs a batch of 28x28 images, got shape {images.shape}")
    if images.min() < -0.01 or images.max() > 1.01:
        raise ValueError(f"score_digits needs values in [0, 1], got [{images.min():.2f}, "
                         f"{images.max():.2f}] (rescale e.g. (x + 1) / 2 for tanh outputs)")
    probabilities = digit_classifier().predict(images[..., None].astype("float32"), verbose=0)
    top = probabilities.max(axis=1)
    labels = probabilities.argmax(axis=1)
    counts = np.bincount(labels, minlength=10)
    return {"n": len(images), "mean_confidence": float(top.mean()),
            "fraction_confident": float((top >= confident).mean()),
            "classes_covered": int((counts >= max(1, 0.02 * len(images))).sum()),
            "class_counts": counts.tolist(), "labels": labels}
