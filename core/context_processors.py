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
    ("Reports", "finance:report_list"),
)


def portico(request):
    # Sections appear in the navigation once their app provides the page.
    navigation = []
    for label, url_name in NAVIGATION:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        current = request.path == url or (url != "/" and request.path.startswith(url))
        navigation.append((label, url, current))
    return {"navigation": navigation, "reporting_currency": settings.PORTICO_CURRENCY}
