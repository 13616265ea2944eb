"""The school-readiness risk model: train, validate on a later cohort, calibrate, score, flag.

Estimator
---------
:class:`RiskModel` is a scikit-learn classifier: gradient boosting of stumps (histogram
gradient-boosted trees of one split each, missing values handled natively, e.g. "months
since the last housing event" when there was none), so the model is a sum of one step
function per feature, an additive model whose steps are learnt from the data; with Platt
(sigmoid) calibration fitted by cross-validation in which every fold holds whole
households, so siblings never sit on both sides; the five fold models and their
calibrators are averaged. Both choices were made on the family of synthetic worlds
(``scripts/bench_validity.py``, 22 worlds), not on one (see :class:`RiskModel`).

Validation
----------
:func:`validate` trains on every labelled cohort but the latest and tests on the latest
(never a random split), beside two baselines: logistic regression on the same features,
and an area-only model (deprivation of the child's LSOA alone), which shows what linked
household data adds. Metrics: AUC, average precision, Brier score, calibration slope and
intercept (slope from a logistic fit of the outcome on the logit of the prediction;
intercept with the slope fixed at 1), expected calibration error (ECE over ten
equal-count bins) and precision and recall at capacity on the test cohort.

Scoring
-------
The final model is refitted on every labelled cohort. Children aged 0-4 at the reference
date are scored; a household's score is the probability that at least one of its
under-fives does not reach GLD, ``1 - prod(1 - p)``. The top ``k`` households are flagged
(``k``: a share of households, a number, or a minimum score) and split into
*known* (a social care or early help episode open, or ended within ``known_within_months``)
and *previously unknown*.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from geo_risk import columns as C
from geo_risk._errors import ModelError
from geo_risk.columns import HOUSEHOLD
from geo_risk.model.features import LABEL

__all__ = [
    "DEFAULT_CAPACITY",
    "KNOWN_WITHIN_MONTHS",
    "Capacity",
    "RiskModel",
    "Validation",
    "calibration",
    "calibration_slope",
    "expected_calibration_error",
    "feature_columns",
    "flag_households",
    "household_folds",
    "outcome_metrics",
    "score_households",
    "validate",
]

log = logging.getLogger(__name__)

#: Columns of the child table that are identifiers, bookkeeping or the label, never features.
_NOT_FEATURES = {"child_key", HOUSEHOLD, "role", "as_of", "academic_year", LABEL, C.OA, C.LSOA,
                 C.WARD, C.DEPRIVATION_DECILE, "sc_months_since_end"}
AREA_FEATURES = [C.DEPRIVATION]


def feature_columns(children: pd.DataFrame) -> list[str]:
    """The model's features: every child-table column that is not an id, label or area code.

    Parameters
    ----------
    children : DataFrame
        The child feature table.

    Returns
    -------
    list of str
        Its feature columns, in its order.
    """
    return [c for c in children.columns if c not in _NOT_FEATURES]


def _matrix(children: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    return children[features].astype(float)


def household_folds(X, y, groups, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` cross-validation folds keeping each household (``groups``) whole, households
    taken in the order they first appear: never in the order of their pseudonymised keys,
    so the folds, and the model, are the same under any project key."""
    return list(GroupKFold(n).split(X, y, pd.factorize(np.asarray(groups))[0]))


