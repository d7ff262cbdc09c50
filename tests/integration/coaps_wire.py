#!/usr/bin/env python3
"""What a CoAPS listener sends to whom, measured on the wire (UDP on loopback).

Usage:
  coaps_wire.py probe HOST PORT PATH...   Sends each PATH as a plain CoAP GET and POST, and as
                                          its Uri-Path-Abbrev value, from a fresh source that
                                          never did a DTLS handshake, then the smallest
                                          requests that draw an answer and a DTLS ClientHello
                                          taken from a real client; prints, per probe, bytes
                                          in, bytes out and their ratio as JSON.
  coaps_wire.py echo HOST PORT            Asks a plain CoAP endpoint for /.well-known/core from
                                          a fresh source, then again with the Echo value (RFC
                                          9175) it was challenged with; prints both exchanges'
                                          codes and sizes as JSON.
  coaps_wire.py relay HOST PORT -- CMD... Runs CMD against a relay (its "{port}" replaced by the
                                          relay's port) that forwards datagrams to HOST:PORT
                                          and counts them; prints the totals as JSON.
"""
import json
import select
import socket
import subprocess
import sys
import threading
import time

ABBREVIATIONS = {"/.well-known/core": 0, "/.well-known/brski/es": 401,
                 "/.well-known/brski/rv": 402, "/.well-known/brski/vs": 403,
                 "/.well-known/est/crts": 301, "/.well-known/est/sen": 302,
                 "/.well-known/est/sren": 303, "/.well-known/est/att": 306}


def option(delta, value):
    def nibble(n):
        if n < 13:
            return n, b""
        if n < 269:
            return 13, bytes([n - 13])
        return 14, (n - 269).to_bytes(2, "big")
    d, dx = nibble(delta)
    l, lx = nibble(len(value))
    return bytes([(d << 4) | l]) + dx + lx + value


def coap_request(code, path=None, abbreviation=None, payload=b"", echo=None):
    message = bytes([0x41, code, 0x12, 0x34, 0x7a])
    last = 0
    if path is not None:
        for segment in path.strip("/").split("/"):
            message += option(11 - last, segment.encode())
            last = 11
    if abbreviation is not None:
        value = abbreviation.to_bytes(2, "big").lstrip(b"\0") if abbreviation else b""
        message += option(13 - last, value)
        last = 13
    if echo is not None:
        message += option(252 - last, echo)
    if payload:
        message += b"\xff" + payload
    return message


def exchange(host, port, datagram, wait=0.5):
    """Sends one datagram from a new socket; returns the bytes that came back within wait."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(datagram, (host, port))
    received = 0
    deadline = time.time() + wait
    while time.time() < deadline:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.time()))
        if ready:
            received += len(sock.recv(65536))
    sock.close()
    return received


def read_response(message):
    """The code ("4.01"), options by number and payload of a CoAP message."""
    code = f"{message[1] >> 5}.{message[1] & 0x1f:02d}"
    at = 4 + (message[0] & 0x0f)
    number, options = 0, {}

    def extended(nibble):
        nonlocal at
        if nibble == 13:
            at += 1
            return 13 + message[at - 1]
        if nibble == 14:
            at += 2
            return 269 + int.from_bytes(message[at - 2:at], "big")
        return nibble
    while at < len(message) and message[at] != 0xFF:
        head = message[at]
        at += 1
        number += extended(head >> 4)
        length = extended(head & 0x0F)
        options[number] = message[at:at + length]
        at += length
    return code, options, message[at + 1:] if at < len(message) else b""


def echo_round_trip(host, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(5)
    first = coap_request(1, "/.well-known/core")
    sock.sendto(first, (host, port))
    challenge = sock.recv(65536)
    code, options, _ = read_response(challenge)
    second = coap_request(1, "/.well-known/core", echo=options.get(252, b""))
    sock.sendto(second, (host, port))
    answer = sock.recv(65536)
    answer_code, _, payload = read_response(answer)
    sock.close()
    print(json.dumps({"request_bytes": len(first), "challenge_code": code,
                      "challenge_bytes": len(challenge), "echo_bytes": len(options.get(252, b"")),
                      "retry_bytes": len(second), "answer_code": answer_code,
                      "answer_bytes": len(answer), "links": payload.decode()}))


class Relay:
    """Forwards datagrams between clients and one server, counting them."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.backs = {}  # client address -> socket towards the server
        self.to_server = [0, 0]    # datagrams, bytes
        self.to_client = [0, 0]
        self.datagrams = []        # every datagram: [session, "in" or "out", size]
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            sockets = [self.front] + list(self.backs.values())
            ready, _, _ = select.select(sockets, [], [], 0.1)
            for sock in ready:
                if sock is self.front:
                    data, client = self.front.recvfrom(65536)
                    if client not in self.backs:
                        back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        back.connect(self.target)
                        self.backs[client] = back
                    self.backs[client].send(data)
                    self.to_server[0] += 1
                    self.to_server[1] += len(data)
                    self.datagrams.append([list(self.backs).index(client), "in", len(data)])
                else:
                    data = sock.recv(65536)
                    client = next(c for c, s in self.backs.items() if s is sock)
                    self.front.sendto(data, client)
                    self.to_client[0] += 1
                    self.to_client[1] += len(data)
                    self.datagrams.append([list(self.backs).index(client), "out", len(data)])

    def stop(self):
        self.running = False
        self.thread.join()


