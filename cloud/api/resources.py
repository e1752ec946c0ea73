"""The cloud resources: accounts, billing imports and their lines (read-only: written by the
import), tag rules and key synonyms. The import and the rule test are cloud.api.views."""

from cloud import filtersets
from cloud import services
from cloud.models import FOCUS_COLUMNS
from cloud.models import BillingImport
from cloud.models import CloudAccount
from cloud.models import FocusLine
from cloud.models import TagKeySynonym
from cloud.models import TagRule
from core.api.resources import Reads
from core.api.resources import Resource
from core.api.resources import Writes
from core.api.resources import register
from core.uploads import imported_file_fields
from core.uploads import largest_schema
from core.uploads import lineage_fields
from core.uploads import rule_writes
from core.uploads import totals_schema

TOTALS = totals_schema(
    'Per BillingCurrency, exact decimal strings: {"USD": {"effective": "…", "billed": "…", '
    '"allocated": "…", "untagged": "…"}}; effective = allocated + untagged.'
)
TOP_UNTAGGED = largest_schema(
    "The largest untagged resources of the billing period, largest first.",
    {
        "resource_id": {"type": "string"},
        "resource_name": {"type": "string"},
        "service_name": {"type": "string"},
        "currency": {"type": "string"},
        "effective_cost": {"type": "string", "format": "decimal"},
    },
)

register(
    Resource(
        "cloud-accounts",
        model=CloudAccount,
        fields=("name", "slug", "provider_name", "billing_account_id", "untagged_pool"),
        description=(
            "A provider's billing account (FOCUS BillingAccountId), made by its first import; "
            "its untagged spend is booked on its untagged pool."
        ),
        reads=Reads(filterset=filtersets.CloudAccountFilterSet),
    )
)

register(
    Resource(
        "billing-imports",
        model=BillingImport,
        fields=(
            "account",
            "period",
            "billing_period_start",
            "billing_period_end",
            *imported_file_fields(count="untagged_count", largest="top_untagged"),
        ),
        schemas={"totals": TOTALS, "top_untagged": TOP_UNTAGGED},
        description=(
            "One account's lines of one billing period as last imported, with its totals and "
            "its largest untagged resources (the untagged bucket)."
        ),
        reads=Reads(filterset=filtersets.BillingImportFilterSet),
    )
)

register(
    Resource(
        "focus-lines",
        model=FocusLine,
        fields=(
            "billing_import",
            *FOCUS_COLUMNS.values(),
            *lineage_fields("untagged"),
        ),
        schemas={
            "tags": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "FOCUS Tags, keys as the provider wrote them.",
            }
        },
        description=(
            "A line of a FOCUS cloud bill (FOCUS 1.0 columns, snake_case), the tag rule that "
            "took it (none: untagged) and the cost item it is booked in."
        ),
        reads=Reads(filterset=filtersets.FocusLineFilterSet),
    )
)

register(
    Resource(
        "tag-rules",
        model=TagRule,
        fields=(
            "name",
            "priority",
            "account",
            "tag_key",
            "tag_value",
            "resource_name_pattern",
            "provider_service_name",
            "service",
            "application",
            "pool",
            "category",
            "expenditure",
        ),
        description=(
            "Maps FOCUS lines to a service, an application or a cost pool: the first rule by "
            "priority whose every given criterion matches takes a line. Test a rule against a "
            "file before saving it: POST /api/v1/tag-rules/test/."
        ),
        reads=Reads(filterset=filtersets.TagRuleFilterSet),
        writes=rule_writes(services.save_rule, services.remove_rule),
    )
)

register(
    Resource(
        "tag-key-synonyms",
        model=TagKeySynonym,
        fields=("synonym", "key"),
        description="A tag key read as another (env as environment); both are normalised.",
        reads=Reads(filterset=filtersets.TagKeySynonymFilterSet),
        writes=Writes(
            save=lambda synonym, user: services.save_synonym(synonym=synonym),
            remove=lambda synonym: services.remove_synonym(synonym=synonym),
        ),
    )
)
