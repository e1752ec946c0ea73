from django.conf import settings
from django.urls import NoReverseMatch
from django.urls import reverse

NAVIGATION = (
    ("Dashboard", "dashboard"),
    ("My services", "portfolio:my_services"),
    ("Services", "portfolio:service_list"),
    ("Attention", "performance:attention_items"),
    ("Value streams", "valuestreams:valuestream_list"),
    ("Customers", "portfolio:customer_list"),
    ("Suppliers and contracts", "portfolio:supplier_list"),
    ("Applications", "portfolio:application_list"),
    ("Costs", "finance:overview"),
    ("Maturity", "maturity:overview"),
    ("Data quality", "attestation:steward"),
    ("Reports", "finance:report_list"),
    ("Import", "imports:run_list"),
    ("Organisation", "people:unit_list"),
    ("People", "people:person_list"),
    ("Custom fields", "customfields:customfield_list"),
)
# Sections shown only to whom may open them: (URL name, the permission it needs).
RESTRICTED = {
    "people:person_list": "auth.view_user",
    "imports:run_list": "imports.add_importrun",
    # Portfolio managers define the custom fields; the others meet them in the forms.
    "customfields:customfield_list": "customfields.change_customfield",
}


def portico(request):
    # Sections appear in the navigation once their app provides the page.
    # A request turned away before authentication (a host not allowed) has no user.
    user = getattr(request, "user", None)
    navigation = []
    for label, url_name in NAVIGATION:
        needs = RESTRICTED.get(url_name)
        if needs and (user is None or not user.has_perm(needs)):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        current = request.path == url or (url != "/" and request.path.startswith(url))
        navigation.append((label, url, current))
    return {"navigation": navigation, "reporting_currency": settings.PORTICO_CURRENCY}