def client_hello(host, port):
    """A DTLS 1.2 ClientHello as libcoap's client sends it: the first datagram it sends."""
    relay_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    relay_sock.bind(("127.0.0.1", 0))
    relay_port = relay_sock.getsockname()[1]
    process = subprocess.Popen(["coap-client-openssl", "-B", "2", "-m", "get",
                                f"coaps://127.0.0.1:{relay_port}/"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    relay_sock.settimeout(5)
    try:
        hello, _ = relay_sock.recvfrom(65536)
    finally:
        process.kill()
        process.wait()
        relay_sock.close()
    return hello


def probe(host, port, paths):
    results = []
    for path in paths:
        for name, datagram in [
                ("GET " + path, coap_request(1, path)),
                ("POST " + path, coap_request(2, path, payload=b"\xa0" * 16)),
                ("GET abbreviation %d" % ABBREVIATIONS.get(path, -1),
                 coap_request(1, None, ABBREVIATIONS.get(path)) if path in ABBREVIATIONS else None)]:
            if datagram is None:
                continue
            out = exchange(host, port, datagram)
            results.append({"probe": name, "bytes_in": len(datagram), "bytes_out": out,
                            "factor": out / len(datagram)})
    # The smallest requests that draw an answer the server does not choose itself: an unknown
    # critical option (libcoap's 4.02 carries its reason phrase) and a CoAP ping.
    for name, datagram in [("GET with unknown critical option 9", bytes([0x40, 1, 0, 1, 0x90])),
                           ("empty CON (ping)", bytes([0x40, 0, 0, 2]))]:
        out = exchange(host, port, datagram)
        results.append({"probe": name, "bytes_in": len(datagram), "bytes_out": out,
                        "factor": out / len(datagram)})
    hello = client_hello(host, port)
    out = exchange(host, port, hello)
    results.append({"probe": "DTLS ClientHello", "bytes_in": len(hello), "bytes_out": out,
                    "factor": out / len(hello)})
    print(json.dumps(results, indent=1))


def relay(host, port, command):
    forwarder = Relay(host, port)
    command = [part.replace("{port}", str(forwarder.port)) for part in command]
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(0.2)
    forwarder.stop()
    print(json.dumps({"exit": completed.returncode,
                      "output": completed.stdout.decode(errors="replace")[-400:],
                      
                      "to_server": {"datagrams": forwarder.to_server[0],
                                    "bytes": forwarder.to_server[1]},
                      "to_client": {"datagrams": forwarder.to_client[0],
                                    "bytes": forwarder.to_client[1]},
                      "sessions": len(forwarder.backs),
                      "datagrams": forwarder.datagrams}))
    return completed.returncode


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "probe":
        probe(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "echo":
        echo_round_trip(sys.argv[2], int(sys.argv[3]))
        return 0
    if len(sys.argv) >= 6 and sys.argv[1] == "relay" and sys.argv[4] == "--":
        return relay(sys.argv[2], int(sys.argv[3]), sys.argv[5:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
