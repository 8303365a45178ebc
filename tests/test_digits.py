"""Unit tests of the FID for digits (advml.digits): the Frechet distance, the class entropy and
the sample-quality table. Fast, CPU; the reference classifier is the cached one."""
import math

import numpy as np
import pytest
import scipy.linalg

import advml
from advml import digits


def frechet_with_sqrtm(a, b):
    """The textbook formula, with scipy's general matrix square root."""
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a) + np.trace(cov_b)
                 - 2 * np.trace(root))


@pytest.fixture(scope="module")
def feats():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(20, 20)) / 4
    return rng.normal(size=(400, 20)) @ mixing, rng.normal(size=(300, 20)) @ mixing


def test_frechet_distance_of_a_set_with_itself_is_zero(feats):
    a, _ = feats
    assert advml.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_grows_with_a_shift_and_matches_the_mean_term(feats):
    a, _ = feats
    distances = [advml.frechet_distance(a, a + shift) for shift in (0.1, 0.5, 1.0, 2.0)]
    assert np.all(np.diff(distances) > 0)
    # a pure shift leaves the covariances equal: d^2 = |shift|^2 x width
    assert distances[-1] == pytest.approx(4.0 * a.shape[1], rel=1e-6)


def test_frechet_distance_is_symmetric_and_matches_scipy_sqrtm(feats):
    a, b = feats
    assert advml.frechet_distance(a, b) == pytest.approx(advml.frechet_distance(b, a), rel=1e-12)
    assert advml.frechet_distance(a, b) == pytest.approx(frechet_with_sqrtm(a, b), rel=1e-8)


def test_frechet_distance_with_more_features_than_samples_matches_scipy():
    # the FID for digits has 1,600 features and a few hundred samples: the samples x samples route
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(30, 50)), 0.5 + 2 * rng.normal(size=(45, 50))
    assert advml.frechet_distance(a, b) == pytest.approx(frechet_with_sqrtm(a, b), rel=1e-5)
    assert advml.frechet_distance(a, b) == pytest.approx(advml.frechet_distance(b, a), rel=1e-12)


def test_frechet_distance_rejects_bad_input(feats):
    a, b = feats
    with pytest.raises(ValueError, match="same width"):
        advml.frechet_distance(a, b[:, :10])
    with pytest.raises(ValueError, match="2-D array"):
        advml.frechet_distance(a[0], b)
    with pytest.raises(ValueError, match="at least 2 rows"):
        advml.frechet_distance(a[:1], b)
    with pytest.raises(ValueError, match="NaN"):
        advml.frechet_distance(np.where(a > 1, np.nan, a), b)


def test_entropy_bits_of_one_class_and_of_a_uniform_histogram():
    assert digits._entropy_bits([0, 0, 7, 0, 0, 0, 0, 0, 0, 0]) == 0.0
    assert digits._entropy_bits([5] * 10) == pytest.approx(math.log2(10))


@pytest.fixture(scope="module")
def one_per_class():
    """One real test digit of each class that the reference classifier labels correctly."""
    _, (x_test, y_test) = advml.load_mnist()
    labels = advml.score_digits(x_test)["labels"]
    return np.stack([x_test[np.flatnonzero((y_test == c) & (labels == c))[0]] for c in range(10)])


def test_class_entropy_of_one_class_is_zero_and_of_ten_balanced_classes_is_log2_10(one_per_class):
    assert advml.class_entropy(np.repeat(one_per_class[3:4], 20, axis=0)) == 0.0
    assert advml.class_entropy(np.repeat(one_per_class, 3, axis=0)) == pytest.approx(math.log2(10))


def test_digit_features_are_the_penultimate_layer(one_per_class):
    features = advml.digit_features(one_per_class)
    assert features.shape == (10, 1600) and features.dtype == np.float64
    dense = advml.digit_classifier().get_layer("dense")
    kernel, bias = (np.asarray(w) for w in dense.get_weights())
    logits = features @ kernel + bias
    assert logits.argmax(axis=1).tolist() == list(range(10))


def test_digit_inputs_are_validated():
    with pytest.raises(ValueError, match="28x28"):
        advml.digit_features(np.zeros((5, 8, 8)))
    with pytest.raises(ValueError, match="reshape"):
        advml.class_entropy(np.zeros((5, 784)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        advml.digit_features(np.full((5, 28, 28), -1.0))
    with pytest.raises(ValueError, match="NaN"):
        advml.class_entropy(np.full((5, 28, 28), np.nan))


def test_sample_quality_table_orders_floor_model_and_noise(one_per_class, capsys):
    _, (x_test, _) = advml.load_mnist()
    rng = np.random.default_rng(0)
    real = x_test[rng.permutation(len(x_test))].astype("float32") / 255.0  # the set is sorted
    rows = advml.sample_quality_table(
        {"real again": real[200:400], "noise": rng.uniform(size=(200, 28, 28))}, real[:200],
        reference=real[400:])
    assert list(rows) == ["real held-out digits (floor)", "real again", "noise"]
    assert rows["real held-out digits (floor)"]["fid_over_floor"] == 1.0
    assert rows["real again"]["fid_over_floor"] < 1.5 < 10 < rows["noise"]["fid_over_floor"]
    assert rows["real again"]["entropy_bits"] > 3.0 > 1.0 > rows["noise"]["entropy_bits"]
    assert "FID (digits)" in capsys.readouterr().out
    with pytest.raises(ValueError, match="same number of images"):
        advml.sample_quality_table({"noise": rng.uniform(size=(50, 28, 28))}, real[:200],
                                   reference=real[400:])
    with pytest.raises(ValueError, match="dict"):
        advml.sample_quality_table([real[:200]], real[:200])
