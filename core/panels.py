"""Panels other apps add to a page without the page knowing them: the dashboard, the service
page (value streams a service underpins, its TCO...) and the customer page (its statements).

An app registers its panels in its AppConfig.ready():
    panels.register("service", Panel("TCO", "finance/inc/service_tco.html", context_fn))
``context`` is called with the request (and, for object pages, the object) and returns a dict.

A dashboard panel names the roles (core.roles) it serves: the dashboard shows each of the
signed-in person's roles with its panels, a panel once (under the first of their roles that
lists it), and a panel that names no role to everyone.
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
    roles: tuple[str, ...] = ()


_panels: dict[str, list[Panel]] = {slot: [] for slot in SLOTS}


def register(slot: str, panel: Panel) -> None:
    registered = _panels[slot]
    if all(p.template_name != panel.template_name for p in registered):
        registered.append(panel)
        registered.sort(key=lambda p: p.order)


def render_context(slot: str, *args) -> list[tuple[Panel, dict]]:
    """Each panel of ``slot`` with its context, ready for ``{% include %}``."""
    return [(panel, panel.context(*args)) for panel in _panels[slot]]


def dashboard_sections(request, roles: list[str]) -> list[tuple[str, list[tuple[Panel, dict]]]]:
    """The dashboard of someone holding ``roles`` (in core.roles order): (heading, panels with
    their context) per role that has panels, then the panels for everyone under "Everyone".
    Each panel's context is computed once."""
    shown: set[str] = set()
    sections = []
    for heading, wanted in [*((role, role) for role in roles), ("Everyone", None)]:
        chosen = [
            panel
            for panel in _panels["dashboard"]
            if panel.template_name not in shown
            and (wanted in panel.roles if wanted else not panel.roles)
        ]
        shown.update(panel.template_name for panel in chosen)
        if chosen:
            sections.append((heading, [(panel, panel.context(request)) for panel in chosen]))
    return sections
