"""Deterministic splits that respect tiny classes: cross-validation folds and the held-out split.

Several categories have only 3-4 examples. scikit-learn's StratifiedKFold warns and leaves
such classes out of some training folds, and CalibratedClassifierCV refuses them outright;
these splits keep every class with two or more rows in every training fold instead.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Iterator, Sequence

import numpy as np

Fold = tuple[np.ndarray, np.ndarray]


def class_preserving_folds(labels: Sequence[str], n_folds: int, seed: int) -> list[Fold]:
    """Return (train, test) index pairs: stratified folds where no class leaves a training fold empty.

    Each class's rows are shuffled and dealt round-robin across the folds, so a class with
    ``c >= 2`` rows is tested at most ``ceil(c / n_folds)`` at a time and always keeps at
    least one row in training. A class with a single row is never tested (it stays in
    every training fold): there is nothing to learn it from if it is held out.
    """
    label_array = np.asarray(labels)
    rng = np.random.default_rng(seed)
    fold_of = np.full(len(label_array), -1)
    offset = 0
    for label in sorted(set(label_array.tolist())):
        members = np.flatnonzero(label_array == label)
        rng.shuffle(members)
        if len(members) > 1:
            fold_of[members] = (offset + np.arange(len(members))) % n_folds
            offset += len(members)
    return [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(n_folds)]


class ClassPreservingKFold:
    """A scikit-learn splitter (``split``/``get_n_splits``) over ``class_preserving_folds``.

    It deliberately has no ``n_splits`` attribute: CalibratedClassifierCV uses that attribute
    to refuse classes smaller than the fold count, which these folds handle.
    """

    def __init__(self, n_folds: int, seed: int) -> None:
        self.n_folds = n_folds
        self.seed = seed

    def split(self, X: object, y: Sequence[str], groups: object = None) -> Iterator[Fold]:
        """Yield (train, test) index pairs."""
        yield from class_preserving_folds(y, self.n_folds, self.seed)

    def get_n_splits(self, X: object = None, y: object = None, groups: object = None) -> int:
        """Return the number of folds."""
        return self.n_folds


def holdout_split(texts: Sequence[str], labels: Sequence[str], fraction: float) -> tuple[list[int], list[int]]:
    """Return (train, holdout) indices: per class, the ``fraction`` of rows whose text hashes lowest.

    The choice depends only on each row's text and label, not on file order or a random
    state, so every model trained on the same CSV is compared on the same rows. Classes with
    fewer than ``1 / fraction`` rows keep all of them in training.
    """
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    holdout: set[int] = set()
    for members in by_label.values():
        members.sort(key=lambda i: hashlib.sha256(texts[i].encode("utf-8")).hexdigest())
        holdout.update(members[:int(len(members) * fraction)])
    train = [i for i in range(len(texts)) if i not in holdout]
    return train, sorted(holdout)
