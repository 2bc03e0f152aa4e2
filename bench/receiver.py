"""A business's system receiving Padu's forwarded events, for bench/api.py, run under
gunicorn: it notes when each event arrived (and the probe number in it, if any) in the
file BENCH_RECEIVER_LOG and answers 204 at once."""

from __future__ import annotations

import os
import re
import threading
import time

PROBE = re.compile(rb"PROBE\w+-(\d+)-")
_log = open(os.environ["BENCH_RECEIVER_LOG"], "a", buffering=1)  # noqa: SIM115 - for the process's life
_lock = threading.Lock()


def app(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    arrived = time.time()
    probe = PROBE.search(body)
    line = f"{arrived:.6f} {environ.get('HTTP_PADU_EVENT_TYPE', '-')} "
    line += f"{probe.group(1).decode() if probe else '-'}\n"
    with _lock:
        _log.write(line)
    start_response("204 No Content", [])
    return []
