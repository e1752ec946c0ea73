"""A service's dependency neighbourhood drawn on its page, and what depends on it."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from portfolio import graphs
from portfolio.models import ServiceDependency
from tests.factories.portfolio import ServiceFactory
from tests.portfolio.helpers import queries_for


def depend(consumer, provider, **dates):
    return ServiceDependency.objects.create(consumer=consumer, provider=provider, **dates)


@pytest.fixture
def web(db):
    """hub depends on db and net; db on storage; app and portal on hub; mobile on app;
    storage on portal closes a cycle hub → db → storage → portal → hub. An ended dependency
    of hub on legacy is not in force."""
    names = ["hub", "db", "net", "storage", "app", "portal", "mobile", "legacy", "far"]
    s = {name: ServiceFactory(name=name.capitalize(), slug=name) for name in names}
    depend(s["hub"], s["db"])
    depend(s["hub"], s["net"])
    depend(s["db"], s["storage"])
    depend(s["app"], s["hub"])
    depend(s["portal"], s["hub"])
    depend(s["mobile"], s["app"])
    depend(s["storage"], s["portal"])
    depend(s["far"], s["mobile"])  # three levels up from hub: impact only
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    depend(s["hub"], s["legacy"], valid_to=yesterday)
    return s


def levels_of(graph) -> dict[str, int]:
    return {node.name: node.level for node in graph.nodes}


@pytest.mark.django_db
def test_neighbourhood_levels_edges_and_cycle(web):
    graph = graphs.neighbourhood(web["hub"])
    assert levels_of(graph) == {
        "Hub": 0,
        "Db": -1,
        "Net": -1,
        "Storage": -2,
        "App": 1,
        "Portal": 1,  # consumer of hub and (two steps) provider: the nearer side
        "Mobile": 2,
    }
    edges = {(e.provider.name, e.consumer.name): e.in_cycle for e in graph.edges}
    assert edges == {
        ("Db", "Hub"): True,
        ("Net", "Hub"): False,
        ("Storage", "Db"): True,
        ("Hub", "App"): False,
        ("Hub", "Portal"): True,
        ("App", "Mobile"): False,
        ("Portal", "Storage"): True,
    }
    cycle = {node.name for node in graph.nodes if node.in_cycle}
    assert cycle == {"Hub", "Db", "Storage", "Portal"}
    assert graph.in_cycle
    assert graph.size == 6


@pytest.mark.django_db
def test_service_page_draws_the_graph_and_lists_it(client, viewer, web):
    client.force_login(viewer)
    response = client.get(web["hub"].get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    svg = html[html.index('<svg class="depgraph-svg"') : html.index("</svg>")]
    assert "Legacy" not in svg  # the ended dependency is not drawn
    assert "Far" not in svg  # three levels away
    drawn = re.findall(r'data-provider="(\d+)" data-consumer="(\d+)"', svg)
    assert (str(web["db"].pk), str(web["hub"].pk)) in drawn
    assert len(drawn) == 7
    assert svg.count("dep-edge-cycle") == 4
    assert "<title>Storage</title>" in svg
    assert reverse("portfolio:service_impact", args=["hub"]) in html
    listing = html[html.index('class="depgraph-list"') :]
    assert "Mobile" in listing and "Storage" in listing


@pytest.mark.django_db
def test_long_names_are_shortened_with_the_whole_name_in_the_tooltip(client, viewer):
    long = "Enterprise identity and access management platform"
    hub = ServiceFactory(name="Hub", slug="hub")
    depend(hub, ServiceFactory(name=long))
    client.force_login(viewer)
    html = client.get(hub.get_absolute_url()).content.decode()
    assert f"<title>{long}</title>" in html
    assert ">" + graphs.shorten(long) + "</text>" in html


@pytest.mark.django_db
def test_a_service_without_dependencies_says_so(client, viewer):
    alone = ServiceFactory(name="Alone", slug="alone")
    client.force_login(viewer)
    html = client.get(alone.get_absolute_url()).content.decode()
    assert "No dependency in force connects this service" in html
    assert "depgraph-svg" not in html


@pytest.mark.django_db
def test_large_levels_are_grouped(db):
    hub = ServiceFactory(name="Hub")
    for n in range(graphs.PER_LEVEL + 5):
        depend(ServiceFactory(name=f"Consumer {n:02}"), hub)
    graph = graphs.neighbourhood(hub)
    consumers = next(column for column in graph.columns if column.level == 1)
    assert len(consumers.nodes) == graphs.PER_LEVEL + 1
    assert consumers.nodes[-1].name == "and 5 more"
    assert consumers.hidden == 5
    assert graph.size == graphs.PER_LEVEL + 5
    # One edge from the hub to the group stands for the five hidden ones.
    assert len(graph.edges) == graphs.PER_LEVEL + 1


def neighbours(hub, count: int):
    """``count`` providers and consumers around ``hub``, each with one of its own."""
    for _ in range(count):
        provider = ServiceFactory()
        depend(hub, provider)
        depend(provider, ServiceFactory())
        consumer = ServiceFactory()
        depend(consumer, hub)
        depend(ServiceFactory(), consumer)


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_neighbourhood(client, viewer):
    small, large = ServiceFactory(name="Small"), ServiceFactory(name="Large")
    neighbours(small, 2)
    neighbours(large, 20)
    client.force_login(viewer)
    for name in ("service_detail", "service_impact"):
        few = queries_for(client, reverse(f"portfolio:{name}", args=[small.slug]))
        many = queries_for(client, reverse(f"portfolio:{name}", args=[large.slug]))
        assert few == many, name


@pytest.mark.django_db
def test_impact_lists_every_dependant_by_level(client, viewer, web):
    levels = graphs.impact(web["hub"])
    found = {level.level: sorted(s.name for s in level.services) for level in levels}
    # storage reaches hub through portal: it and db (on storage) depend on hub too.
    assert found == {1: ["App", "Portal"], 2: ["Mobile", "Storage"], 3: ["Db", "Far"]}
    assert [level.count for level in levels] == [2, 2, 2]
    client.force_login(viewer)
    response = client.get(reverse("portfolio:service_impact", args=["hub"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Legacy" not in html and "Net" not in html
    assert re.search(r"<th>All</th><th class=\"num\">6</th>", html)


@pytest.mark.django_db
def test_impact_of_a_service_nothing_depends_on(client, viewer, web):
    client.force_login(viewer)
    html = client.get(reverse("portfolio:service_impact", args=["mobile"])).content.decode()
    assert "Far" in html
    html = client.get(reverse("portfolio:service_impact", args=["far"])).content.decode()
    assert "No service depends on this one." in html


@pytest.mark.django_db
def test_impact_needs_a_login_and_an_existing_service(client, viewer, web):
    url = reverse("portfolio:service_impact", args=["hub"])
    assert client.get(url).status_code == 302
    client.force_login(viewer)
    assert client.get(reverse("portfolio:service_impact", args=["nope"])).status_code == 404
