# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side probe of a VIP during a failover, standard library only (runs in a lab VM).

For --seconds it opens a fresh TCP connection with an HTTP GET every --interval seconds
(each attempt times out after --timeout) and records when answers arrive; at the same time
it keeps ONE HTTP/1.1 keep-alive connection, opened before anything else, and sends a
request on it every second. It prints one JSON object: the longest time the client went
without a fresh connection being answered (the outage a user sees), the answers per real
server, and whether every request on the long-lived connection was answered on that same
socket.
"""

import argparse
import json
import os
import socket
import threading
import time


def get(sock, host):
    """One GET / on an open socket; returns the page body (the real server's name)."""
    sock.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n" % host).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by peer")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int([line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")][0])
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by peer")
        body += chunk
    return body[:length].decode().strip()


def measuring(args, started):
    """True until --seconds have passed since started or the --stop-file exists."""
    return time.monotonic() - started < args.seconds and not (args.stop_file and os.path.exists(args.stop_file))


def answering_server(args):
    """The real server that answered one fresh connection, or None when none did."""
    try:
        with socket.create_connection((args.vip, args.port), timeout=args.timeout) as sock:
            return get(sock, args.vip)
    except (OSError, ValueError, IndexError):
        return None


def fresh_connections(args, stop, answers, names):
    while not stop.is_set():
        started = time.monotonic()
        name = answering_server(args)
        if name is not None:
            answers.append(time.monotonic())
            names[name] = names.get(name, 0) + 1
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))


def long_lived(args, stop, result):
    try:
        sock = socket.create_connection((args.vip, args.port), timeout=30)
        result["server"] = get(sock, args.vip)
        while not stop.is_set():
            time.sleep(1)
            if get(sock, args.vip) != result["server"]:
                raise ValueError("another real server answered on the same connection")
            result["requests"] += 1
        sock.close()
    except (OSError, ValueError, IndexError) as error:
        result["error"] = "%s: %s" % (type(error).__name__, error)


def wait_for_servers(args, wanted_only, consecutive):
    """Seconds from the start to the first of `consecutive` fresh connections in a row that
    servers in wanted_only answered (None when --seconds passed first)."""
    started = time.monotonic()
    streak = []
    while time.monotonic() - started < args.seconds:
        attempt = time.monotonic()
        name = answering_server(args)
        streak = streak + [attempt] if name in wanted_only else []
        if len(streak) == consecutive:
            return round(streak[0] - started, 2)
        time.sleep(args.interval)
    return None


def outage_window(args, others):
    """Until --stop-file or --seconds: every fresh connection's result. The server was stopped
    meanwhile, so the failures are connections still scheduled to it; the window from the
    first to the last failure is how long clients were sent to a dead server."""
    started = time.monotonic()
    attempts = []
    while measuring(args, started):
        attempt = time.monotonic()
        name = answering_server(args)
        attempts.append((attempt, name))
        time.sleep(max(0.0, args.interval - (time.monotonic() - attempt)))
    failures = [moment for moment, name in attempts if name is None]
    after = [name for moment, name in attempts if failures and moment > failures[-1]]
    return {
        "failures": len(failures),
        "seconds": round(failures[-1] - failures[0] + args.interval, 2) if failures else None,
        "answers_after": len(after),
        "only_others_after": all(name in others for name in after),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vip", required=True)
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=0.5)
    parser.add_argument("--stop-file", help="end the measurement early when this file exists")
    parser.add_argument("--until-only", nargs="+", help="measure the time until only these servers answer (10 in a row)")
    parser.add_argument("--until-seen", help="measure the time until this server answers")
    parser.add_argument("--outage-until-only", nargs="+",
                        help="until --stop-file: how long connections failed (a server was stopped meanwhile) before only these answered")
    args = parser.parse_args()
    if args.outage_until_only:
        print(json.dumps(outage_window(args, args.outage_until_only)))
        return
    if args.until_only:
        print(json.dumps({"seconds": wait_for_servers(args, args.until_only, 10)}))
        return
    if args.until_seen:
        print(json.dumps({"seconds": wait_for_servers(args, [args.until_seen], 1)}))
        return
    stop = threading.Event()
    answers, names = [], {}
    connection = {"requests": 0, "server": None, "error": None}
    started = time.monotonic()
    threads = [threading.Thread(target=long_lived, args=(args, stop, connection)),
               threading.Thread(target=fresh_connections, args=(args, stop, answers, names))]
    for thread in threads:
        thread.start()
    # Until the stop file appears (the playbook makes it once the failure is well past), so
    # that a slow controller cannot end the measurement before the failure happens.
    while measuring(args, started):
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join()
    ended = time.monotonic()
    marks = [started] + answers + [ended]
    print(json.dumps({
        "longest_gap": round(max(b - a for a, b in zip(marks, marks[1:])), 2),
        "answers": len(answers),
        "servers": names,
        "long_lived": connection,
    }))


if __name__ == "__main__":
    main()
