"""Readiness: the checklist a plan writes before launch, evaluated on a held-out file."""

from trustramp.readiness.evaluation import (
    MAX_BYTES,
    MAX_ROWS,
    EvalFileError,
    EvalProblem,
    EvalSet,
    load_eval_file,
)

__all__ = ["MAX_BYTES", "MAX_ROWS", "EvalFileError", "EvalProblem", "EvalSet", "load_eval_file"]
