"""A stage that carried cost in a computed month can still be removed from the map: the
month's figures keep their amount (the stream's cost does not change), without the stage."""

from decimal import Decimal

import pytest
from django.urls import reverse

from finance import services
from finance.models import StageCost
from finance.models import ValueStreamCost
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import StageServiceFactory


@pytest.mark.django_db
def test_a_stage_with_computed_costs_is_removed_and_the_months_keep_their_figures(
    client, portfolio_manager
):
    claims = ServiceFactory(name="Claims")
    report, pay = StageFactory(name="Report"), None
    pay = StageFactory(name="Pay", value_stream=report.value_stream)
    StageServiceFactory(stage=report, service=claims)
    StageServiceFactory(stage=pay, service=claims)
    march = PeriodFactory(year=2025, month=3)
    CostItemFactory(period=march, service=claims, amount=Decimal("100.00"))
    services.close_period(period=march)
    assert StageCost.objects.filter(stage=pay).get().cost == Decimal("50.00")

    client.force_login(portfolio_manager)
    stream = report.value_stream
    response = client.post(reverse("valuestreams:stage_remove", args=[stream.slug, pay.pk]))

    assert response.status_code == 302
    assert not stream.stages.filter(pk=pay.pk).exists()
    assert ValueStreamCost.objects.get(period=march).cost == Decimal("100.00")
    assert sorted(
        (cost.stage_id is None, cost.cost)
        for cost in StageCost.objects.filter(stream_cost__period=march)
    ) == [(False, Decimal("50.00")), (True, Decimal("50.00"))]
    assert client.get(stream.get_absolute_url()).status_code == 200
