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

The playbook never guesses how long anything takes: --ready-file tells it the probe is
measuring (async jobs start late on a loaded guest), and after --stop-file the probe goes on
until it has seen the service answer again, so a slow host cannot cut a measurement short.
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


def write_ready(path, info):
    """Write the ready file in one rename: the playbook polls it and must never read half of it."""
    if path:
        with open(path + ".tmp", "w") as handle:
            json.dump(info, handle)
        os.rename(path + ".tmp", path)


def stop_requested(args):
    return bool(args.stop_file) and os.path.exists(args.stop_file)


def measuring(args, started):
    """True until --seconds have passed since started or the --stop-file exists."""
    return time.monotonic() - started < args.seconds and not stop_requested(args)


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
        # The directors list this connection by the client's address and port: the playbook
        # waits until the backup holds its synchronised copy.
        address, port = sock.getsockname()[:2]
        write_ready(args.ready_file, {"address": address, "port": port})
        while not stop.is_set():
            time.sleep(1)
            if get(sock, args.vip) != result["server"]:
                raise ValueError("another real server answered on the same connection")
            result["requests"] += 1
        sock.close()
    except (OSError, ValueError, IndexError) as error:
        result["error"] = "%s: %s" % (type(error).__name__, error)


def wait_until_only(args, wanted, in_a_row):
    """Seconds from the start to the end of the last answer by a server not in `wanted`, once
    `in_a_row` answers in a row came from wanted servers (0.0 when no other server answered;
    None when --seconds passed first). An unanswered attempt neither counts nor breaks the
    run: on a slow host an attempt can time out, which says nothing about the scheduling."""
    started = time.monotonic()
    since, run = started, 0
    while time.monotonic() - started < args.seconds:
        name = answering_server(args)
        if name in wanted:
            run += 1
            if run == in_a_row:
                return round(since - started, 2)
        elif name is not None:
            since, run = time.monotonic(), 0
        time.sleep(args.interval)
    return None


def wait_until_seen(args, wanted):
    """Seconds from the start to the first fresh connection `wanted` answered (None when
    --seconds passed first)."""
    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        attempt = time.monotonic()
        if answering_server(args) == wanted:
            return round(attempt - started, 2)
        time.sleep(args.interval)
    return None


def answered_in_a_row(attempts):
    """How many of the latest attempts were answered, counting back to the last failure."""
    count = 0
    for _moment, name in reversed(attempts):
        if name is None:
            break
        count += 1
    return count


def outage_window(args, others):
    """Every fresh connection's result, until --stop-file and then --answers-after answered
    attempts in a row (or --seconds). The server was stopped meanwhile, so the failures are
    connections still scheduled to it; the window from the first to the last failure is how
    long clients were sent to a dead server."""
    started = time.monotonic()
    attempts = []
    ready = False
    while time.monotonic() - started < args.seconds:
        attempt = time.monotonic()
        name = answering_server(args)
        attempts.append((attempt, name))
        if name is not None and not ready:
            write_ready(args.ready_file, {})
            ready = True
        # The playbook stops the probe once the directors dropped the server; the answers
        # after the last failure are what shows that clients only reach the others now.
        if stop_requested(args) and answered_in_a_row(attempts) >= args.answers_after:
            break
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
    parser.add_argument("--stop-file", help="end the measurement once this file exists and the service was seen answering after it")
    parser.add_argument("--ready-file", help="write this file (JSON) once the measurement runs")
    parser.add_argument("--min-requests", type=int, default=10,
                        help="after --stop-file, go on until the keep-alive connection has answered this many requests")
    parser.add_argument("--answers-after", type=int, default=10,
                        help="with --outage-until-only, after --stop-file go on until this many attempts in a row were answered")
    parser.add_argument("--until-only", nargs="+", help="measure the time until only these servers answer (10 in a row)")
    parser.add_argument("--until-seen", help="measure the time until this server answers")
    parser.add_argument("--outage-until-only", nargs="+",
                        help="until --stop-file: how long connections failed (a server was stopped meanwhile) before only these answered")
    args = parser.parse_args()
    if args.outage_until_only:
        print(json.dumps(outage_window(args, args.outage_until_only)))
        return
    if args.until_only:
        print(json.dumps({"seconds": wait_until_only(args, args.until_only, 10)}))
        return
    if args.until_seen:
        print(json.dumps({"seconds": wait_until_seen(args, args.until_seen)}))
        return
    stop = threading.Event()
    answers, names = [], {}
    connection = {"requests": 0, "server": None, "error": None}
    started = time.monotonic()
    threads = [threading.Thread(target=long_lived, args=(args, stop, connection)),
               threading.Thread(target=fresh_connections, args=(args, stop, answers, names))]
    for thread in threads:
        thread.start()
    # Until the stop file appears (the playbook makes it once the backup holds the VIP), so
    # that a slow controller cannot end the measurement before the failure happens.
    while measuring(args, started):
        time.sleep(0.1)
    # Then until the service has been seen through the new master: a fresh connection and two
    # more requests on the keep-alive connection answered after the stop file (and
    # --min-requests in all), or that connection failed, or --seconds passed.
    stopped, requests_at_stop = time.monotonic(), connection["requests"]
    while time.monotonic() - started < args.seconds and not (
            answers and answers[-1] > stopped
            and (connection["error"] is not None or connection["requests"] >= max(args.min_requests, requests_at_stop + 2))):
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
