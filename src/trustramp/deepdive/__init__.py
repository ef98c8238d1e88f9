"""The deep dive: the worst recent outputs, and what-if replays of logged outputs.

- :func:`worst_outputs`: the outputs that went most wrong in a window, with the error
  slices they fall in (``trustramp worst``);
- :func:`replay`: logged outputs through the gate again under other guardrail
  settings (``trustramp replay --what-if confidence_threshold=0.9``).
"""

from trustramp.deepdive.logged import LoggedOutput, logged_outputs
from trustramp.deepdive.replay import ReplayRun, parse_what_if, replay, with_settings
from trustramp.deepdive.worst import WorstOutput, WorstReport, worst_outputs

__all__ = [
    "LoggedOutput",
    "ReplayRun",
    "WorstOutput",
    "WorstReport",
    "logged_outputs",
    "parse_what_if",
    "replay",
    "with_settings",
    "worst_outputs",
]
