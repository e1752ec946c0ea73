"""Rights on the Custom fields pages: every role reads the definitions, Portfolio managers
keep them."""

from customfields.models import CustomField
from tests.views import ViewSpec
from tests.views import add
from tests.views import delete
from tests.views import edit
from tests.views import fresh
from tests.views import listing
from tests.views import read
from tests.views import view_tests


def make_field(owner):
    return CustomField.objects.create(
        model="portfolio.service", name="cost_centre", label="Cost centre", type="text"
    )


def field_data(label, name):
    return lambda custom_field: {
        "model": "portfolio.service",
        "label": label,
        "name": name,
        "type": "integer",
        "minimum": "0",
        "maximum": "",
        "order": "1",
        "show_in_list": "on",
        "default_text": "",
    }


def field_added(custom_field, user, response):
    added = CustomField.objects.get(name="seats")
    assert (added.label, added.type, added.minimum) == ("Seats", "integer", "0")
    assert response.url == added.get_absolute_url()


def field_changed(custom_field):
    assert fresh(custom_field).label == "Cost centre number"
    assert fresh(custom_field).type == "integer"  # no record holds a value yet


CUSTOM_FIELD = ViewSpec(
    name="custom fields",
    make=make_field,
    actions={
        "list": listing("customfields:customfield_list"),
        "detail": read("customfields:customfield_detail"),
        "add": add(
            "customfields:customfield_add", data=field_data("Seats", "seats"), done=field_added
        ),
        "edit": edit(
            "customfields:customfield_edit",
            data=field_data("Cost centre number", "cost_centre"),
            done=field_changed,
        ),
        "delete": delete("customfields:customfield_delete"),
    },
)
test_custom_field_views = view_tests(CUSTOM_FIELD)
