import io

from django.core.management import call_command


def load_demo() -> str:
    """Run ``manage.py load_demo`` and return what it printed."""
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()
