"""What the API shows of attestation and data quality on each attested kind (the resources
of portfolio.api and valuestreams.api annotate with attestation.quality.with_quality)."""

from attestation.choices import AttestationStatus

QUALITY_SCHEMA = {
    "attested_at": {
        "type": "string",
        "format": "date-time",
        "nullable": True,
        "description": "When its owner or a delegate last confirmed it as correct.",
    },
    "attestation_status": {
        "type": "string",
        "enum": AttestationStatus.values,
        "description": "attested, due (the confirmation expired), check_needed (changed by "
        "someone else since) or never_attested. See docs/quality.md.",
    },
    "quality_score": {
        "type": "integer",
        "description": "Its data-quality score, 0 to 100: the weight of the criteria it meets "
        "over the weight of those that apply. See docs/quality.md.",
    },
}