class RiskModel(ClassifierMixin, BaseEstimator):
    """Calibrated boosted stumps for the risk of not reaching GLD.

    500 rounds of stumps (learning rate 0.1, leaves of at least 100 children, L2 penalty
    1) with Platt (sigmoid) calibration over household-grouped folds. Chosen on the family
    of synthetic worlds (``scripts/bench_validity.py``, 22 worlds), not on one. Depth-2
    trees (100 rounds at 0.05) ranked below logistic regression on 10 of the 22 worlds (by
    up to 0.008 AUC) and missed the oracle's ECE + 0.015 on 2; stumps rank below it on 5 (by
    up to 0.004), meet the ECE line on all 22, and take the median AUC from 0.990 to 0.994
    of the records ceiling's. (With area results shrunk alike at every refresh and folds
    by :func:`household_folds`: below it on 5, by up to 0.005; the ECE line on all 22.)
    Before that, isotonic calibration of less regularised trees made the next cohort's
    predictions too extreme (calibration slope median 0.90).

    Boosted stumps are scored as the step functions they are (:class:`_Steps`): the same
    probabilities, 2.9 s against scikit-learn's 104 s for 894,320 children.

    Parameters
    ----------
    max_iter, learning_rate, max_depth, min_samples_leaf, l2_regularization
        Passed to :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
    calibration_folds
        Cross-validation folds for the sigmoid calibration; folds keep households whole.
    random_state
        Seed of the boosting.

    Attributes
    ----------
    features_ : list of str
    calibrated_ : CalibratedClassifierCV
    classes_ : ndarray
    steps_ : _Steps or None
        The fold models as step functions (stumps only, ``max_depth=1``).
    """

    def __init__(self, *, max_iter: int = 500, learning_rate: float = 0.1, max_depth: int = 1,
                 min_samples_leaf: int = 100, l2_regularization: float = 1.0,
                 calibration_folds: int = 5, random_state: int = 0) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y, groups=None) -> RiskModel:
        """Fit on features ``X`` (a DataFrame), outcome ``y`` (True = GLD not reached) and
        ``groups`` (household keys; folds never split a household)."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError("X must be a DataFrame of named features")
        y = np.asarray(y, dtype=bool)
        if len(np.unique(y)) < 2:
            raise ModelError("the training labels hold one outcome only; the model needs children "
                             "who reached a good level of development and children who did not")
        groups = np.arange(len(X)) if groups is None else groups
        X = X.loc[:, X.notna().any()]  # a feature never seen yet (e.g. no results) says nothing
        self.features_ = list(X.columns)
        booster = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
            random_state=self.random_state)
        folds = household_folds(X, y, groups, self.calibration_folds)
        self.calibrated_ = CalibratedClassifierCV(booster, method="sigmoid", cv=folds,
                                                  ensemble=True)
        self.calibrated_.fit(X.astype(float), y)
        self.classes_ = self.calibrated_.classes_
        self.steps_ = _Steps.of(self.calibrated_) if self.max_depth == 1 else None
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities, kept within [0.01, 0.99]: no child's outcome is that
        certain."""
        check_is_fitted(self, "calibrated_")
        X = X[self.features_].astype(float)
        steps = getattr(self, "steps_", None)  # none in a model saved by an earlier version
        p = steps.predict(X.to_numpy()) if steps else self.calibrated_.predict_proba(X)[:, 1]
        p = np.clip(p, 0.01, 0.99)
        return np.column_stack([1 - p, p])


class _Steps:
    """The calibrated fold models of boosted stumps (trees of one split), each a sum of one
    step function per feature, evaluated as such: one sorted search per feature for all
    folds, whatever the number of rounds. Equal to scikit-learn's ``predict_proba`` (the
    test says so) in a small part of its time, which matters where every refresh's
    under-fives of a county are scored."""

    def __init__(self, base, a, b, steps):
        self.base, self.a, self.b = base, a, b  # per fold: raw baseline, sigmoid a and b
        self.steps = steps  # (feature, thresholds, values [interval, fold], if missing [fold])

    @classmethod
    def of(cls, calibrated: CalibratedClassifierCV) -> _Steps | None:
        """The step functions of fitted fold models; None when scikit-learn's fitted trees
        are not in the form read here (another version), and they score as usual."""
        try:
            return cls._read(calibrated)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            log.info("boosted stumps scored by scikit-learn (its trees are not in the "
                     "form geo-risk reads)")
            return None

    @classmethod
    def _read(cls, calibrated: CalibratedClassifierCV) -> _Steps:
        folds = calibrated.calibrated_classifiers_
        base = np.array([float(np.ravel(c.estimator._baseline_prediction)[0]) for c in folds])
        splits = []  # fold, feature, threshold, left value - right value, right, missing left
        for k, c in enumerate(folds):
            for (tree,) in c.estimator._predictors:
                root = tree.nodes[0]
                if root["is_leaf"]:
                    base[k] += root["value"]
                    continue
                left, right = tree.nodes[root["left"]], tree.nodes[root["right"]]
                if root["is_categorical"] or not (left["is_leaf"] and right["is_leaf"]):
                    raise ValueError("not a stump")
                left, right = left["value"], right["value"]
                splits.append((k, root["feature_idx"], root["num_threshold"], left - right,
                               right, root["missing_go_to_left"]))
        s = np.array(splits, dtype=float).reshape(-1, 6)
        fold, n = s[:, 0].astype(int), len(folds)
        steps = []
        for f in np.unique(s[:, 1]).astype(int):
            here = s[:, 1] == f
            thresholds, j = np.unique(s[here, 2], return_inverse=True)
            # x goes left (x <= threshold j) exactly when fewer than j + 1 thresholds lie
            # below it: values[i] = every right value + the left-right differences of j >= i
            diff = np.zeros((len(thresholds) + 1, n))
            np.add.at(diff, (j, fold[here]), s[here, 3])
            right = np.bincount(fold[here], s[here, 4], minlength=n)
            values = right + np.cumsum(diff[::-1], axis=0)[::-1]
            missing = right + np.bincount(fold[here], s[here, 3] * s[here, 5], minlength=n)
            steps.append((f, thresholds, values, missing))
        a = np.array([c.calibrators[0].a_ for c in folds])
        b = np.array([c.calibrators[0].b_ for c in folds])
        return cls(base, a, b, steps)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The folds' mean calibrated probability (scikit-learn's, for binary labels)."""
        raw = np.tile(self.base, (len(X), 1))
        for f, thresholds, values, missing in self.steps:
            x = X[:, f]
            part = values[np.searchsorted(thresholds, x, side="left")]
            part[np.isnan(x)] = missing
            raw += part
        return expit(-(raw * self.a + self.b)).mean(axis=1)


def expected_calibration_error(y, p, *, bins: int = 10) -> float:
    """ECE over ``bins`` equal-count bins: mean |observed rate - mean prediction|, weighted."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    parts = np.array_split(order, bins)
    return float(sum(len(b) * abs(y[b].mean() - p[b].mean()) for b in parts if len(b)) / len(p))


