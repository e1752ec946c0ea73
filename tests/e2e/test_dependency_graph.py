"""A service's dependency graph in a real browser, at 1440 px and at a phone's 390 px: drawn,
its cycle marked, and at 390 px the drawing scrolls inside its box instead of widening the
page."""

import pytest
from playwright.sync_api import expect

from portfolio.models import ServiceDependency
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def hub():
    """Claims handling with two providers (one with its own) and two consumers (one with its
    own); the document store depends on the portal, which depends on claims handling: a
    cycle."""
    make = {
        name: ServiceFactory(name=name)
        for name in (
            "Claims handling",
            "Document store with a long descriptive name",
            "Network",
            "Storage",
            "Customer portal",
            "Broker interface",
            "Mobile app",
        )
    }

    def depend(consumer, provider):
        ServiceDependency.objects.create(consumer=make[consumer], provider=make[provider])

    depend("Claims handling", "Document store with a long descriptive name")
    depend("Claims handling", "Network")
    depend("Document store with a long descriptive name", "Storage")
    depend("Customer portal", "Claims handling")
    depend("Broker interface", "Claims handling")
    depend("Mobile app", "Customer portal")
    depend("Document store with a long descriptive name", "Customer portal")
    return make["Claims handling"]


@pytest.mark.parametrize("width", [1440, 390])
def test_dependency_graph_is_drawn_within_the_screen(page, live_server, login, hub, width):
    UserFactory(username="browser-viewer", role="Viewer")
    page.set_viewport_size({"width": width, "height": 900})
    login("browser-viewer", TEST_PASSWORD)
    page.goto(f"{live_server.url}{hub.get_absolute_url()}")
    graph = page.get_by_role("img", name="Services around Claims handling", exact=False)
    graph.scroll_into_view_if_needed()
    expect(graph).to_be_visible()
    assert page.locator("svg.depgraph-svg .dep-node").count() == 7
    assert page.locator("svg.depgraph-svg .dep-edge-cycle").count() == 3
    box = page.locator(".depgraph-scroll").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    # Nothing of the section reaches past the screen: the drawing scrolls inside its box.
    # (The whole page is not measured here: other sections of the service page are not yet
    # laid out for a phone.)
    wide = page.locator("#dependency-graph").evaluate(
        """section => [...section.querySelectorAll('*')]
            .filter(e => !e.closest('.depgraph-scroll'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName)"""
    )
    assert wide == [], f"{wide} reach past the {width}px screen"
    section = page.locator("#dependency-graph").bounding_box()
    assert section is not None and section["x"] + section["width"] <= width + 1
    scroll = page.locator(".depgraph-scroll")
    inner = scroll.evaluate("box => box.scrollWidth - box.clientWidth")
    if width == 390:
        assert inner > 0  # the drawing is wider than the phone: it scrolls in its box
    else:
        assert inner <= 0
    # A service in the drawing leads to its page; the impact page lists what depends on it.
    page.get_by_role("link", name="What depends on this service").click()
    expect(page.get_by_role("heading", name="What depends on Claims handling")).to_be_visible()
    expect(page.get_by_role("link", name="Mobile app")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the impact page is {overflow}px wider than the {width}px screen"
