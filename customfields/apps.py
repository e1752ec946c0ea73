from django.apps import AppConfig


class CustomFieldsConfig(AppConfig):
    name = "customfields"
    verbose_name = "Custom fields"

    def ready(self):
        # Registers the custom-field rule (core.rules) of each model that carries values, and
        # the schema's stamp: the OpenAPI description follows the definitions.
        from core.api import schema
        from customfields import services

        services.connect()
        schema.add_stamp(services.definitions_stamp)
