#!/usr/bin/env python3
"""The protocol logic links no HTTP, socket or TLS library, by declaration and in fact.

Reads the link graph CMake wrote (one line per static library: name, archive, direct links)
and checks, for each protocol module: that no library in its transitive link closure is a
transport (HTTP, TLS, sockets, DNS, the event loop); and that no archive in that closure calls
a socket, TLS or resolver function (its undefined symbols, from `nm`). A transport library is
checked the same way and must fail, so the check itself is known to bite.

The storage seam is checked the same way: only the store's backend libraries call a database
client library, so every store speaks to its database through store/database.h.
"""
import functools
import re
import subprocess
import sys

PROTOCOL_MODULES = ["concierge_registrar", "concierge_masa", "concierge_pledge",
                    "concierge_ownership", "concierge_mud", "concierge_exposure",
                    "concierge_voucher", "concierge_cose", "concierge_store", "concierge_site",
                    "concierge_registry", "concierge_operators", "concierge_joinproxy",
                    "concierge_dnssd"]
# A library whose name matches is a transport, or links one in.
FORBIDDEN_LIBRARY = re.compile(
    r"^(concierge_http|concierge_loop|concierge_\w+_https|concierge_mud_network|OpenSSL::SSL|"
    r"Boost::.*|resolv|.*coap.*)$")
# Functions that only a transport calls: sockets, name resolution, TLS/DTLS, CoAP.
FORBIDDEN_SYMBOL = re.compile(
    r"^(socket|connect|bind|listen|accept4?|send|sendto|sendmsg|recv|recvfrom|recvmsg|"
    r"getaddrinfo|gethostbyname\w*|__res_\w+|res_n?query|SSL_\w+|TLS_\w+|DTLS_\w+|"
    r"coap_\w+)$")
# Libraries that may call a database client; every other one reaches its store through the seam.
STORE_BACKENDS = ["concierge_store_sqlite", "concierge_store_postgres"]
DATABASE_SYMBOL = re.compile(r"^(sqlite3_\w+|PQ\w+)$")


def read_graph(path):
    graph = {}
    for line in open(path, encoding="utf-8"):
        fields = line.split()
        if len(fields) >= 2:
            links = [link for link in fields[2:] if link != "LINK_LIBRARIES-NOTFOUND"]
            graph[fields[0]] = (fields[1], links)
    return graph


def closure(graph, target):
    seen, stack = [], [target]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.append(name)
        stack.extend(graph.get(name, ("", []))[1])
    return seen


@functools.cache  # each archive is read once, however many closures it is in
def undefined_symbols(archive):
    out = subprocess.run(["nm", "--undefined-only", "--format=just-symbols", archive],
                         check=True, capture_output=True, text=True).stdout
    return {symbol.split("@")[0] for symbol in out.split()}


def violations(graph, target):
    found = []
    for name in closure(graph, target):
        if FORBIDDEN_LIBRARY.match(name):
            found.append(f"links {name}")
        if name in graph:
            calls = sorted(s for s in undefined_symbols(graph[name][0]) if FORBIDDEN_SYMBOL.match(s))
            if calls:
                found.append(f"{name} calls {', '.join(calls[:5])}")
    return found


def main():
    graph = read_graph(sys.argv[1])
    failed = False
    for module in PROTOCOL_MODULES:
        if module not in graph:
            print(f"FAIL: {module} is not in the link graph")
            failed = True
            continue
        found = violations(graph, module)
        print(f"{module}: {'FAIL: ' + '; '.join(found) if found else 'no HTTP, socket or TLS'}")
        failed = failed or bool(found)
    # The check must bite, by declaration and by symbol: a transport binding is refused both
    # for what it links and for what the HTTPS library it links calls.
    for transport in ["concierge_pledge_https", "concierge_registrar_https"]:
        found = violations(graph, transport)
        by_link = [f for f in found if f == "links concierge_http"]
        by_symbol = [f for f in found if f.startswith("concierge_http calls ")]
        if not by_link or not by_symbol:
            print(f"FAIL: the check does not refuse {transport}, which speaks HTTPS: {found}")
            failed = True
        else:
            print(f"{transport} (a transport, refused as expected): {by_link[0]}; {by_symbol[0]}")
    failed = check_storage_seam(graph) or failed
    return 1 if failed else 0


def check_storage_seam(graph):
    failed = False
    for name, (archive, _) in sorted(graph.items()):
        calls = sorted(s for s in undefined_symbols(archive) if DATABASE_SYMBOL.match(s))
        if name in STORE_BACKENDS:
            if not calls:
                print(f"FAIL: the check does not see {name} call its database library")
                failed = True
            else:
                print(f"{name} (a store backend, allowed): calls {', '.join(calls[:3])}")
        elif calls:
            print(f"FAIL: {name} calls {', '.join(calls[:5])} past the storage seam")
            failed = True
    if not failed:
        print("storage seam: no library but the store backends calls a database client")
    return failed


if __name__ == "__main__":
    sys.exit(main())
