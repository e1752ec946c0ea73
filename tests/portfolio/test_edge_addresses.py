"""An edge's "change from month" page finds the edge only under the parent its address
names, as the edge's other pages do: another service's, application's or contract's address
with this edge's id answers 404 and changes nothing."""

import pytest
from django.urls import reverse

from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory


def dependency():
    edge = ServiceDependencyFactory()
    return edge, "portfolio:dependency_change_from_month", edge.consumer.slug, ServiceFactory().slug


def support():
    edge = ApplicationSupportFactory()
    other = ApplicationFactory().slug
    return edge, "portfolio:support_change_from_month", edge.application.slug, other


def coverage():
    edge = ContractCoverageFactory()
    return edge, "portfolio:coverage_change_from_month", edge.contract.pk, ContractFactory().pk


@pytest.mark.django_db
@pytest.mark.parametrize("make", [dependency, support, coverage], ids=lambda f: f.__name__)
def test_the_page_answers_only_under_the_edges_own_parent(client, portfolio_manager, make):
    edge, name, parent, other_parent = make()
    client.force_login(portfolio_manager)
    form = {"month": "2025-04", "weight": "3"}

    assert client.get(reverse(name, args=[parent, edge.pk])).status_code == 200
    wrong = reverse(name, args=[other_parent, edge.pk])
    assert client.get(wrong).status_code == 404
    assert client.post(wrong, form).status_code == 404
    assert type(edge).objects.count() == 1
    edge.refresh_from_db()
    assert edge.valid_to is None
