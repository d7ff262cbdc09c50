#!/usr/bin/env python3
"""DTLS handshakes begun through a join proxy, from many sources, measured on the wire.

Usage:
  jpy_wire.py hellos HOST PORT COUNT      From COUNT source addresses (127.0.x.y), sends a real
                                          DTLS ClientHello to HOST:PORT (again each second until
                                          answered, for 30 s at most) and waits for each
                                          HelloVerifyRequest, prints how many were answered as
                                          JSON, then holds every socket open (the handshakes
                                          stay mid-way) until it is killed.
  jpy_wire.py resume HOST PORT DIR        Sends a ClientHello, takes the HelloVerifyRequest's
                                          cookie, writes DIR/cookie-taken, waits for DIR/go,
                                          then sends the ClientHello with the cookie from the
                                          same address and port and prints which handshake
                                          message came back (ServerHello: the registrar's
                                          session went on; HelloVerifyRequest: it began anew).
  jpy_wire.py answer FILE LINKS           A plain CoAP endpoint on 127.0.0.1 that answers every
                                          request with LINKS as link format (40); writes its
                                          port to FILE, serves until killed.
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coaps_wire import client_hello  # noqa: E402

HANDSHAKE_TYPES = {1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest", 11: "Certificate"}


def source(i):
    return f"127.0.{10 + i // 250}.{1 + i % 250}"


def with_cookie(hello, cookie):
    """The same ClientHello again, second in its handshake, carrying the cookie (RFC 6347)."""
    body = hello[25:]
    at = 2 + 32
    at += 1 + body[at]                      # session_id
    old_cookie = body[at]
    new_body = body[:at] + bytes([len(cookie)]) + cookie + body[at + 1 + old_cookie:]
    length = len(new_body).to_bytes(3, "big")
    handshake = bytes([1]) + length + (1).to_bytes(2, "big") + bytes(3) + length + new_body
    record = hello[:3] + hello[3:5] + (1).to_bytes(6, "big") + len(handshake).to_bytes(2, "big")
    return record + handshake


def hellos(host, port, count):
    hello = client_hello(host, port)
    sockets = []
    for i in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((source(i), 0))
        sock.setblocking(False)
        sock.sendto(hello, (host, port))
        sockets.append(sock)
        if i % 50 == 49:
            time.sleep(0.05)  # the proxy's rate for all pledges together is 4,000 a second
    answered = set()
    deadline = time.time() + 30
    resend_at = time.time() + 1
    while len(answered) < count and time.time() < deadline:
        for i, sock in enumerate(sockets):
            if i in answered:
                continue
            try:
                data = sock.recv(65536)
                if len(data) > 13 and data[13] == 3:
                    answered.add(i)
            except BlockingIOError:
                pass
        # UDP loses datagrams under load: like any DTLS client, send the unanswered hellos
        # again, once a second.
        if time.time() >= resend_at:
            for i, sock in enumerate(sockets):
                if i not in answered:
                    sock.sendto(hello, (host, port))
            resend_at = time.time() + 1
        time.sleep(0.01)
    print(json.dumps({"sent": count, "answered": len(answered)}), flush=True)
    time.sleep(600)


def resume(host, port, directory):
    hello = client_hello(host, port)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.9", 0))
    sock.settimeout(5)
    sock.sendto(hello, (host, port))
    verify = sock.recv(65536)
    assert verify[13] == 3, "no HelloVerifyRequest"
    cookie_length = verify[25 + 2]
    cookie = verify[25 + 3:25 + 3 + cookie_length]
    open(os.path.join(directory, "cookie-taken"), "w").close()
    go = os.path.join(directory, "go")
    deadline = time.time() + 30
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.05)
    sock.sendto(with_cookie(hello, cookie), (host, port))
    answer = sock.recv(65536)
    print(json.dumps({"answer": HANDSHAKE_TYPES.get(answer[13], str(answer[13])),
                      "cookie_bytes": cookie_length}))


def answer(port_file, links):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    with open(port_file + ".tmp", "w") as out:
        out.write(str(sock.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    while True:
        request, client = sock.recvfrom(65536)
        token = request[4:4 + (request[0] & 0x0F)]
        # ACK, 2.05, the request's message id and token, Content-Format 40, the links.
        header = bytes([0x60 | len(token), 0x45]) + request[2:4] + token
        sock.sendto(header + bytes([0xC1, 40, 0xFF]) + links.encode(), client)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "hellos":
        hellos(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "resume":
        resume(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "answer":
        answer(sys.argv[2], sys.argv[3])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
