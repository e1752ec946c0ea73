from notifications.selectors import unread_count


def unread_notifications(request):
    """The unread count in the header (one query a request, signed-in pages only: a page that
    renders more than one template asks once)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if not hasattr(request, "_unread_notifications"):
        request._unread_notifications = unread_count(user)
    return {"unread_notifications": request._unread_notifications}
