"""The monitor: health of each feature and phase, folded incrementally from events.

:class:`Monitor` folds new events into counters per (feature, phase, hour) in the
store and reads them back as :class:`PhaseEvidence` (for the criteria) and
:class:`Health` (for people). :mod:`trustramp.monitor.evidence` is the contract with
the criteria engine: a phase's evidence over a window as counts.
"""

from trustramp.monitor.evidence import CONFIDENCE_BINS, FoldResult, PhaseEvidence, Rate
from trustramp.monitor.fold import BUCKET
from trustramp.monitor.health import DEFAULT_WINDOWS, Figure, Health, WindowHealth
from trustramp.monitor.monitor import Monitor

__all__ = [
    "BUCKET",
    "CONFIDENCE_BINS",
    "DEFAULT_WINDOWS",
    "Figure",
    "FoldResult",
    "Health",
    "Monitor",
    "PhaseEvidence",
    "Rate",
    "WindowHealth",
]
