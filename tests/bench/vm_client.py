# Runs inside the bench VM's client namespace: one TCP connection through the VIP that must
# outlive a table change. It says "connected" once an echo came back, waits for the go file,
# then sends again and writes "survived" or what went wrong.
import os
import socket
import sys
import time

STATE, GO = "/run/bench-conn.state", "/run/bench-conn.go"


def echo(connection, text):
    connection.sendall(text)
    received = b""
    while not received.endswith(b"\n"):
        chunk = connection.recv(100)
        if not chunk:
            raise IOError("connection closed by the far end")
        received += chunk
    if received != text:
        raise IOError("echo %r instead of %r" % (received, text))


def report(text):
    with open(STATE + ".tmp", "w") as handle:
        handle.write(text + "\n")
    os.rename(STATE + ".tmp", STATE)


try:
    connection = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    echo(connection, b"before\n")
    report("connected")
    while not os.path.exists(GO):
        time.sleep(0.2)
    echo(connection, b"after\n")
    report("survived")
except Exception as error:  # the bench reports any failure as a lost connection
    report("lost: %s" % error)
