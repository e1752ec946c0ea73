"""Dashboard panels: each app registers what it shows on the dashboard in its AppConfig.ready."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    title: str
    template_name: str
    context: Callable  # (request) -> dict
    order: int = 100


_panels: list[Panel] = []


def register(panel: Panel) -> None:
    if all(p.template_name != panel.template_name for p in _panels):
        _panels.append(panel)
        _panels.sort(key=lambda p: p.order)


def panels() -> list[Panel]:
    return list(_panels)
