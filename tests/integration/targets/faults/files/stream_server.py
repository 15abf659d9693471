"""One HTTP download that lasts until the test says so, for the faults integration target.

Runs on the lab host as the local real server of the download service:
    python3 stream_server.py PORT RELEASE_FILE
The body streams in chunks (Transfer-Encoding: chunked) until RELEASE_FILE exists, then ends
with the last chunk, so the client can tell a complete download from one cut short. It serves
one request and exits, and gives up after MAX_SECONDS so a failed test leaves nothing behind.
"""

import http.server
import os
import sys
import time

BLOCK = b"\0" * 65536
PAUSE = 0.1
MAX_SECONDS = 600


class StreamHandler(http.server.BaseHTTPRequestHandler):
    """Answers GET with a chunked body that ends when the release file appears."""

    protocol_version = "HTTP/1.1"

    # The name http.server's handler calls for a GET.
    def do_GET(self):  # pylint: disable=invalid-name
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"%x\r\n%s\r\n" % (len(BLOCK), BLOCK)
        deadline = time.monotonic() + MAX_SECONDS
        while not os.path.exists(self.server.release_file) and time.monotonic() < deadline:
            self.wfile.write(chunk)
            time.sleep(PAUSE)
        self.wfile.write(b"0\r\n\r\n")

    # The parent's signature, whose first argument is named format.
    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silent: the test reads the client's figures."""


class OneDownloadServer(http.server.HTTPServer):
    """Listens on every address of the host, so packets IPVS delivers to its VIP arrive too."""

    def __init__(self, port, release_file):
        http.server.HTTPServer.__init__(self, ("", port), StreamHandler)
        self.release_file = release_file
        self.timeout = MAX_SECONDS


def main():
    OneDownloadServer(int(sys.argv[1]), sys.argv[2]).handle_request()


if __name__ == "__main__":
    main()
