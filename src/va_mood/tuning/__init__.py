"""Hyperparameter studies: one optuna study per head, scored by grouped cross-validation.

Each head (valence, arousal) is tuned on its own axis only, in its own study, over its own
search space (:mod:`~va_mood.tuning.space`): the estimator family, the family's parameters
and, optionally, which feature groups the head hears. The objective
(:mod:`~va_mood.tuning.objective`) scores the real model with the evaluation protocol's own
code; :mod:`~va_mood.tuning.studies` runs and resumes studies, :mod:`~va_mood.tuning.results`
reads what they found.
"""

from .interrupts import Interrupts
from .objective import METRICS, make_objective
from .results import (
    best_config,
    param_importances,
    study_summaries,
    tuned_trials,
    tuning_record,
    write_plots,
)
from .space import (
    FamilySpace,
    HeadSpace,
    ParamSpec,
    SearchSpace,
    load_search_space,
    search_space_from_dict,
    suggest_head,
)
from .studies import (
    DEFAULT_PREFIX,
    TuningError,
    open_study,
    storage_exists,
    study_name,
    tune_head,
)

__all__ = [
    "storage_exists",
    "DEFAULT_PREFIX",
    "METRICS",
    "Interrupts",
    "TuningError",
    "ParamSpec",
    "FamilySpace",
    "HeadSpace",
    "SearchSpace",
    "load_search_space",
    "search_space_from_dict",
    "suggest_head",
    "make_objective",
    "open_study",
    "tune_head",
    "study_name",
    "tuned_trials",
    "best_config",
    "tuning_record",
    "study_summaries",
    "param_importances",
    "write_plots",
]
