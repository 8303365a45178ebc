"""The course's syllabus as data: weeks, modules, notebooks, and what each module builds on.

This is the one machine-readable source of the course's structure. The README's syllabus
tables are generated from it (``python3 tools/course.py format``; a test fails while they are
stale), and Intro_Advanced.ipynb draws its module map from it, so the map works in a notebook
opened alone (Colab): the data ship inside the helper package, the README is never read.

>>> from advml import syllabus
>>> [m.notebook for m in syllabus.modules(week=0)]
['Setup_NYU.ipynb', 'Choosing_an_ML_Environment_NYU.ipynb', 'Getting_Started.ipynb']
>>> syllabus.module("Review_LLM").builds_on
('Review_Transformer.ipynb',)

Conventions:

* ``title`` and the order of modules within a week are those of the course's syllabus (the
  order of the lectures); ``week`` is ``None`` for the assignments.
* ``builds_on`` lists the modules a student should have read first. For a written notebook it
  is the prerequisites its title cell names; for a planned one, the modules its curriculum entry
  relies on. It never points to a later week (a test holds this): where the lectures meet a topic
  before the week that treats it in depth, the notebook is self-contained and links forward
  ("more detail in"). Within a week it may point to a module listed later (Intro_Advanced.ipynb
  lists those edges).
* ``theme`` places the module on the course's arc (:data:`THEMES`).

Standard library only: it is imported by the notebooks, the tests and the tools.
"""
from __future__ import annotations

import dataclasses

# The arc of the course, in the order it is taught.
THEMES = (
    "foundations",
    "Transformers and LLMs",
    "tools for big models",
    "fine-tuning at low cost",
    "scaling and reasoning",
    "synthetic data and generative models",
    "multimodal models",
    "alignment and post-training",
)
ASSIGNMENTS_THEME = "assignments"

WEEK_TITLES = {
    0: "environment and tools",
    1: "the course, review, Transformers",
    2: "Keras beyond Sequential, graphs, the Hugging Face ecosystem",
    3: "Transformers in code, fine-tuning at low cost",
    4: "data at scale, scaling laws, test-time compute, reasoning, autoencoders",
    5: "GANs, instruction following, VQ-VAE",
    6: "text and images, embeddings, alignment",
    7: "post-training and RL preference methods",
}


@dataclasses.dataclass(frozen=True)
class Module:
    """One syllabus module: one notebook."""

    notebook: str                 # path relative to the repository root, e.g. "Review_LLM.ipynb"
    title: str                    # the module's title in the syllabus
    week: int | None              # 0-7; None for an assignment
    theme: str                    # one of THEMES (or ASSIGNMENTS_THEME)
    description: str              # one line: what the student does or learns
    builds_on: tuple[str, ...] = ()   # notebooks to read first

    @property
    def name(self) -> str:
        """The notebook's name without folder and extension: ``"Review_LLM"``."""
        return self.notebook.rsplit("/", 1)[-1].removesuffix(".ipynb")


@dataclasses.dataclass(frozen=True)
class Week:
    number: int
    title: str
    modules: tuple[Module, ...]

    @property
    def heading(self) -> str:
        """``"Week 1: the course, review, Transformers"``."""
        return f"Week {self.number}: {self.title}"


def _m(notebook, title, week, theme, description, builds_on=()):
    return Module(notebook, title, week, theme, description,
                  tuple(b if b.endswith(".ipynb") else b + ".ipynb" for b in builds_on))


