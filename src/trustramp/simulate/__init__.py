"""Simulated rollouts: synthetic users, a simulated model, and the real decision engine.

:mod:`trustramp.simulate.population` builds users and inputs that fit a plan;
:mod:`trustramp.simulate.model` the answers and the outcomes people report.
"""

from trustramp.simulate.model import AnswerModel, Reactions, Scenario
from trustramp.simulate.population import InputSampler, Population, satisfying, violating

__all__ = ["AnswerModel", "InputSampler", "Population", "Reactions", "Scenario", "satisfying",
           "violating"]
