"""The demo's real model: handwritten digits read off scanned checks, trained at start-up.

The data ship inside scikit-learn (``load_digits``: 1,797 8x8 images, no download).
A logistic regression is trained on 40% of them; 30% are the labelled held-out set
the readiness checklist is evaluated on (and the confidence thresholds certified
from); the last 30% feed production traffic. The confidence is ``predict_proba``'s
largest probability. The non-AI fallback is manual entry: the user types the digit.

The shift: a new scanner app starts sending images rotated by a quarter turn. The
model still answers with high confidence, and is wrong most of the time: the
"confidently wrong" failure a rollout must catch before thousands of users see it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split


def ink(image: NDArray[np.float64]) -> str:
    """A coarse input attribute for slices: how much ink the image holds."""
    total = float(image.sum())
    return "light" if total < 250 else "heavy" if total > 350 else "medium"


@dataclass(frozen=True)
class Answer:
    digit: int
    confidence: float
    correct: bool
    attributes: dict[str, str]


class DigitsModel:
    """Train once; answer held-out and production images, before or after the shift."""

    def __init__(self, seed: int = 0) -> None:
        images, labels = load_digits(return_X_y=True)
        train_x, rest_x, train_y, rest_y = train_test_split(
            images, labels, train_size=0.4, random_state=seed, stratify=labels)
        held_x, live_x, held_y, live_y = train_test_split(
            rest_x, rest_y, train_size=0.5, random_state=seed, stratify=rest_y)
        self.model = LogisticRegression(max_iter=3000)
        self.model.fit(train_x, train_y)
        self.heldout = (np.asarray(held_x, dtype=np.float64), np.asarray(held_y))
        self.live = (np.asarray(live_x, dtype=np.float64), np.asarray(live_y))

    def _answers(self, images: NDArray[np.float64], labels: NDArray[np.int64]
                 ) -> list[Answer]:
        probabilities = self.model.predict_proba(images)
        predicted = self.model.classes_[probabilities.argmax(axis=1)]
        return [Answer(int(d), float(p), bool(d == y),
                       {"ink": ink(image), "digit_family": "round" if y in (0, 6, 8, 9)
                        else "straight"})
                for d, p, y, image in zip(predicted, probabilities.max(axis=1), labels,
                                          images, strict=True)]

    def heldout_answers(self) -> list[Answer]:
        """The model on its labelled held-out set (what readiness is evaluated on)."""
        return self._answers(*self.heldout)

    def live_answers(self, rotated: bool) -> list[Answer]:
        """The model on the production images, as they arrive before or after the shift."""
        images, labels = self.live
        if rotated:
            images = np.rot90(images.reshape(-1, 8, 8), 1, axes=(1, 2)).reshape(-1, 64)
        return self._answers(images, labels)

    @property
    def heldout_accuracy(self) -> float:
        answers = self.heldout_answers()
        return sum(a.correct for a in answers) / len(answers)
