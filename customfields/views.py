from django.shortcuts import render

from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import register_model_view
from customfields import services
from customfields.filtersets import CustomFieldFilterSet
from customfields.forms import CustomFieldForm
from customfields.models import CustomField
from customfields.tables import CustomFieldTable


@register_model_view("list")
class CustomFieldListView(ObjectListView):
    filterset_class = CustomFieldFilterSet
    table_class = CustomFieldTable
    title = "Custom fields"


@register_model_view("detail")
class CustomFieldDetailView(ObjectDetailView):
    queryset = CustomField.objects.all()

    def get_extra_context(self, custom_field) -> dict:
        return {"value_count": services.value_count(custom_field)}


@register_model_view("add", "edit")
class CustomFieldEditView(ObjectEditView):
    model = CustomField
    form_class = CustomFieldForm
    save_function = services.save_custom_field


@register_model_view("delete")
class CustomFieldDeleteView(ObjectDeleteView):
    model = CustomField
    template_name = "customfields/customfield_delete.html"
    remove_function = services.remove_custom_field

    def get(self, request, *args, **kwargs):
        custom_field = self.get_object()
        context = {"object": custom_field, "value_count": services.value_count(custom_field)}
        return render(request, self.template_name, context)
