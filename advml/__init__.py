"""advml: the shared plumbing of the Advanced Machine Learning course notebooks.

Runtime (scale, seeding, environment, checks), offline data assets, offline pretrained
models, a few plotting helpers and the syllabus as data (``advml.syllabus``). What a lesson
teaches stays in its notebook.
"""
from .assets import (AssetMissing, celeba, full_mnist, lfw_faces, load, load_mnist,
                     mini_newsgroups, mnist_subset, news_corpus, polarity_sentences, prose_corpus,
                     qa_pairs, sample_photos, sklearn_digits)
from . import colab, syllabus
from .cache import cache_dir, workdir
from .colab import install_missing
from .digits import (class_entropy, digit_classifier, digit_features, frechet_distance,
                     sample_quality_table, score_digits)
from .llm import label_log_probs
from .models import (hub_model, load_minilm, load_minilm_keras, load_smollm2, load_smollm2_keras,
                     mean_pool, minilm_path, smollm2_path)
from .plotting import image_grid
from .runtime import (CheckFailed, NetworkUnavailable, by_scale, check, check_close,
                      configure_offline, get_scale, get_seed, has_network, in_colab, parse_bar,
                      pinned_version, pins, seed_everything, setup)

__version__ = "0.1.0"
