#!/usr/bin/env python3
"""The management API over real HTTPS with the real binary.

An owner signs in with a one-time code; pledges of a maker that needs approval enroll as
separate processes; the owner sees them in the approval queue, approves them in bulk, and finds
them in the inventory. Every answer is checked against the schema the OpenAPI document gives
it, and refusals the server makes itself (an oversized body, a malformed request) are problem
details too.
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is missing (scripts/install-deps installs it)")
    sys.exit(77)

BIN = os.path.abspath(sys.argv[1])
OPENAPI = sys.argv[2]
WORK = tempfile.mkdtemp(prefix="concierge-api-")
PROCESSES = []


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def run(*args):
    result = subprocess.run([BIN, *args], cwd=WORK, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"concierge {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result.stdout


def start(*args, wait_for):
    log = open(os.path.join(WORK, args[0] + ".log"), "w")
    PROCESSES.append(subprocess.Popen([BIN, *args], cwd=WORK, stdout=log, stderr=log))
    for _ in range(100):
        if all(os.path.exists(os.path.join(WORK, path)) for path in wait_for):
            return
        time.sleep(0.1)
    fail(f"{args[0]} did not start: " + open(log.name).read())


class Api:
    def __init__(self, authority, ca):
        self.host, port = authority.rsplit(":", 1)
        self.port = int(port)
        self.context = ssl.create_default_context(cafile=ca)
        self.token = ""
        self.csrf = ""

    def call(self, method, path, body=None, raw=None, headers=None):
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.context,
                                                 timeout=30)
        sent = dict(headers or {})
        if self.token:
            sent["Cookie"] = "concierge_session=" + self.token
            sent["X-CSRF-Token"] = self.csrf
        payload = raw
        if body is not None:
            payload = json.dumps(body).encode()
        if payload is not None:
            sent.setdefault("Content-Type", "application/json")
        connection.request(method, path, body=payload, headers=sent)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, dict((k.lower(), v) for k, v in response.getheaders()), data


DOCUMENT = json.load(open(OPENAPI, encoding="utf-8"))


def check_schema(path, method, status, headers, data):
    """The answer matches what the OpenAPI document says this operation answers."""
    operation = DOCUMENT["paths"][path][method.lower()]
    documented = operation["responses"].get(str(status))
    if documented is None:
        if headers.get("content-type") != "application/problem+json":
            fail(f"{method} {path} answered {status} with {headers.get('content-type')}")
        schema_ref = "#/components/schemas/Problem"
    elif "content" not in documented:
        return
    else:
        schema_ref = documented["content"]["application/json"]["schema"].get("$ref")
        if schema_ref is None:
            schema = dict(documented["content"]["application/json"]["schema"])
            schema["components"] = DOCUMENT["components"]
            jsonschema.Draft202012Validator(schema).validate(json.loads(data))
            return
    schema = {"$ref": schema_ref, "components": DOCUMENT["components"]}
    try:
        jsonschema.Draft202012Validator(schema).validate(json.loads(data))
    except jsonschema.ValidationError as error:
        fail(f"{method} {path} {status} does not match {schema_ref}: {error.message}")


def main():
    jsonschema.Draft202012Validator.check_schema(
        {"$defs": DOCUMENT["components"]["schemas"]})
    run("site", "init", "--dir", "home", "--name", "Home")
    run("maker", "init", "--dir", "acme", "--name", "Acme", "--masa-url", "127.0.0.1:9")
    run("site", "trust-maker", "--dir", "home", "--ca", "acme/ca.pem", "--approval", "manual")
    code = json.loads(run("operator", "add", "--dir", "home", "--name", "alice", "--role",
                          "owner", "--json"))["code"]
    start("maker", "serve", "--dir", "acme", "--listen", "127.0.0.1:0",
          wait_for=["acme/listen.addr"])
    # The MASA's port is known only now; each IDevID names it.
    masa = open(os.path.join(WORK, "acme/listen.addr")).read().strip()
    start("serve", "--dir", "home", "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0",
          "--firewall", "dry-run", wait_for=["home/listen.addr", "home/api.addr"])
    registrar = open(os.path.join(WORK, "home/listen.addr")).read().strip()
    api = Api(open(os.path.join(WORK, "home/api.addr")).read().strip(),
              os.path.join(WORK, "home/domain-ca.pem"))

    print("--- signing in")
    status, headers, data = api.call("GET", "/api/v1/devices")
    check_schema("/api/v1/devices", "GET", status, headers, data)
    if status != 401:
        fail(f"no session: {status}")
    status, headers, data = api.call("POST", "/api/v1/session", {"code": code})
    check_schema("/api/v1/session", "POST", status, headers, data)
    if status != 201:
        fail(f"sign-in answered {status}: {data!r}")
    cookie = headers["set-cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        if attribute not in cookie.split("; "):
            fail(f"the session cookie lacks {attribute}: {cookie}")
    if "unsafe-inline" in headers["content-security-policy"]:
        fail("the CSP allows inline script")
    api.token = cookie.split(";")[0].split("=", 1)[1]
    api.csrf = json.loads(data)["csrf_token"]
    status, _, _ = api.call("POST", "/api/v1/session", {"code": code})
    if status != 401:
        fail(f"a spent code signed in again: {status}")

    print("--- three pledges wait for approval")
    pledges = []
    for serial in ("LOCK-1", "LOCK-2", "LOCK-3"):
        run("maker", "mint", "--dir", "acme", "--serial", serial, "--masa-url", masa, "--out",
            serial)
        log = open(os.path.join(WORK, serial + ".log"), "w")
        pledges.append(subprocess.Popen(
            [BIN, "device", "enroll", "--identity", serial, "--registrar",
             "https://" + registrar], cwd=WORK, stdout=log, stderr=log))
        PROCESSES.append(pledges[-1])
    pending = []
    for _ in range(200):
        status, headers, data = api.call("GET", "/api/v1/approvals")
        check_schema("/api/v1/approvals", "GET", status, headers, data)
        pending = json.loads(data)["pending"]
        if len(pending) == 3:
            break
        time.sleep(0.1)
    if len(pending) != 3:
        fail(f"the approval queue holds {len(pending)} devices, not 3")
    status, headers, data = api.call("POST", "/api/v1/approvals",
                                     {"ids": [device["id"] for device in pending]})
    check_schema("/api/v1/approvals", "POST", status, headers, data)
    summary = json.loads(data)
    if len(summary["approved"]) != 3 or summary["refused"]:
        fail(f"bulk approval: {summary}")
    for pledge in pledges:
        if pledge.wait(timeout=120) != 0:
            fail("a pledge failed: " + open(os.path.join(WORK, "LOCK-1.log")).read())

    print("--- the inventory, a device, the audit chain")
    maker = urllib.parse.quote(pending[0]["maker"])
    status, headers, data = api.call("GET", f"/api/v1/devices?maker={maker}&limit=2")
    check_schema("/api/v1/devices", "GET", status, headers, data)
    page = json.loads(data)
    if page["total"] != 3 or len(page["devices"]) != 2:
        fail(f"device page: {page}")
    status, headers, data = api.call("GET", "/api/v1/devices/LOCK-2")
    check_schema("/api/v1/devices/{name}", "GET", status, headers, data)
    if json.loads(data)["onboarding"]["state"] != "enrolled":
        fail(f"LOCK-2: {data!r}")
    status, headers, data = api.call("GET", "/api/v1/audit?subject=device:LOCK-3")
    check_schema("/api/v1/audit", "GET", status, headers, data)
    kinds = [event["kind"] for event in json.loads(data)["events"]]
    if "device.approved" not in kinds:
        fail(f"LOCK-3's trail: {kinds}")
    for path in ("/api/v1/audit/verify", "/api/v1/operators", "/api/v1/session",
                 "/api/v1/certificates"):
        status, headers, data = api.call("GET", path)
        check_schema(path, "GET", status, headers, data)
        if status != 200:
            fail(f"GET {path}: {status} {data!r}")

    print("--- quarantine, the ruleset in force, exposure")
    run("mud", "address", "--dir", "home", "LOCK-2", "192.0.2.52")
    status, headers, data = api.call("POST", "/api/v1/devices/LOCK-2/quarantine",
                                     {"reason": "integration test"})
    check_schema("/api/v1/devices/{name}/quarantine", "POST", status, headers, data)
    if status != 200 or "192.0.2.52" not in json.loads(data)["policy"]["diff"]:
        fail(f"quarantine: {status} {data!r}")
    status, headers, data = api.call("GET", "/api/v1/policy")
    check_schema("/api/v1/policy", "GET", status, headers, data)
    if json.loads(data)["quarantined"] != ["LOCK-2"]:
        fail(f"policy: {data!r}")
    status, headers, data = api.call("DELETE", "/api/v1/devices/LOCK-2/quarantine")
    check_schema("/api/v1/devices/{name}/quarantine", "DELETE", status, headers, data)
    for path in ("/api/v1/exposure", "/api/v1/exposure/graph"):
        status, headers, data = api.call("GET", path)
        check_schema(path, "GET", status, headers, data)
        if status != 200:
            fail(f"GET {path}: {status} {data!r}")
    status, headers, data = api.call("GET", "/api/v1/exposure/graph.svg")
    if status != 200 or headers.get("content-type") != "image/svg+xml" or b"<svg" not in data:
        fail(f"graph.svg: {status} {headers}")
    status, headers, data = api.call("GET", "/api/v1/exposure/devices/LOCK-2")
    check_schema("/api/v1/exposure/devices/{name}", "GET", status, headers, data)
    if status != 404:
        fail(f"LOCK-2 has no MUD file, yet its exposure answered {status}")
    status, headers, data = api.call("POST", "/api/v1/exposure/tighten", {"mode": "preview"})
    check_schema("/api/v1/exposure/tighten", "POST", status, headers, data)
    if status != 200:
        fail(f"tighten preview: {status} {data!r}")

    print("--- a script signs in with its operator's client certificate")
    run("operator", "add", "--dir", "home", "--name", "nightly", "--role", "installer")
    run("operator", "cert", "nightly", "--out", "nightly", "--dir", "home")
    script = Api(f"{api.host}:{api.port}", os.path.join(WORK, "home/domain-ca.pem"))
    script.context.load_cert_chain(os.path.join(WORK, "nightly.pem"),
                                   os.path.join(WORK, "nightly.key"))
    status, headers, data = script.call("GET", "/api/v1/session")
    check_schema("/api/v1/session", "GET", status, headers, data)
    if status != 200 or json.loads(data)["operator"]["name"] != "nightly":
        fail(f"the client certificate did not sign nightly in: {status} {data!r}")
    status, headers, data = script.call("POST", "/api/v1/policy/apply")
    if status != 403 or b"X-Concierge-Script" not in data:
        fail(f"a change without X-Concierge-Script: {status} {data!r}")
    status, headers, data = script.call("POST", "/api/v1/policy/apply",
                                        headers={"X-Concierge-Script": "nightly"})
    check_schema("/api/v1/policy/apply", "POST", status, headers, data)
    if status != 200:
        fail(f"policy apply by the script: {status} {data!r}")
    run("operator", "revoke", "nightly", "--dir", "home")
    status, headers, data = script.call("GET", "/api/v1/devices")
    if status != 401:
        fail(f"a revoked operator's certificate answered {status}")

    status, headers, data = api.call("GET", "/api/v1/openapi.json")
    if json.loads(data) != DOCUMENT:
        fail("the served OpenAPI document is not src/api/openapi.json")

    print("--- refusals the server makes itself are problem details")
    status, headers, data = api.call("POST", "/api/v1/approvals", raw=b"{" + b" " * 70000 + b"}")
    check_schema("/api/v1/approvals", "POST", status, headers, data)
    if status != 413:
        fail(f"an oversized body: {status}")
    with socket.create_connection((api.host, api.port)) as raw:
        with api.context.wrap_socket(raw, server_hostname=api.host) as tls:
            tls.sendall(b"NOT A REQUEST\r\n\r\n")
            answer = tls.recv(65536).decode()
    if "application/problem+json" not in answer or not answer.startswith("HTTP/1.1 400"):
        fail(f"a malformed request: {answer[:200]}")

    status, headers, data = api.call("DELETE", "/api/v1/session")
    if status != 204:
        fail(f"sign-out: {status}")
    status, headers, data = api.call("GET", "/api/v1/session")
    if status != 401:
        fail(f"a signed-out session still works: {status}")
    print("PASS: management API over HTTPS")


try:
    main()
finally:
    for process in PROCESSES:
        process.terminate()
    for process in PROCESSES:
        process.wait()
    shutil.rmtree(WORK, ignore_errors=True)
