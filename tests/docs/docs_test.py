#!/usr/bin/env python3
"""Runs the command blocks of the operator docs and compares their output with the docs.

Usage: docs_test.py CONCIERGE_BINARY DOC.md [DOC.md ...]

Each document runs in a fresh directory of its own, top to bottom, with the built `concierge`
first on PATH. A fenced block whose lines start with "$ " is a command block: each command
(continued over lines ending in a backslash) runs in bash, and what it prints (stdout and
stderr together) must be what the document shows under it. A command ending in "&" starts a
server in the background; the next command waits until the address after its --listen
accepts connections and the server has printed a line (a UDP server: until it has printed a
line). Servers are stopped when the document ends.

Directives, as HTML comments so that readers do not see them:
  <!-- docs-test: setup           commands, one per line, run where they stand (what the
       ...                        page assumes without showing it, such as a second site)
  -->
  <!-- docs-test: skip REASON -->  the next block is not run (it needs root, or runs for
                                   minutes); the reason is printed
  <!-- docs-test: run-only -->     the next block runs, its output is not compared (figures)

Comparing: what changes from run to run is replaced on both sides first (date-times, hex
strings of 16 or more digits, base64 nonces, ports the system picked); "…" in the document
stands for any text. nftables names derived from URL hashes are compared without the hash.
Ports written in the document (127.0.0.1:8443) are mapped to free ports
for the run, so documents can name fixed ports without colliding with anything.

With CONCIERGE_UPDATE_DOCS=1 the documents are rewritten with the real output of every command
whose output no longer matches (review the diff); matching output is left as written.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SETUP = re.compile(r"^<!-- docs-test: setup\s*$")
SKIP = re.compile(r"^<!-- docs-test: skip (.+?) -->\s*$")
RUN_ONLY = re.compile(r"^<!-- docs-test: run-only -->\s*$")
FIXED_PORT = re.compile(r"(?<=127\.0\.0\.1:|localhost:)(\d{4,5})\b")

NORMALIZE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"), "<time>"),
    (re.compile(r"(?<=127\.0\.0\.1:)(3[2-9]\d{3}|[4-6]\d{4})\b"), "<port>"),
    (re.compile(r"\b[0-9a-fA-F]{16,}\b"), "<hex>"),
    # nftables names derived from a MUD URL's hash (the URL holds a port chosen for the run)
    (re.compile(r"\b(mud|mfr|myctl|model|dns|ctl)_[0-9a-f]{10}(?=_)"), r"\1_<id>"),
    (re.compile(r"[0-9a-fA-F]{6,}…"), "<hex>"),
    (re.compile(r"[A-Za-z0-9+/_-]{20,}={0,2}"), "<b64>"),
    # who ran a command, as the audit chain names them
    (re.compile(r'"local:[^"<]+"'), '"local:<user>"'),
]


class Command:
    def __init__(self, text, line, expected, compare, indent):
        self.indent = indent      # the fence's indentation, for rewriting
        self.text = text          # the command as the document shows it
        self.line = line          # its line number in the document (1-based)
        self.expected = expected  # the lines the document shows under it
        self.compare = compare


def parse(path):
    """Yields ("setup", [commands], line) and ("block", [Command]) items in document order."""
    lines = open(path, encoding="utf-8").read().split("\n")
    items = []
    i = 0
    pending_skip = None
    pending_run_only = False
    while i < len(lines):
        line = lines[i]
        if SETUP.match(line):
            start = i + 1
            i += 1
            body = []
            while i < len(lines) and lines[i].strip() != "-->":
                body.append(lines[i])
                i += 1
            items.append(("setup", join_continuations(body, start + 1), start + 1))
            i += 1
            continue
        skip = SKIP.match(line)
        if skip:
            pending_skip = skip.group(1)
            i += 1
            continue
        if RUN_ONLY.match(line):
            pending_run_only = True
            i += 1
            continue
        if line.lstrip().startswith("```"):
            # Fences may be indented (a block inside a list item); so are their lines.
            indent = len(line) - len(line.lstrip())
            start = i
            i += 1
            block = []
            while i < len(lines) and not lines[i].lstrip().startswith("```"):
                block.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i])
                i += 1
            i += 1
            if block and block[0].startswith("$ "):
                if pending_skip:
                    items.append(("skipped", pending_skip, start + 1))
                else:
                    items.append(("block",
                                  commands_of(block, start + 2, not pending_run_only, indent),
                                  start + 1))
            pending_skip = None
            pending_run_only = False
            continue
        i += 1
    return items


def join_continuations(body, first_line):
    commands = []
    current = ""
    for offset, text in enumerate(body):
        if not current and (not text.strip() or text.lstrip().startswith("#")):
            continue
        current += text.rstrip("\\").rstrip() + " " if text.endswith("\\") else text
        if not text.endswith("\\"):
            commands.append((current.strip(), first_line + offset))
            current = ""
    return commands


def commands_of(block, first_line, compare, indent):
    commands = []
    i = 0
    while i < len(block):
        if not block[i].startswith("$ "):
            i += 1
            continue
        line = first_line + i
        text = block[i][2:]
        while text.endswith("\\") and i + 1 < len(block):
            i += 1
            text = text[:-1].rstrip() + " " + block[i].strip()
        i += 1
        expected = []
        while i < len(block) and not block[i].startswith("$ "):
            expected.append(block[i])
            i += 1
        while expected and not expected[-1].strip():
            expected.pop()
        commands.append(Command(text, line, expected, compare, indent))
    return commands


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def normalize(text):
    for pattern, replacement in NORMALIZE:
        text = pattern.sub(replacement, text)
    return text.rstrip()


def matches(expected, actual):
    if len(expected) != len(actual):
        return False
    for want, got in zip(expected, actual):
        want = normalize(want)
        got = normalize(got)
        if "…" in want:
            pattern = ".*".join(re.escape(part) for part in want.split("…"))
            if not re.fullmatch(pattern, got):
                return False
        elif want != got:
            return False
    return True


class Runner:
    def __init__(self, binary, path):
        self.path = path
        self.work = tempfile.mkdtemp(prefix="concierge-docs-")
        self.env = dict(os.environ)
        bin_dir = os.path.join(self.work, ".bin")
        os.makedirs(bin_dir)
        os.symlink(os.path.abspath(binary), os.path.join(bin_dir, "concierge"))
        self.env["PATH"] = bin_dir + os.pathsep + self.env["PATH"]
        self.env["LC_ALL"] = "C.UTF-8"
        # Setup commands may copy the project's own files (a MUD file), never ../shared's.
        self.env["CONCIERGE_SOURCE"] = os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__))))
        self.servers = []
        self.ports = {}
        self.waiting_for = None

    def map_ports(self, text):
        def replace(match):
            port = match.group(1)
            if port not in self.ports:
                self.ports[port] = str(free_port())
            return self.ports[port]
        return FIXED_PORT.sub(replace, text)

    def unmap_ports(self, text):
        for doc_port, real in self.ports.items():
            text = re.sub(r"(?<=127\.0\.0\.1:)" + real + r"\b", doc_port, text)
            text = re.sub(r"(?<=localhost:)" + real + r"\b", doc_port, text)
        return text

    def wait_for_server(self):
        if self.waiting_for is None:
            return
        address, process, log = self.waiting_for
        self.waiting_for = None
        host, port = address.rsplit(":", 1)
        deadline = time.time() + 15
        def printed_a_line():
            with open(log.name, encoding="utf-8", errors="replace") as written:
                return written.read().endswith("\n")
        while time.time() < deadline:
            if process.poll() is not None:
                return
            try:
                with socket.create_connection((host, int(port)), timeout=1):
                    break
            except OSError:
                # A UDP server (the join proxy) accepts no connection: its banner says it is
                # bound.
                if printed_a_line():
                    return
                time.sleep(0.05)
        # A server listens before it prints its banner: wait for the line too, or a loaded
        # machine shows the document an empty output.
        while time.time() < deadline and process.poll() is None:
            if printed_a_line():
                return
            time.sleep(0.05)

    def run(self, text):
        """Runs one command; returns its output lines (ports mapped back to the document's)."""
        self.wait_for_server()
        command = self.map_ports(text)
        if command.rstrip().endswith("&"):
            log = open(os.path.join(self.work, ".server-%d.log" % len(self.servers)), "w+")
            process = subprocess.Popen(["bash", "-c", "exec " + command.rstrip()[:-1]],
                                       cwd=self.work, env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            self.servers.append((process, log))
            listen = re.search(r"--listen\s+(\S+)", command)
            if listen:
                self.waiting_for = (listen.group(1), process, log)
                self.wait_for_server()
            log.flush()
            log.seek(0)
            return self.unmap_ports(log.read()).split("\n")[:-1]
        done = subprocess.run(["bash", "-c", command], cwd=self.work, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        output = done.stdout.decode("utf-8", "replace")
        lines = self.unmap_ports(output).split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return lines

    def stop(self):
        for process, log in self.servers:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process, log in self.servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
            log.close()
        if os.environ.get("KEEP_WORK"):
            print("work kept in " + self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def check(binary, path, update):
    runner = Runner(binary, path)
    failures = []
    replacements = {}  # document line of a command -> its real output
    counts = {"commands": 0, "compared": 0, "skipped blocks": 0}
    try:
        for item in parse(path):
            kind = item[0]
            if kind == "skipped":
                counts["skipped blocks"] += 1
                print("  %s:%d: not run: %s" % (os.path.basename(path), item[2], item[1]))
                continue
            if kind == "setup":
                for text, line in item[1]:
                    output = runner.run(text)
                    if any(word in " ".join(output) for word in ("error:", "FAIL")):
                        failures.append("%s:%d: setup command failed: %s\n    %s" %
                                        (path, line, text, "\n    ".join(output)))
                continue
            for command in item[1]:
                counts["commands"] += 1
                actual = runner.run(command.text)
                if not command.compare:
                    continue
                counts["compared"] += 1
                if not matches(command.expected, actual):
                    failures.append("%s:%d: $ %s\n  the document shows:\n    %s\n  it printed:\n"
                                    "    %s" % (path, command.line, command.text,
                                               "\n    ".join(command.expected) or "(nothing)",
                                               "\n    ".join(actual) or "(nothing)"))
                    replacements[command.line] = (len(command.expected),
                                                  [" " * command.indent + a for a in actual])
    finally:
        runner.stop()
    if update and replacements:
        rewrite(path, replacements)
    return failures, counts


def rewrite(path, replacements):
    lines = open(path, encoding="utf-8").read().split("\n")
    out = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        number = i + 1
        i += 1
        if number in replacements:
            # The command may continue over several lines; its output starts after them.
            while out[-1].endswith("\\"):
                out.append(lines[i])
                i += 1
            old_count, actual = replacements[number]
            out.extend(actual)
            i += old_count
    open(path, "w", encoding="utf-8").write("\n".join(out))
    print("  rewrote %d command output(s) in %s" % (len(replacements), path))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary = sys.argv[1]
    update = os.environ.get("CONCIERGE_UPDATE_DOCS") == "1"
    all_failures = []
    for path in sys.argv[2:]:
        failures, counts = check(binary, path, update)
        print("%s: %d commands run, %d compared, %d mismatched, %d blocks not run" %
              (path, counts["commands"], counts["compared"], len(failures),
               counts["skipped blocks"]))
        all_failures.extend(failures)
    for failure in all_failures:
        print("\nMISMATCH " + failure)
    if all_failures:
        print("\n%d command(s) print something else than their docs show" % len(all_failures))
        return 1
    print("PASS: every compared command prints what its docs show")
    return 0


if __name__ == "__main__":
    sys.exit(main())
