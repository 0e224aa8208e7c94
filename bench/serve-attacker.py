#!/usr/bin/env python3
"""Hostile clients for bench/run-serve-soak.sh: runs every attack of issue 16
against a fer serve port in a loop until the time is up, and prints one line
of counts and the slowest /healthz seen while the attacks ran.

    serve-attacker.py PORT SECONDS
"""
import socket
import sys
import threading
import time

PORT = int(sys.argv[1])
END = time.time() + float(sys.argv[2])
counts = {}
lock = threading.Lock()
healthz_ms = []


def count(name):
    with lock:
        counts[name] = counts.get(name, 0) + 1


def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    return s


def drain(s, limit=5.0):
    s.settimeout(limit)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except OSError:
        pass
    return data


def slowloris():
    # 100 connections, one header line each per second, reopened when the server ends them.
    socks = []
    while time.time() < END:
        while len(socks) < 100:
            try:
                s = connect()
                s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
                count("slowloris_opened")
            except OSError:
                count("slowloris_refused")
                break
        alive = []
        for s in socks:
            try:
                s.sendall(b"X-Slow: 1\r\n")
                alive.append(s)
            except OSError:
                s.close()
        socks = alive
        time.sleep(1.0)
    for s in socks:
        s.close()


def one_shot(name, payload, read=True):
    try:
        s = connect()
        try:
            s.sendall(payload)
        except OSError:
            pass
        if read:
            drain(s, 3.0)
        s.close()
        count(name)
    except OSError:
        count(name + "_refused")


def bursts():
    hidden = b"GET /v1/model HTTP/1.1\r\nHost: x\r\n\r\n"
    while time.time() < END:
        one_shot("flood", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Flood: " + b"f" * 1000 + b"\r\n" * 1 + (b"X-F: " + b"f" * 1000 + b"\r\n") * 1000)
        one_shot("smuggle", b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 69609\r\n\r\n" + (hidden * 2000)[:69609])
        one_shot("gigabyte", b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1073741824\r\n\r\n")
        one_shot("conflict", b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef")
        one_shot("no_length", b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n\r\n")
        one_shot("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\xff" * 500)
        time.sleep(0.05)


def probes():
    while time.time() < END:
        t = time.time()
        try:
            s = connect()
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            ok = drain(s, 5.0).startswith(b"HTTP/1.1 200")
            s.close()
            healthz_ms.append((time.time() - t) * 1000 if ok else 1e9)
        except OSError:
            healthz_ms.append(1e9)
        time.sleep(0.2)


threads = [threading.Thread(target=f) for f in (slowloris, bursts, probes)]
for t in threads:
    t.start()
for t in threads:
    t.join()
worst = max(healthz_ms) if healthz_ms else float("nan")
print("ATTACKS " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
print(f"HEALTHZ probes={len(healthz_ms)} slowest_ms={worst:.1f} "
      f"median_ms={sorted(healthz_ms)[len(healthz_ms) // 2] if healthz_ms else float('nan'):.1f}")