def _logits(p) -> np.ndarray:
    return logit(np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6))


def calibration_slope(y, p) -> float:
    """Calibration slope: the coefficient of a logistic fit of the outcome on logit p
    (maximum likelihood by Newton's method: two parameters, a few steps)."""
    y, z = np.asarray(y, dtype=float), _logits(p)
    x = np.column_stack([np.ones_like(z), z])
    beta = np.zeros(2)
    for _ in range(50):
        q = expit(x @ beta)
        step = np.linalg.solve((x * (q * (1 - q))[:, None]).T @ x, x.T @ (y - q))
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return float(beta[1])


def calibration(y, p) -> tuple[float, float]:
    """Calibration slope (logistic fit on logit p) and intercept (slope fixed at 1)."""
    z, mean = _logits(p), float(np.mean(np.asarray(y, dtype=float)))
    intercept = brentq(lambda a: expit(z + a).mean() - mean, -10, 10)
    return calibration_slope(y, p), float(intercept)


def outcome_metrics(y: ArrayLike, p: ArrayLike, k: int) -> dict[str, float]:
    """Ranking, calibration and precision among the top ``k`` of scores ``p`` against
    outcomes ``y`` (True = not school ready).

    Parameters
    ----------
    y : array-like of bool
        Outcomes.
    p : array-like of float
        Predicted probabilities.
    k : int
        How many are flagged.

    Returns
    -------
    dict of str to float
        ``auc``, ``average_precision``, ``brier``, ``calibration_slope``,
        ``calibration_intercept``, ``ece``, ``precision_at_k`` and ``recall_at_k``.
    """
    y = np.asarray(y, dtype=bool)
    top = np.argsort(-np.asarray(p), kind="stable")[:k]
    slope, intercept = calibration(y, p)
    return {
        "auc": float(roc_auc_score(y, p)),
        "average_precision": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "ece": expected_calibration_error(y, p),
        "precision_at_k": float(y[top].mean()),
        "recall_at_k": float(y[top].sum() / max(y.sum(), 1)),
    }


@dataclass
class Validation:
    """Temporal validation: metrics per model on the latest labelled cohort."""

    train_cohorts: list[str]
    test_cohort: str
    n_train: int
    n_test: int
    k_test: int
    metrics: pd.DataFrame  # rows: model; columns: metric
    test: pd.DataFrame  # the test cohort's children with ``p`` (model), ``p_logistic``


def validate(children: pd.DataFrame, *, flag_share: float = 0.05,
             random_state: int = 0) -> Validation:
    """Train on earlier labelled cohorts, test on the latest; the two baselines beside.

    ``flag_share`` sets the capacity on the test cohort (the share of its children flagged).

    Parameters
    ----------
    children : DataFrame
        The child feature table with its labelled cohorts.
    flag_share : float
        The share of the test cohort flagged, as at capacity.
    random_state : int
        Seed of the model and the bootstrap of the hold-out cohort.

    Returns
    -------
    Validation
        The metrics of the model and both baselines, and the scored test cohort.
    """
    labelled = children[children["role"] == "labelled"]
    cohorts = sorted(labelled["academic_year"].unique())
    if len(cohorts) < 2:
        raise ModelError(f"temporal validation needs two labelled cohorts; found {cohorts}")
    test_mask = (labelled["academic_year"] == cohorts[-1]).to_numpy()
    train, test = labelled[~test_mask], labelled[test_mask]
    features = feature_columns(children)
    y_train, y_test = train[LABEL].astype(bool), test[LABEL].astype(bool)
    k = max(1, math.ceil(flag_share * len(test)))

    model = RiskModel(random_state=random_state).fit(
        _matrix(train, features), y_train, groups=train[HOUSEHOLD])
    p_model = model.predict_proba(_matrix(test, features))[:, 1]
    logistic = make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                             StandardScaler(), LogisticRegression(max_iter=2000))
    logistic.fit(_matrix(train, features), y_train)
    p_logistic = logistic.predict_proba(_matrix(test, features))[:, 1]
    rows = {"gradient boosting (calibrated)": outcome_metrics(y_test, p_model, k),
            "logistic regression": outcome_metrics(y_test, p_logistic, k)}
    area = [c for c in AREA_FEATURES if c in children]
    if area:
        area_model = LogisticRegression().fit(_matrix(train, area), y_train)
        rows["area only (deprivation)"] = outcome_metrics(
            y_test, area_model.predict_proba(_matrix(test, area))[:, 1], k)
    metrics = pd.DataFrame(rows).T
    log.info("validation on %s: AUC %.3f (%d children)", cohorts[-1],
             metrics.iloc[0]["auc"], len(test))
    return Validation(cohorts[:-1], cohorts[-1], len(train), len(test), k, metrics,
                      test.assign(p=p_model, p_logistic=p_logistic))


