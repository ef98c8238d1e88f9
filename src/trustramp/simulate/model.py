"""A simulated model and the people around it: answers, confidence, and what is learned later.

The model's confidence is drawn from Beta(``sharpness``, 1) and an answer is right
with probability ``accuracy_at(confidence)``: calibrated by default (right as often
as it says), harder for inputs whose ``task`` is ``hard``. Scenarios change it on
``shift_day``:

- ``steady``: nothing changes;
- ``crash``: accuracy falls (by ``drop``) while confidence stays as high as before,
  the seed's market crash: the model does not know it is wrong;
- ``drift``: the inputs move away from what the model knows: confidence falls and
  accuracy falls with it (the model still says how unsure it is).

The people: thumbs are sparse and biased (a wrong answer is thumbed down more often
than a right one is thumbed up), ground-truth labels arrive for a share of answers,
reviewers catch most wrong answers, and a share of wrong answers shown become
support tickets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Scenario(StrEnum):
    STEADY = "steady"
    CRASH = "crash"
    DRIFT = "drift"


@dataclass(frozen=True, slots=True)
class AnswerModel:
    """The simulated model; see the module docstring."""

    scenario: Scenario = Scenario.STEADY
    sharpness: float = 30.0  # Beta(a, 1): mean confidence a / (a + 1), 0.968 at 30
    shift_day: float = 3.0
    drop: float = 0.25  # crash: accuracy falls by this much, confidence unchanged
    drift_sharpness: float = 6.0  # drift: Beta(a, 1) after the shift, mean 0.857
    hard_penalty: float = 0.15

    def shifted(self, day: float) -> bool:
        return self.scenario is not Scenario.STEADY and day >= self.shift_day

    def answer(self, day: float, attributes: dict[str, Any], rng: random.Random
               ) -> tuple[float, bool]:
        """(confidence, correct) for one request on simulated ``day``."""
        sharpness = self.sharpness
        if self.shifted(day) and self.scenario is Scenario.DRIFT:
            sharpness = self.drift_sharpness
        confidence = rng.betavariate(sharpness, 1.0)
        accuracy = confidence
        if attributes.get("task") == "hard":
            accuracy -= self.hard_penalty
        if self.shifted(day) and self.scenario is Scenario.CRASH:
            accuracy -= self.drop
        return confidence, rng.random() < accuracy


@dataclass(frozen=True, slots=True)
class Reactions:
    """How often each kind of outcome is learned about an answer shown or reviewed."""

    thumbs_rate: float = 0.08  # share of answers shown that get a thumbs
    thumbs_up_if_right: float = 0.92
    thumbs_up_if_wrong: float = 0.30  # people do not always notice a wrong answer
    label_rate: float = 0.10  # share of answers that get a ground-truth label later
    reviewer_accuracy: float = 0.95
    ticket_if_wrong: float = 0.03
    critical_if_wrong_and_sure: float = 0.2  # of confidently wrong answers shown

    def thumbs(self, correct: bool, rng: random.Random) -> bool | None:
        if rng.random() >= self.thumbs_rate:
            return None
        return rng.random() < (self.thumbs_up_if_right if correct else self.thumbs_up_if_wrong)

    def review(self, correct: bool, rng: random.Random) -> bool:
        return correct if rng.random() < self.reviewer_accuracy else not correct
