from django.apps import AppConfig


class CustomFieldsConfig(AppConfig):
    name = "customfields"
    verbose_name = "Custom fields"

    def ready(self):
        # Registers the custom-field rule (core.rules) of each model that carries values, and
        # the schema's stamp: the OpenAPI description follows the definitions.
        from django.core.signals import request_finished
        from django.core.signals import request_started

        from core.api import schema
        from customfields import services

        services.connect()
        schema.add_stamp(services.definitions_stamp)
        request_started.connect(services.request_started, dispatch_uid="customfields_started")
        request_finished.connect(services.request_finished, dispatch_uid="customfields_finished")