@dataclass(frozen=True)
class Capacity:
    """How many households to flag: a share of those scored, a number, or a minimum score."""

    share: float | None = 0.05
    number: int | None = None
    min_score: float | None = None

    def k(self, scores: pd.Series) -> int:
        if self.number is not None:
            return min(self.number, len(scores))
        if self.min_score is not None:
            return int((scores >= self.min_score).sum())
        return math.ceil((self.share or 0.0) * len(scores))

    def describe(self, withhold_up_to: int = 0,
                 households: str = "households with under-fives") -> str:
        """The capacity in words; a number of ``withhold_up_to`` or fewer households is
        not given (it is the count flagged). ``households``: those scored, in words."""
        if self.number is not None and self.number <= withhold_up_to:
            return f"the few highest-scoring households (fewer than {withhold_up_to + 1})"
        if self.number is not None:
            return f"the {self.number:,} highest-scoring households"
        if self.min_score is not None:
            return f"households scoring at least {self.min_score:.0%}"
        return f"the top {(self.share or 0.0) * 100:.3g}% of {households}"


#: Flag the top 5% of households with under-fives.
DEFAULT_CAPACITY = Capacity()
#: "Known" to children's services: an episode open, or ended within this many months.
KNOWN_WITHIN_MONTHS = 24.0


def score_households(model: RiskModel, children: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Score current children; return child probabilities and one row per household.

    The household frame has ``household_key``, ``score`` (probability that at least one
    under-five does not reach GLD), ``children`` and the area codes, ordered by score.

    Parameters
    ----------
    model : RiskModel
        The fitted model.
    children : DataFrame
        The child feature table (its ``current`` children are scored).

    Returns
    -------
    p : Series
        Each current child's probability.
    households : DataFrame
        One row per household.
    """
    current = children[children["role"] == "current"]
    p = pd.Series(model.predict_proba(current)[:, 1], index=current.index, name="p")
    area = [c for c in [C.OA, C.LSOA, C.WARD] if c in current]
    households = (current[[HOUSEHOLD, *area]].assign(q=np.log1p(-p))
                  .groupby(HOUSEHOLD, sort=True)
                  .agg(**{"q": ("q", "sum"), "children": ("q", "size")},
                       **{c: (c, "first") for c in area}))
    households["score"] = -np.expm1(households.pop("q"))
    households = households.reset_index().sort_values(
        ["score", HOUSEHOLD], ascending=[False, True], kind="stable").reset_index(drop=True)
    return p, households


def flag_households(households: pd.DataFrame, tables_households: pd.DataFrame, *,
                    capacity: Capacity = DEFAULT_CAPACITY,
                    known_within_months: float = KNOWN_WITHIN_MONTHS
                    ) -> pd.DataFrame:
    """Flag the top ``k`` households and mark which are known to children's services.

    ``tables_households`` is the household feature table at the reference date (for the
    social care history). Adds ``rank``, ``flagged`` and ``known``.

    Parameters
    ----------
    households : DataFrame
        Scored households (:func:`score_households`).
    tables_households : DataFrame
        The household feature table.
    capacity : Capacity
        How many to flag.
    known_within_months : float
        An episode ended this recently still counts as known.

    Returns
    -------
    DataFrame
        ``households`` with ``rank``, ``flagged`` and ``known``.
    """
    k = capacity.k(households["score"])
    since_end = tables_households.set_index(HOUSEHOLD).get("sc_months_since_end")
    since = (since_end.reindex(households[HOUSEHOLD]).to_numpy() if since_end is not None
             else np.full(len(households), np.nan))
    out = households.assign(rank=np.arange(1, len(households) + 1),
                            flagged=np.arange(len(households)) < k,
                            known=np.nan_to_num(since, nan=np.inf) <= known_within_months)
    return out
