"""Panels other apps add to a page without the page knowing them: the dashboard, the service
page (value streams a service underpins, its TCO...) and the customer page (its statements).

An app registers its panels in its AppConfig.ready():
    panels.register("service", Panel("TCO", "finance/inc/service_tco.html", context_fn))
``context`` is called with the request (and, for object pages, the object) and returns a dict.
"""

from collections.abc import Callable
from dataclasses import dataclass

SLOTS = ("dashboard", "service", "customer")


@dataclass(frozen=True)
class Panel:
    title: str
    template_name: str
    context: Callable
    order: int = 100


_panels: dict[str, list[Panel]] = {slot: [] for slot in SLOTS}


def register(slot: str, panel: Panel) -> None:
    registered = _panels[slot]
    if all(p.template_name != panel.template_name for p in registered):
        registered.append(panel)
        registered.sort(key=lambda p: p.order)


def render_context(slot: str, *args) -> list[tuple[Panel, dict]]:
    """Each panel of ``slot`` with its context, ready for ``{% include %}``."""
    return [(panel, panel.context(*args)) for panel in _panels[slot]]
