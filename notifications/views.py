from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from core.generic import PageView
from core.generic import partial_or_page
from core.generic import redirect_after_write
from notifications import services
from notifications.forms import MarkReadForm
from notifications.forms import PreferencesForm
from notifications.selectors import deliveries_of
from notifications.selectors import notifications_of


@method_decorator(never_cache, name="dispatch")
class NotificationListView(PageView):
    """The signed-in person's notifications, as they were e-mailed; each person sees only
    their own."""

    template_name = "notifications/list.html"
    partial = "notifications"

    def get(self, request, *args, **kwargs):
        page = Paginator(notifications_of(request.user), 50).get_page(request.GET.get("page"))
        template = partial_or_page(request, self.template_name, self.partial)
        return render(request, template, {"page": page})


class MarkReadView(PageView):
    """Mark one of one's notifications read (``notification``), or all of them."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = MarkReadForm(request.POST)
        if not form.is_valid():
            return render(
                request, "notifications/list.html", {"form": form, "page": None}, status=422
            )
        chosen = form.cleaned_data["notification"]
        services.mark_read(user=request.user, notification_ids=[chosen] if chosen else None)
        return redirect_after_write(request, reverse("notifications:list"))


class PreferencesView(PageView):
    """What the person hears of, and how: per kind of event."""

    http_method_names = ["get", "head", "post"]
    template_name = "notifications/preferences.html"

    def get(self, request, *args, **kwargs):
        form = PreferencesForm(current=deliveries_of(request.user))
        return render(request, self.template_name, {"form": form})

    def post(self, request, *args, **kwargs):
        form = PreferencesForm(request.POST, current=deliveries_of(request.user))
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=422)
        services.save_preferences(user=request.user, choices=form.cleaned_data)
        messages.success(request, "Your notification choices are saved.")
        return redirect_after_write(request, reverse("notifications:preferences"))
