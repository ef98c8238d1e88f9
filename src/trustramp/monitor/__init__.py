"""The monitor: health of each feature and phase, folded incrementally from events.

:mod:`trustramp.monitor.evidence` is the contract with the criteria engine: a
phase's evidence over a window as counts.
"""

from trustramp.monitor.evidence import CONFIDENCE_BINS, FoldResult, PhaseEvidence, Rate

__all__ = ["CONFIDENCE_BINS", "FoldResult", "PhaseEvidence", "Rate"]
