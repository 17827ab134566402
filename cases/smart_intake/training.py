"""Learning where requests belong: pure functions over lists, no database, no Flask.

``fit(texts, labels, catalogue)`` trains the intake model; ``fit_baseline`` the plain
comparison (jieba words, TF-IDF, LinearSVC); ``time_split`` orders examples by filing
date and holds out the newest share; ``evaluate`` gives top-1 / top-3, per-label top-1
and the most frequent confusions, at the labels' own level or at a coarser one (``level``
maps a label to its ancestor: a leaf's probabilities add up into its branch's).
``compare`` does all of it on one history. ``cases.smart_intake.store`` feeds it the
deployment's closed cases; ``bench/intake_accuracy.py`` a CSV or a generated history.

The model: word TF-IDF (jieba words, filler words dropped) next to character 1-3-gram
TF-IDF, both with sublinear term frequency, read by a class-balanced linear SVM whose
margins become probabilities by a softmax, averaged with Complement Naive Bayes on the
same features (steadier on labels with few examples). On the generated histories and
the demo's this beat a class-balanced logistic regression (with or without NB) by 2-8
points of top-1. The catalogue's own words join the training set as short
pseudo-requests (``features.catalogue_documents``), a little lighter than a real request.
scikit-learn and numpy are imported inside the functions: the web app imports this
module only when it trains or loads a model.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cases.smart_intake.features import (
    CatalogueEntry,
    catalogue_documents,
    characters,
    plain_words,
    words,
)

CATALOGUE_WEIGHT = 0.6  # a catalogue pseudo-request counts this much of a real request
SVM_SHARE = 0.7  # the linear SVM's share of the averaged probabilities (the rest: NB)
TEMPERATURE = 5.0  # margins → probabilities (``MarginProbabilities``)
TEST_SHARE = 0.2


@dataclass(frozen=True)
class Example:
    """One closed request: what it said, where it was finally handled, when filed."""

    text: str
    label: Any
    filed_at: datetime


@dataclass
class Evaluation:
    """How a model did on held-out examples."""

    cases: int = 0
    top1: float = 0.0
    top3: float = 0.0
    per_label: dict[Any, dict[str, float]] = field(default_factory=dict)  # {label: {cases, top1}}
    confusions: list[tuple[Any, Any, int]] = field(default_factory=list)  # most frequent first


@dataclass
class Comparison:
    """The model and the baseline on one time split (and where the split fell)."""

    trained: int
    tested: int
    split_at: datetime | None
    model: Evaluation
    baseline: Evaluation
    levels: dict[str, tuple[Evaluation, Evaluation]] = field(default_factory=dict)


def plain(values) -> list:
    """numpy scalars (scikit-learn's ``classes_``) as Python values (JSON, dict keys)."""
    return [v.item() if hasattr(v, "item") else v for v in values]


class IntakeModel:
    """A trained model: ``predict_proba(texts)`` over ``classes`` (rows sum to 1)."""

    def __init__(self, vectorizer, classifiers: list[tuple[Any, float]], classes: list):
        self.vectorizer = vectorizer
        self.classifiers = classifiers
        self.classes = plain(classes)
        self.meta: dict[str, Any] = {}  # what the store adds (departments learned, ...)

    def predict_proba(self, texts: Sequence[str]):
        matrix = self.vectorizer.transform(list(texts))
        total = None
        for classifier, share in self.classifiers:
            part = classifier.predict_proba(matrix) * share
            total = part if total is None else total + part
        return total

    def rank(self, text: str, k: int = 3) -> list[tuple[Any, float]]:
        """The ``k`` likeliest labels of one text with their probabilities, best first."""
        row = self.predict_proba([text])[0]
        order = row.argsort()[::-1][:k]
        return [(self.classes[i], float(row[i])) for i in order]


def one_thread():
    """BLAS on one thread: on a small shared machine, its threads only fight (6x slower)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([
        ("words", TfidfVectorizer(analyzer=words, sublinear_tf=True, min_df=1)),
        ("chars", TfidfVectorizer(analyzer="char_wb", preprocessor=characters,
                                  ngram_range=(1, 3), sublinear_tf=True, min_df=1,
                                  max_features=60000)),
    ])


def _balanced_weights(labels: Sequence, base: Sequence[float]) -> list[float]:
    """Each label's examples weigh together as much as every other label's."""
    totals: dict[Any, float] = defaultdict(float)
    for label, weight in zip(labels, base, strict=True):
        totals[label] += weight
    mean = sum(totals.values()) / len(totals)
    return [w * mean / totals[label] for label, w in zip(labels, base, strict=True)]


class MarginProbabilities:
    """A linear SVM's margins as probabilities: a softmax at a fixed temperature (the
    margins of a confident answer are about 1 apart; ``TEMPERATURE`` makes that ~0.9)."""

    def __init__(self, classifier, temperature: float):
        self.classifier = classifier
        self.temperature = temperature
        self.classes_ = classifier.classes_

    def predict_proba(self, matrix):
        return softmax(self.classifier.decision_function(matrix) * self.temperature)


def softmax(scores):
    import numpy as np

    if scores.ndim == 1:  # two classes: one column
        scores = np.column_stack([-scores, scores])
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def fit(texts: Sequence[str], labels: Sequence, catalogue: Iterable[CatalogueEntry] = (),
        *, balanced: bool = True) -> IntakeModel:
    """Train the intake model on requests (``texts``, ``labels``) and the catalogue's
    words. Labels seen only in the catalogue can still be suggested."""
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    cat_texts, cat_labels = catalogue_documents(catalogue)
    all_texts = list(texts) + cat_texts
    all_labels = list(labels) + cat_labels
    if len(set(all_labels)) < 2:
        raise ValueError("at least two labels are needed to learn anything")
    base = [1.0] * len(texts) + [CATALOGUE_WEIGHT] * len(cat_texts)
    weights = _balanced_weights(all_labels, base) if balanced else base
    vectorizer = _vectorizer()
    matrix = vectorizer.fit_transform(all_texts)
    with one_thread():
        svm = LinearSVC()
        svm.fit(matrix, all_labels, sample_weight=weights)
        bayes = ComplementNB(alpha=0.3)
        bayes.fit(matrix, all_labels, sample_weight=weights)
    assert list(bayes.classes_) == list(svm.classes_)
    return IntakeModel(vectorizer, [(MarginProbabilities(svm, TEMPERATURE), SVM_SHARE),
                                    (bayes, 1 - SVM_SHARE)], list(svm.classes_))


class BaselineModel:
    """The plain comparison: jieba words, TF-IDF, LinearSVC; ranked by decision value."""

    def __init__(self, vectorizer, classifier):
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.classes = plain(classifier.classes_)

    def predict_proba(self, texts: Sequence[str]):
        return softmax(self.classifier.decision_function(self.vectorizer.transform(list(texts))))


def fit_baseline(texts: Sequence[str], labels: Sequence) -> BaselineModel:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(analyzer=plain_words)
    classifier = LinearSVC()
    with one_thread():
        classifier.fit(vectorizer.fit_transform(list(texts)), list(labels))
    return BaselineModel(vectorizer, classifier)


def time_split(examples: Sequence[Example], test_share: float = TEST_SHARE
               ) -> tuple[list[Example], list[Example]]:
    """Oldest ``1 - test_share`` to train, the newest to test: every test example was
    filed after every training one (examples filed at the same instant stay together)."""
    ordered = sorted(examples, key=lambda e: e.filed_at)
    cut = len(ordered) - max(1, round(len(ordered) * test_share))
    while 0 < cut < len(ordered) and ordered[cut].filed_at == ordered[cut - 1].filed_at:
        cut += 1
    return ordered[:cut], ordered[cut:]


def evaluate(model, texts: Sequence[str], labels: Sequence,
             level: Callable[[Any], Any] | None = None, top_confusions: int = 20) -> Evaluation:
    """Top-1 and top-3 of ``model`` on ``texts``; with ``level``, labels and predictions
    are first mapped to it (probabilities added up per mapped label)."""
    if not texts:
        return Evaluation()
    level = level or (lambda label: label)
    probabilities = model.predict_proba(list(texts))
    mapped = [level(c) for c in model.classes]
    hits1 = hits3 = 0
    per_label: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    confusions: Counter = Counter()
    for row, label in zip(probabilities, labels, strict=True):
        totals: dict[Any, float] = defaultdict(float)
        for name, p in zip(mapped, row, strict=True):
            totals[name] += float(p)
        ranked = sorted(totals, key=lambda name: -totals[name])
        actual = level(label)
        per_label[actual][0] += 1
        if ranked[0] == actual:
            hits1 += 1
            per_label[actual][1] += 1
        else:
            confusions[(actual, ranked[0])] += 1
        hits3 += actual in ranked[:3]
    n = len(labels)
    return Evaluation(
        cases=n, top1=hits1 / n, top3=hits3 / n,
        per_label={k: {"cases": v[0], "top1": v[1] / v[0]} for k, v in per_label.items()},
        confusions=[(a, p, count) for (a, p), count in confusions.most_common(top_confusions)],
    )


def compare(examples: Sequence[Example], catalogue: Sequence[CatalogueEntry] = (),
            level: Callable[[Any], Any] | None = None, test_share: float = TEST_SHARE,
            levels: dict[str, Callable[[Any], Any]] | None = None) -> Comparison:
    """Train the model and the baseline on the older examples, test both on the newer
    (at ``level``, and at each of ``levels``: name → label mapping, model and baseline)."""
    train, test = time_split(examples, test_share)
    texts, labels = [e.text for e in train], [e.label for e in train]
    test_texts, test_labels = [e.text for e in test], [e.label for e in test]
    model = fit(texts, labels, catalogue)
    baseline = fit_baseline(texts, labels) if len(set(labels)) > 1 else None

    def both(mapping):
        return (evaluate(model, test_texts, test_labels, mapping),
                evaluate(baseline, test_texts, test_labels, mapping) if baseline
                else Evaluation())

    ours, theirs = both(level)
    return Comparison(
        trained=len(train), tested=len(test),
        split_at=train[-1].filed_at if train else None, model=ours, baseline=theirs,
        levels={name: both(mapping) for name, mapping in (levels or {}).items()},
    )
