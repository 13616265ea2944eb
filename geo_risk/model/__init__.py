"""Households to risk: what is predicted (the outcome contract), features as of a date,
the estimator and its validation, the reasons behind each flag, and the fairness audit.

A model saved before these modules became a package (``geo_risk.model.RiskModel``) loads:
the estimator is re-exported here.
"""

from geo_risk.model.estimator import (
    DEFAULT_CAPACITY,
    KNOWN_WITHIN_MONTHS,
    Capacity,
    RiskModel,
    Validation,
    calibration,
    calibration_slope,
    expected_calibration_error,
    feature_columns,
    flag_households,
    household_folds,
    outcome_metrics,
    score_households,
    validate,
)
from geo_risk.model.fairness import (
    FAIRNESS_COUNTS,
    audit_fairness,
)
from geo_risk.model.features import (
    LABEL,
    FeatureTables,
    build_feature_tables,
    current_children,
    dates_without_under_fives,
    household_features,
    published_on,
)
from geo_risk.model.outcomes import (
    DEFAULT_OUTCOME,
    OUTCOMES,
    SCHOOL_READINESS,
    Outcome,
    get_outcome,
)
from geo_risk.model.reasons import (
    FACTORS,
    FEATURE_WORDS,
    explain_households,
    feature_words,
)

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_OUTCOME",
    "FACTORS",
    "FAIRNESS_COUNTS",
    "FEATURE_WORDS",
    "KNOWN_WITHIN_MONTHS",
    "LABEL",
    "OUTCOMES",
    "SCHOOL_READINESS",
    "Capacity",
    "FeatureTables",
    "Outcome",
    "RiskModel",
    "Validation",
    "audit_fairness",
    "build_feature_tables",
    "calibration",
    "calibration_slope",
    "current_children",
    "dates_without_under_fives",
    "expected_calibration_error",
    "explain_households",
    "feature_columns",
    "feature_words",
    "flag_households",
    "get_outcome",
    "household_features",
    "household_folds",
    "outcome_metrics",
    "published_on",
    "score_households",
    "validate",
]


def __getattr__(name: str):
    """What a model pickled before this package existed names at ``geo_risk.model`` (the
    estimator's private steps among them) is the estimator module's."""
    from geo_risk.model import estimator

    try:
        return getattr(estimator, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