F, T, B, C, S, G, M, A = THEMES
_MODULES = (
    # ----------------------------------------------------------------- Week 0
    _m("Setup_NYU.ipynb", "Setting up your ML environment", 0, F,
       "ways to run the course; an environment doctor checks versions, devices and offline assets"),
    _m("Choosing_an_ML_Environment_NYU.ipynb", "Choosing an ML environment", 0, F,
       "laptop, Colab, HPC or cloud: measure this machine and estimate a job's time on each",
       ["Setup_NYU"]),
    _m("Getting_Started.ipynb", "A quick intro to the tools", 0, F,
       "Jupyter, NumPy broadcasting, pandas, matplotlib and a first Keras model on MNIST",
       ["Setup_NYU"]),
    # ----------------------------------------------------------------- Week 1
    _m("Intro_Advanced.ipynb", "Introduction to the advanced course", 1, F,
       "the course's arc, an AI assistant as a tutor, how the notebooks work, a first LLM tour",
       ["Getting_Started"]),
    _m("Review_Advanced.ipynb", "Review and preview of key concepts and notation", 1, F,
       "the notation; loss minimization, gradient descent, softmax, embeddings, convolution in code",
       ["Getting_Started"]),
    _m("Colab_practical.ipynb", "Google Colab tricks", 1, F,
       "runtimes, Drive, secrets, checkpoints; a training run interrupted and resumed",
       ["Setup_NYU", "Getting_Started"]),
    _m("Review_Transformer.ipynb", 'From RNN to Transformer, "attention is all you need"', 1, T,
       "the encoder-decoder bottleneck, attention over the encoder states, then attention only",
       ["Attention_Lookup"]),
    _m("Transformer.ipynb", "Transformer flavors", 1, T,
       "encoder-only, decoder-only and encoder-decoder models; padding and causal masks",
       ["Review_Transformer"]),
    _m("Attention_Lookup.ipynb", "Attention as a soft dictionary lookup", 1, T,
       "queries, keys and values; hard vs soft lookup; scaled dot-product attention",
       ["Getting_Started"]),
    _m("Review_TransferLearning.ipynb", "Transfer learning", 1, F,
       "source and target tasks; feature extraction vs fine-tuning of a pretrained model",
       ["Review_Advanced"]),
    _m("Review_NLP.ipynb", "NLP review", 1, F,
       "tokenization (BPE), vocabularies, embeddings and language models, compared with SmolLM2's",
       ["Review_Advanced"]),
    _m("Review_LLM.ipynb", "LLM review", 1, T,
       "next-token prediction, decoding rules, chat templates, zero- and few-shot classification",
       ["Review_Transformer"]),
    # ----------------------------------------------------------------- Week 2
    _m("Functional_Models.ipynb", "The Functional API", 2, B,
       "layers as functions: multi-input and multi-output models, shared layers, non-linear graphs",
       ["Getting_Started"]),
    _m("Keras_Advanced.ipynb", "Advanced Keras (reference)", 2, B,
       "custom layers, losses, metrics, training steps and callbacks, in one reference notebook",
       ["Getting_Started", "Functional_Models"]),
    _m("Computation_Graphs.ipynb", "Computation graphs", 2, B,
       "a model as a graph of operations; forward and reverse-mode automatic differentiation",
       ["Getting_Started"]),
    _m("TF_Graph.ipynb", "Eager vs graph execution", 2, B,
       "tf.function tracing, concrete functions, retracing and its costs",
       ["Computation_Graphs", "Keras_Advanced"]),
    _m("Transfer_Learning_HF.ipynb", "Modern transfer learning with a model hub", 2, B,
       "hubs, checkpoints and model cards; tokenizer, body and task head; fine-tuning MiniLM",
       ["HF_quick_intro_to_models"]),
    _m("HF_quick_intro_to_models.ipynb", "Using a pretrained sequence model", 2, B,
       "pipelines, AutoTokenizer and AutoModel, what a tokenizer returns, a pretrained classifier",
       ["Review_LLM"]),
    # ----------------------------------------------------------------- Week 3
    _m("Autoencoder_for_conditional_risk_factors.ipynb", "Autoencoder asset pricing", 3, B,
       "a conditional autoencoder factor model in finance, built with the Functional API",
       ["Functional_Models", "Keras_Advanced"]),
    _m("Transformer_Understanding_the_Pieces.ipynb", "The pieces of the Transformer", 3, T,
       "embeddings, positional encodings, multi-head attention, feed-forward blocks, layer norm",
       ["Attention_Lookup", "Review_Transformer"]),
    _m("Transformer_code.ipynb", "The Transformer, in code", 3, T,
       "a complete encoder-decoder Transformer in Keras, trained on a small task",
       ["Transformer"]),
    _m("Implementing_Attention.ipynb", "Implementing attention, in detail", 3, T,
       "batched multi-head attention with einsum, combined masks and the numerics of softmax",
       ["Transformer_code", "Attention_Lookup"]),
    _m("Transformer_Choosing_a_PreTrained_Model.ipynb", "Choosing a pretrained model", 3, T,
       "encoder, decoder or encoder-decoder for a task; size, latency, memory and context length",
       ["HF_quick_intro_to_models"]),
    _m("RNN_Residual_Networks.ipynb", "Residual connections", 3, T,
       "vanishing gradients in deep stacks and residual connections as gradient highways",
       ["Computation_Graphs", "Keras_Advanced"]),
    _m("ParameterEfficient_TransferLearning.ipynb", "LoRA and adapters", 3, C,
       "adapters and LoRA: fine-tune a fraction of a percent of a model's parameters",
       ["Transfer_Learning_HF"]),
    _m("Prompt_Engineering_Tuning.ipynb", "Fine-tuning by prompt engineering and prompt tuning", 3, C,
       "zero- and few-shot prompts, chain of thought, and soft prompts trained by gradient descent",
       ["Review_LLM", "ParameterEfficient_TransferLearning"]),
    _m("In_Context_Learning_Theory.ipynb", "In-context learning, theory", 3, C,
       "in-context learning as implicit inference; a Transformer that learns linear functions in context",
       ["Transformer_code", "Review_LLM"]),
    # ----------------------------------------------------------------- Week 4
    _m("TF_Data_API.ipynb", "The tf.data API", 4, B,
       "input pipelines from tensors and files; prefetch, parallel map, cache; streaming past memory",
       ["Generators", "Getting_Started"]),
    _m("Generators.ipynb", "Python generators", 4, B,
       "iterators and generators, lazy evaluation and generator pipelines",
       ["Getting_Started"]),
    _m("TFDatasets_play_v1.ipynb", "TensorFlow Datasets in practice", 4, B,
       "TFDS builders, splits and DatasetInfo; a builder of your own, built offline",
       ["TF_Data_API", "Generators"]),
    _m("Transformers_Scaling.ipynb", "How large should my Transformer be?", 4, S,
       "parameter and compute counts, scaling laws, compute-optimal model size",
       ["Transformer_code", "Review_LLM"]),
    _m("Test_time_compute.ipynb", "Scaling via test-time compute", 4, S,
       "repeated sampling and pass@k, majority voting, spending compute at inference",
       ["Review_LLM"]),
    _m("LLM_Thinking.ipynb", "Reasoning models", 4, S,
       "chain of thought, thinking tokens and budget forcing",
       ["Test_time_compute", "Prompt_Engineering_Tuning"]),
    _m("LLM_Continuous_Reasoning.ipynb", "Reasoning in latent space", 4, S,
       "continuous thoughts: feeding hidden states back instead of tokens",
       ["LLM_Thinking"]),
    _m("Autoencoders_Generative.ipynb", "Autoencoders", 4, G,
       "encoder, bottleneck and decoder; denoising; the latent space",
       ["Getting_Started", "Functional_Models"]),
    _m("VAE_Generative.ipynb", "The variational autoencoder", 4, G,
       "latent-variable models, the ELBO and the reparameterization trick; sampling new digits",
       ["Autoencoders_Generative"]),
    # ----------------------------------------------------------------- Week 5
    _m("GAN_Generative.ipynb", "Generative adversarial networks", 5, G,
       "generator and discriminator, the minimax game and mode collapse",
       ["VAE_Generative"]),
    _m("GAN_Loss_Generative.ipynb", "GAN losses", 5, G,
       "the optimal discriminator, the Jensen-Shannon connection, saturating vs non-saturating loss",
       ["GAN_Generative"]),
    _m("Wasserstein_GAN_Generative.ipynb", "Wasserstein GAN", 5, G,
       "the earth mover's distance, its dual, and a critic with a gradient penalty",
       ["GAN_Generative", "GAN_Loss_Generative"]),
    _m("CelebA_01_deep_convolutional_generative_adversarial_network.ipynb", "DCGAN faces", 5, G,
       "the DCGAN recipe: strided convolutions, batch norm, LeakyReLU; generating faces",
       ["GAN_Generative"]),
    _m("LLM_Instruction_Following.ipynb", "Instruction following", 5, G,
       "base vs instruction-tuned models, supervised fine-tuning on instructions",
       ["Review_LLM", "ParameterEfficient_TransferLearning"]),
    _m("LLM_Instruction_Following_Synthetic_Data.ipynb", "Synthetic instruction data", 5, G,
       "Self-Instruct: an LLM writes, filters and answers its own training instructions",
       ["LLM_Instruction_Following"]),
    _m("VQ_VAE_Generative.ipynb", "The vector-quantized autoencoder", 5, G,
       "a discrete codebook, nearest-neighbour quantization and the straight-through estimator",
       ["VAE_Generative"]),
    # ----------------------------------------------------------------- Week 6
    _m("CLIP.ipynb", "CLIP", 6, M,
       "dual encoders and the contrastive loss; zero-shot classification by text prompts",
       ["Transformer_Understanding_the_Pieces", "Transfer_Learning_HF"]),
    _m("DALL-E.ipynb", "DALL-E, mixing text and image", 6, M,
       "discrete image tokens and one autoregressive Transformer over text, then image",
       ["CLIP", "VQ_VAE_Generative"]),
    _m("Vision_Transformer.ipynb", "The Vision Transformer", 6, M,
       "patches as tokens, a class token and position embeddings; a small ViT on digits",
       ["Transformer_Understanding_the_Pieces"]),
    _m("Embeddings_similarity.ipynb", "Creating embeddings for similarity", 6, M,
       "contrastive and triplet losses, hard negatives and retrieval with embeddings",
       ["CLIP"]),
    _m("Alignment.ipynb", "Alignment", 6, A,
       "helpful, honest, harmless; reward hacking; reward models from human preferences",
       ["Review_LLM", "Embeddings_similarity"]),
    _m("Alignment_Anthropic.ipynb", "Anthropic's approach", 6, A,
       "HH-RLHF and Constitutional AI: critique, revision and feedback from an AI",
       ["Alignment"]),
    # ----------------------------------------------------------------- Week 7
    _m("LLM_PostTraining.ipynb", "LLM post-training", 7, A,
       "pre-training vs post-training: supervised fine-tuning, preference tuning, verifiable rewards",
       ["LLM_Instruction_Following", "Alignment"]),
    _m("RL_Preference_methods_intro.ipynb", "RL for preferences, introduction", 7, A,
       "policy, reward and return; REINFORCE with a baseline; the KL penalty to a reference",
       ["Review_Advanced", "Review_LLM", "Alignment"]),
    _m("RL_Preference_methods.ipynb", "RL preference methods, algorithms", 7, A,
       "RLHF with PPO, DPO from its derivation, and group-relative methods",
       ["RL_Preference_methods_intro"]),
    # ----------------------------------------------------------------- assignments
    _m("assignments/Assignment_Guidelines.ipynb",
       "Assignment guidelines: how to submit, how work is graded", None, ASSIGNMENTS_THEME,
       "how to submit a notebook that runs alone, and how the checker grades it",
       ["Getting_Started"]),
    _m("assignments/Assignment_1_Fine_Tuning.ipynb",
       "Assignment 1: fine-tune a pretrained sentence encoder", None, ASSIGNMENTS_THEME,
       "MiniLM on newsgroup posts: pooling, a linear probe, then fine-tuning",
       ["assignments/Assignment_Guidelines", "Transfer_Learning_HF"]),
)
del F, T, B, C, S, G, M, A


