"""Statistics over counts: pure functions and small result objects (numpy/scipy only).

Nothing here knows about plans, features or storage; the monitor, the controller and
the readiness check call these with counts. Each method's docstring states its
guarantee and its assumptions, and each guarantee has a simulation test.

- Anytime-valid rates: :class:`ConfidenceSequence`, :func:`promotion_test`,
  :func:`breach_test`, :class:`PromotionCriterion`.
- Drop detection: :class:`CusumDetector` (known baseline),
  :class:`EstimatedBaselineCusum` (baseline estimated from a burn-in).
- AI vs fallback: :class:`MixtureSPRT`.
- Confidence thresholds: :func:`select_threshold` (Learn-then-Test).
- Calibration: :func:`calibration_report`, :func:`brier_score`, :func:`fit_isotonic`.
- Drift: :func:`psi_drift`, :func:`psi_from_counts`, :func:`psi_threshold`,
  :func:`ks_drift`, :func:`overconfidence`, :func:`overconfidence_from_counts`.
- Error slices: :func:`find_error_slices`, :func:`clopper_pearson`.
- Forecast: :func:`forecast_graduation`.
- Event rates per unit of exposure: :func:`poisson_bounds`, :func:`poisson_breach_test`,
  :func:`poisson_promotion_test`.
"""

from trustramp.stats.calibration import (
    CalibrationReport,
    IsotonicMap,
    ReliabilityBin,
    brier_score,
    calibration_report,
    fit_isotonic,
)
from trustramp.stats.confidence_sequence import ConfidenceSequence, bounds_from_counts
from trustramp.stats.criteria import (
    CriterionResult,
    PromotionCriterion,
    breach_test,
    promotion_test,
)
from trustramp.stats.cusum import (
    CusumDesign,
    CusumDetector,
    calibrate_cusum,
    cusum_average_run_length,
)
from trustramp.stats.cusum_estimated import (
    EstimatedBaseline,
    EstimatedBaselineCusum,
    design_from_burn_in,
)
from trustramp.stats.drift import (
    KsResult,
    OverconfidenceResult,
    PsiResult,
    ks_drift,
    overconfidence,
    overconfidence_from_counts,
    psi_drift,
    psi_from_counts,
    psi_threshold,
)
from trustramp.stats.forecast import GraduationForecast, forecast_graduation
from trustramp.stats.poisson import (
    RateCriterionResult,
    poisson_bounds,
    poisson_breach_test,
    poisson_promotion_test,
)
from trustramp.stats.slices import ErrorSlice, SliceReport, clopper_pearson, find_error_slices
from trustramp.stats.threshold import DEFAULT_GRID as DEFAULT_THRESHOLD_GRID
from trustramp.stats.threshold import ThresholdSelection, select_threshold
from trustramp.stats.two_sample import MixtureSPRT

__all__ = [
    "DEFAULT_THRESHOLD_GRID",
    "CalibrationReport",
    "ConfidenceSequence",
    "CriterionResult",
    "CusumDesign",
    "CusumDetector",
    "ErrorSlice",
    "EstimatedBaseline",
    "EstimatedBaselineCusum",
    "GraduationForecast",
    "IsotonicMap",
    "KsResult",
    "MixtureSPRT",
    "OverconfidenceResult",
    "PromotionCriterion",
    "PsiResult",
    "RateCriterionResult",
    "ReliabilityBin",
    "SliceReport",
    "ThresholdSelection",
    "bounds_from_counts",
    "breach_test",
    "brier_score",
    "calibrate_cusum",
    "calibration_report",
    "clopper_pearson",
    "cusum_average_run_length",
    "design_from_burn_in",
    "find_error_slices",
    "fit_isotonic",
    "forecast_graduation",
    "ks_drift",
    "overconfidence",
    "overconfidence_from_counts",
    "poisson_bounds",
    "poisson_breach_test",
    "poisson_promotion_test",
    "promotion_test",
    "psi_drift",
    "psi_from_counts",
    "psi_threshold",
    "select_threshold",
]
