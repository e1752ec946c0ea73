from notifications.selectors import unread_count


def unread_notifications(request):
    """The unread count in the header (one query, signed-in pages only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user)}
