"""An existing Open311 client works unchanged: the ``georeport`` package from PyPI reads the
portal over a live server on loopback, in JSON and XML. (The ``open311`` package is Python 2
only: posting goes through ``requests`` with a body built as the standard's examples show.)"""

from __future__ import annotations

import requests
from georeport import GeoReport

from tests.live_server import live_server
from tests.open311_support import make_key, make_scene


def test_georeport_reads_what_a_standard_post_filed(app, database):
    scene = make_scene(app)
    key = make_key(app)
    with live_server(database) as url:
        root = f"{url}/open311/v2"
        posted = requests.post(f"{root}/requests.json", data={
            "api_key": key, "jurisdiction_id": "gov-crm.local", "service_code": "city.noise",
            "lat": "26.0745", "long": "119.2965", "address_string": "五一中路",
            "email": "app.user@example.cn", "first_name": "Lin", "last_name": "Fang",
            "description": "Loud music after midnight",
        }, timeout=10)
        assert posted.status_code == 200, posted.text
        number = posted.json()[0]["service_request_id"]

        for fmt in ("json", "xml"):
            city = GeoReport(root, jurisdiction="gov-crm.local", output_format=fmt)
            services = city.get_service_list()
            assert {s["service_code"] for s in services} == {"city.noise", "roads.potholes"}
            definition = city.get_service_definition("roads.potholes")
            assert definition["service_code"] == "roads.potholes"
            listed = city.get_service_requests(status="open")
            numbers = {r["service_request_id"] for r in listed}
            assert {number, scene.public.number} <= numbers
            assert scene.tipoff.number not in numbers
            one = city.get_service_request(number)
            assert one["service_request_id"] == number and one["status"] == "open"
            assert one["description"] == "Loud music after midnight"
            assert one["service_code"] == "city.noise"
            by_id = city.get_service_requests(service_request_id=number)
            assert by_id  # one request: a dict in XML, a list in JSON
