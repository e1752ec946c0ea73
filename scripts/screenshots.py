"""Screenshots of the dashboard of each role, of a service's dependency graph, of a value
stream map and of the Fund services flow chart, from the demo organisation, for
docs/screenshots/.

    DATABASE_URL=postgresql://.../portico_screens SECRET_KEY=... \
        .venv/bin/python scripts/screenshots.py

Migrates the database DATABASE_URL names and loads the demo organisation into it (loading
again changes nothing), collects the static files, serves Portico on a free loopback port from
this process, signs in as one demo person per role in Debian's Chromium (Playwright) and saves
one PNG per role, 1440 px wide and reduced to 256 colours (small enough to commit), into
docs/screenshots/. Use a database of its own: the demo is written into it.
"""

import argparse
import os
import socket
import sys
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler
from wsgiref.simple_server import WSGIServer
from wsgiref.simple_server import make_server

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Quiet and offline: no updates, sync, QUIC or look-ups of outside hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
# One demo person per role (core/demo.py), and the file their dashboard is saved to.
PEOPLE = (
    ("demo", "dashboard-portfolio-manager.png"),
    ("alice", "dashboard-service-owner.png"),
    ("fiona", "dashboard-finance.png"),
    ("vera", "dashboard-value-stream-owner.png"),
    ("victor", "dashboard-viewer.png"),
)
WIDTH = 1440
# Sections of pages, shot as the first person sees them: a service's dependency graph (the
# CRM platform is on the demo's dependency cycle); the map of a future state, below its current
# state's; the flow chart of the demo's latest period.
SECTIONS = (
    ("/services/crm-platform/", "#dependency-graph", "dependency-graph.png"),
    ("/value-streams/settle-a-motor-claim-future/", "#map", "value-stream-map.png"),
    ("/costs/", "#flow", "fund-services-flow.png"),
)


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def prepare() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("load_demo")
    call_command("collectstatic", interactive=False, verbosity=0)


def serve() -> tuple[ThreadingServer, str]:
    from django.core.wsgi import get_wsgi_application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server(
        "127.0.0.1",
        port,
        get_wsgi_application(),
        server_class=ThreadingServer,
        handler_class=QuietHandler,
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


def reduce(path: Path) -> Path:
    """The PNG at ``path`` reduced to 256 colours, small enough to commit."""
    from PIL import Image

    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)
    return path


def shoot(base_url: str, folder: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from core.demo import DEMO_PASSWORD

    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        for username, filename in PEOPLE:
            context = browser.new_context(
                viewport={"width": WIDTH, "height": 900}, locale="en-GB", timezone_id="UTC"
            )
            page = context.new_page()
            page.goto(f"{base_url}/login/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base_url}/")
            page.wait_for_load_state("networkidle")
            path = folder / filename
            page.screenshot(path=str(path), full_page=True)
            saved.append(reduce(path))
            if username == PEOPLE[0][0]:
                for address, selector, section_file in SECTIONS:
                    page.goto(f"{base_url}{address}")
                    page.wait_for_load_state("networkidle")
                    path = folder / section_file
                    page.locator(selector).screenshot(path=str(path))
                    saved.append(reduce(path))
            context.close()
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(BASE_DIR / "docs" / "screenshots"))
    folder = Path(parser.parse_args().out)
    folder.mkdir(parents=True, exist_ok=True)
    prepare()
    server, base_url = serve()
    try:
        for path in shoot(base_url, folder):
            print(f"saved {path.relative_to(BASE_DIR) if path.is_relative_to(BASE_DIR) else path}")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
