from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from core.api.tokens import issue_token


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME and print it (only the token, shown this once). "
        "Read-only unless --write."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--write", action="store_true", help="The token may change data.")
        parser.add_argument(
            "--expires", type=int, metavar="DAYS", help="The token expires after DAYS days."
        )
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args, username, write, expires, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user has the username {username!r}.")
        if not user.is_active:
            raise CommandError(f"The user {username!r} is not active.")
        if expires is not None and expires < 1:
            raise CommandError("--expires takes a number of days, 1 or more.")
        _, text = issue_token(
            user=user, name=name or "command line", write=write, expires_in_days=expires
        )
        self.stdout.write(text)
