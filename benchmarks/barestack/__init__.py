"""The bare Django/DRF stack: the floor the load benchmark measures Portico's API list against.

The least a Django and REST framework application does to list 50 services as JSON: no
middleware but Django's common one, no authentication, one query, a model serializer of the
same table Portico lists (``portfolio_service``, read through an unmanaged model), served by
the same gunicorn command as the image's. What Portico does beyond it (a token, rights, the
resource's fields and filters, keyset paging, the change context) is what its list costs
above this floor.
"""
