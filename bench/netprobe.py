#!/usr/bin/env python3
"""netprobe: the host side of bench/net's measurements (not installed).

  netprobe.py wait URL TIMEOUT_S        poll until URL answers (exit 1 on timeout)
  netprobe.py lat URL COUNT             COUNT sequential GETs, each on a new
                                        connection; prints "lat MEDIAN_MS MIN_MS"
  netprobe.py send HOST PORT BYTES      connect, send BYTES, half-close, wait for
                                        the peer to close; prints "send SECONDS MBPS"
  netprobe.py recv ADDR PORT BYTES OUT  listen, accept one connection, read BYTES
                                        (or to EOF); writes "recv SECONDS MBPS" to OUT
"""
import socket
import statistics
import sys
import time
import urllib.request


def get(url, timeout=120.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def main(argv):
    mode = argv[1]
    if mode == "wait":
        deadline = time.monotonic() + float(argv[3])
        while time.monotonic() < deadline:
            # one try may take long: the guest's httpd forks per connection,
            # seconds of emulated guest kernel work on a loaded host; a short
            # per-try timeout abandoned every try there (and each abandoned
            # connection still cost the guest its fork)
            try:
                get(argv[2], timeout=max(1.0, deadline - time.monotonic()))
                return 0
            except Exception:
                time.sleep(1.0)
        return 1
    if mode == "lat":
        url, n = argv[2], int(argv[3])
        t = []
        for _ in range(n):
            t0 = time.monotonic()
            get(url)
            t.append((time.monotonic() - t0) * 1000.0)
        print("lat %.2f %.2f" % (statistics.median(t), min(t)))
        return 0
    chunk = b"\0" * 65536
    if mode == "send":
        host, port, total = argv[2], int(argv[3]), int(argv[4])
        s = socket.create_connection((host, port), timeout=600)
        t0 = time.monotonic()
        left = total
        while left > 0:
            n = s.send(chunk[: min(left, len(chunk))])
            left -= n
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        dt = time.monotonic() - t0
        s.close()
        print("send %.3f %.2f" % (dt, total / dt / 1e6))
        return 0
    if mode == "recv":
        addr, port, total, out = argv[2], int(argv[3]), int(argv[4]), argv[5]
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, port))
        ls.listen(1)
        ls.settimeout(900)
        c, _ = ls.accept()
        c.settimeout(600)
        t0 = time.monotonic()
        got = 0
        while got < total:
            b = c.recv(262144)
            if not b:
                break
            got += len(b)
        dt = time.monotonic() - t0
        c.close()
        with open(out, "w") as f:
            f.write("recv %.3f %.2f %d\n" % (dt, got / dt / 1e6 if dt > 0 else 0, got))
        return 0 if got == total else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
