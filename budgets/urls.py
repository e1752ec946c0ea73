from django.urls import path

from budgets import models
from budgets import views
from core.generic import model_paths

app_name = "budgets"

urlpatterns = [
    path("costs/budgets/<int:pk>/build/", views.BuildView.as_view(), name="build"),
    path("costs/budgets/<int:pk>/roll-up/", views.RollUpView.as_view(), name="roll_up"),
    path("costs/budgets/<int:pk>/approve/", views.ApproveView.as_view(), name="approve"),
    path("costs/budgets/<int:pk>/new-draft/", views.NewDraftView.as_view(), name="new_draft"),
    *model_paths(
        "costs/budgets/lines/",
        models.BudgetLine,
        name="line",
        add_route="costs/budgets/<int:version>/lines/new/",
    ),
    *model_paths("costs/budgets/", models.BudgetVersion),
    path(
        "costs/scenarios/<int:pk>/draft/", views.ScenarioDraftView.as_view(), name="scenario_draft"
    ),
    *model_paths(
        "costs/scenarios/",
        models.Scenario,
        add_route="costs/budgets/<int:version>/scenarios/new/",
    ),
    *model_paths(
        "costs/scenarios/<int:scenario>/changes/",
        models.ScenarioChange,
        name="scenario_change",
        add_route="costs/scenarios/<int:scenario>/changes/new/",
    ),
]
