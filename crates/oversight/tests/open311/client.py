"""Files and follows work orders through Open311 GeoReport v2 with a client the project did not
write: `georeport` from PyPI (it reads services, definitions and requests in JSON and XML; it has
no call for filing, so filing is the plain form-encoded POST of the specification, by `requests`).

Usage: client.py BASE API_KEY file            -> prints {"json": {...}, "xml": {...}}
       client.py BASE API_KEY follow ID TOKEN -> checks the request is closed with its reply
"""
import json
import sys

import requests
import xmltodict
from georeport import GeoReport

base, key, phase = sys.argv[1], sys.argv[2], sys.argv[3]
root = base + "/open311/v2"
as_json = GeoReport(root, api_key=key, output_format="json")
as_xml = GeoReport(root, api_key=key, output_format="xml")


def check(cond, what):
    if not cond:
        print("FAILED: " + what, file=sys.stderr)
        sys.exit(1)


if phase == "file":
    services = as_json.get_service_list()
    codes = [s["service_code"] for s in services]
    check(codes == ["complaint", "report", "consultation", "suggestion", "help", "praise"], f"services {codes}")
    xml_services = as_xml.get_service_list()
    check([s["service_code"] for s in xml_services] == codes, "the XML service list matches")
    definition = as_json.get_service_definition("complaint")
    check(definition["service_code"] == "complaint", "definition")
    check([a["code"] for a in definition["attributes"]] == ["venue_code", "department_code"], "attributes")
    xml_definition = as_xml.get_service_definition("complaint")
    check(xml_definition["service_code"] == "complaint", "XML definition")

    form = {
        "api_key": key,
        "service_code": "complaint",
        "description": "市政务服务中心窗口工作人员上班时间玩手机，群众排队无人理会",
        "last_name": "王",
        "first_name": "小明",
        "phone": "13812345678",
        "lat": "20.0442",
        "long": "110.1999",
        "address_string": "海口市国兴大道",
        "attribute[venue_code]": "460100-V",
    }
    r = requests.post(root + "/requests.json", data=form)
    check(r.status_code == 200, f"POST json {r.status_code} {r.text}")
    filed = r.json()
    check(isinstance(filed, list) and len(filed) == 1, "a POST answers an array of one")
    r = requests.post(root + "/requests.xml", data=dict(form, service_code="suggestion"))
    check(r.status_code == 200, f"POST xml {r.status_code} {r.text}")
    filed_xml = xmltodict.parse(r.content)["service_requests"]["request"]

    # Followed at once, by id and by token, in both formats.
    one = as_json.get_service_request(filed[0]["service_request_id"])
    check(one["status"] == "open" and one["service_code"] == "complaint", f"open request {one}")
    check(one["expected_datetime"].endswith("+08:00"), "expected_datetime is the handling deadline")
    check("王小明" not in json.dumps(one, ensure_ascii=False) and "13812345678" not in json.dumps(one), "no caller")
    one_xml = as_xml.get_service_request(filed_xml["service_request_id"])
    check(one_xml["service_code"] == "suggestion", "XML request")
    token = requests.get(f"{root}/tokens/{filed[0]['token']}.json").json()
    check(token[0]["service_request_id"] == filed[0]["service_request_id"], "token")
    listed = as_json.get_service_requests(service_code="complaint", status="open")
    check(filed[0]["service_request_id"] in [x["service_request_id"] for x in listed], "listed by code and status")
    print(json.dumps({"json": filed[0], "xml": filed_xml}))

elif phase == "follow":
    request_id, token = sys.argv[4], sys.argv[5]
    one = as_json.get_service_request(request_id)
    check(one["status"] == "closed", f"closed: {one}")
    check("已办结" in one["status_notes"], "status_notes say where it stands")
    one_xml = as_xml.get_service_request(request_id)
    check(one_xml["status"] == "closed", "closed in XML")
    closed = as_json.get_service_requests(service_request_id=request_id)
    check(len(closed) == 1 and closed[0]["status"] == "closed", "by id")
    still_open = as_json.get_service_requests(status="open")
    check(request_id not in [x["service_request_id"] for x in still_open], "no longer open")
    print(json.dumps(one, ensure_ascii=False))
else:
    sys.exit(f"unknown phase {phase}")