# --------------------------------------------------------------------------- API
def modules(week: int | None = None, assignments: bool = False) -> list[Module]:
    """The modules in syllabus order: every week's (default), one week's (``week=3``), or,
    with ``assignments=True``, the weekly modules followed by the assignments."""
    if week is not None:
        if week not in WEEK_TITLES:
            raise ValueError(f"no week {week!r}; the weeks are {sorted(WEEK_TITLES)}")
        return [m for m in _MODULES if m.week == week]
    return [m for m in _MODULES if m.week is not None or assignments]


def assignments() -> list[Module]:
    """The assignment notebooks, in order."""
    return [m for m in _MODULES if m.week is None]


def weeks() -> list[Week]:
    """The weeks in order, each with its title and modules."""
    return [Week(n, title, tuple(modules(week=n))) for n, title in sorted(WEEK_TITLES.items())]


def module(name: str) -> Module:
    """One module by its notebook path (``"Review_LLM.ipynb"``) or name (``"Review_LLM"``)."""
    for m in _MODULES:
        if name in (m.notebook, m.name, m.notebook.removesuffix(".ipynb")):
            return m
    raise KeyError(f"{name!r} is not a module of the syllabus (advml/syllabus.py)")


def edges(assignments: bool = False) -> list[tuple[str, str]]:
    """The dependencies as ``(prerequisite notebook, module notebook)`` pairs, in syllabus order."""
    return [(before, m.notebook) for m in modules(assignments=assignments) for before in m.builds_on]


def position(notebook: str) -> tuple[int, int]:
    """Where a module sits in the syllabus: ``(week, index within the week)``; assignments come
    after the last week."""
    m = module(notebook)
    group = assignments() if m.week is None else modules(week=m.week)
    week = max(WEEK_TITLES) + 1 if m.week is None else m.week
    return week, group.index(m)
