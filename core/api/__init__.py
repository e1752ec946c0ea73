"""The REST API base: resources declared once (core.api.resources) give the list and detail
endpoints, the bulk sync engine (core.api.sync), the OpenAPI schema and the changes feed."""
