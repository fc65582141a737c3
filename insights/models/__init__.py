"""The insights app's models: team cost, scores, metrics, budgets, anomalies, forecasts
and notifications."""

from insights.models.anomalies import (
    ANOMALY_DIMENSIONS,
    ROOT_CAUSE_DIMENSIONS,
    Anomaly,
    AnomalyMonitor,
)
from insights.models.base import (
    BusinessMetric,
    ImportedRecommendation,
    ScoreSettings,
    TeamCostBinding,
    TeamScore,
)
from insights.models.budgets import Budget, BudgetAlert, BudgetThreshold
from insights.models.forecasts import FORECAST_SCOPES, StoredForecast
from insights.models.notifications import (
    NOTIFICATION_EVENTS,
    NotificationDelivery,
    NotificationEndpoint,
)

__all__ = [
    "ANOMALY_DIMENSIONS",
    "FORECAST_SCOPES",
    "NOTIFICATION_EVENTS",
    "ROOT_CAUSE_DIMENSIONS",
    "Anomaly",
    "AnomalyMonitor",
    "Budget",
    "BudgetAlert",
    "BudgetThreshold",
    "BusinessMetric",
    "ImportedRecommendation",
    "NotificationDelivery",
    "NotificationEndpoint",
    "ScoreSettings",
    "StoredForecast",
    "TeamCostBinding",
    "TeamScore",
]
