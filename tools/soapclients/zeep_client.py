#!/usr/bin/python3
"""zeep_client: one X-Road SOAP 4.0 call with zeep (Debian's python3-zeep),
as an X-Road consumer would make it. e2e/soapclients_test.go runs it against
govbus with /usr/bin/python3.

Usage: /usr/bin/python3 zeep_client.py '<spec as JSON>'
  spec = {
    "wsdl": path or URL of the WSDL,
    "endpoint": URL to send to (overrides the WSDL's soap:address),
    "operation": operation name, e.g. "getCompany",
    "args": the operation's body, e.g. {"code": "10000042"},
    "client":  {"xRoadInstance", "memberClass", "memberCode", "subsystemCode"},
    "service": {"xRoadInstance", "memberClass", "memberCode", "subsystemCode", "serviceCode"},
    "id", "userId"?, "protocolVersion"? (default "4.0"),
    "httpHeaders": {"Authorization": "Bearer ...", "X-Road-Purpose": "..."}
  }
Prints one JSON object on stdout:
  {"ok": true, "status", "result", "responseHeader", "rawResponse"}
  {"ok": false, "kind": "fault", "status", "fault": {"faultcode", "faultstring"}, "rawResponse"}
  {"ok": false, "kind": "wsdl", "error": exception class, "message"}  (exit 2: zeep cannot load the WSDL)
  {"ok": false, "kind": "transport" | "client", "error", "message"}
"""

import json
import sys
import warnings

import requests
import zeep
import zeep.exceptions
import zeep.helpers
from zeep.plugins import HistoryPlugin


def out(obj):
    sys.stdout.write(json.dumps(obj, default=str) + "\n")


def main():
    try:
        spec = json.loads(sys.argv[1])
    except (IndexError, ValueError) as e:
        sys.stderr.write("usage: zeep_client.py '<spec as JSON>': %s\n" % e)
        return 2

    session = requests.Session()
    session.trust_env = False  # loopback only: no proxies from the environment
    session.headers.update(spec.get("httpHeaders") or {})
    history = HistoryPlugin()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            client = zeep.Client(spec["wsdl"], transport=zeep.Transport(session=session), plugins=[history])
    except Exception as e:  # what zeep raises for a WSDL it rejects
        out({"ok": False, "kind": "wsdl", "error": type(e).__name__, "message": str(e),
             "warnings": [str(w.message) for w in caught]})
        return 2

    binding = next(iter(client.wsdl.bindings))
    service = client.create_service(binding, spec["endpoint"])
    client_id = dict(spec["client"])
    client_id["objectType"] = "SUBSYSTEM" if client_id.get("subsystemCode") else "MEMBER"
    service_id = dict(spec["service"])
    service_id["objectType"] = "SERVICE"
    headers = {"client": client_id, "service": service_id, "id": spec["id"],
               "protocolVersion": spec.get("protocolVersion", "4.0")}
    if spec.get("userId"):
        headers["userId"] = spec["userId"]

    try:
        result = getattr(service, spec["operation"])(_soapheaders=headers, **(spec.get("args") or {}))
    except zeep.exceptions.Fault as f:
        resp = history.last_received
        out({"ok": False, "kind": "fault", "status": None,
             "fault": {"faultcode": f.code, "faultstring": f.message},
             "rawResponse": zeep.helpers.etree.tostring(resp["envelope"]).decode() if resp else None})
        return 0
    except requests.exceptions.RequestException as e:
        out({"ok": False, "kind": "transport", "error": type(e).__name__, "message": str(e)})
        return 0
    except Exception as e:
        out({"ok": False, "kind": "client", "error": type(e).__name__, "message": str(e)})
        return 0

    obj = zeep.helpers.serialize_object(result, dict)
    body, header = obj, None
    if isinstance(obj, dict) and "body" in obj and "header" in obj:
        body, header = obj["body"], obj["header"]
        if isinstance(header, dict):
            header.pop("_raw_elements", None)  # requestHash: in responseHeader below
    received = history.last_received
    raw = zeep.helpers.etree.tostring(received["envelope"]).decode() if received else None
    # The header parts that the WSDL does not declare (xrd:requestHash) are
    # read from the envelope itself.
    resp_header = {}
    if received is not None:
        soap_header = received["envelope"].find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
        if soap_header is not None:
            for el in soap_header:
                name = el.tag.split("}", 1)[-1]
                resp_header[name] = (el.text or "").strip() if len(el) == 0 else {
                    c.tag.split("}", 1)[-1]: (c.text or "").strip() for c in el}
    out({"ok": True, "status": 200, "result": body, "declaredHeader": header,
         "responseHeader": resp_header, "rawResponse": raw})
    return 0


if __name__ == "__main__":
    sys.exit(main())
