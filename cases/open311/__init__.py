"""Open311 GeoReport v2 under ``/open311/v2/``: discovery, services, requests, tokens and the
``servicerequestupdates`` extension, in XML and JSON; the keys admins issue to its clients."""
