from django.db import models


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    SYNC = "sync", "Sync"
    TASK = "task", "Task"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Command"
    IMPORT = "import", "Import"


class ChangeAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
