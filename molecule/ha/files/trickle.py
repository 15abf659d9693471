# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy stdin to stdout at a trickle until a release file exists, then at full speed.

Piped after curl, it keeps a download open until the test releases it, however long the
steps in between take: a download at a fixed rate lasts a fixed time, which the steps of a
slow host can outlast. The trickle (32 KiB/s) still lets the TCP window open every few
seconds, so the web server never sees a client stalled for its send_timeout (60 s in nginx).

    curl -sS http://VIP/big.txt | python3 trickle.py /root/release | ...
"""

import os
import sys
import time

TRICKLE_CHUNK = 8192
TRICKLE_PAUSE = 0.25
RELEASED_CHUNK = 1 << 20


def main():
    release = sys.argv[1]
    while True:
        released = os.path.exists(release)
        data = os.read(0, RELEASED_CHUNK if released else TRICKLE_CHUNK)
        if not data:
            return
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]
        if not released:
            time.sleep(TRICKLE_PAUSE)


if __name__ == "__main__":
    main()
