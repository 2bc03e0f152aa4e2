"""Gunicorn's settings for Padu: `gunicorn -c padu/gunicorn.conf.py padu.wsgi`.

In docker-compose gunicorn is reached only through the proxy (Caddy), the one peer whose
X-Forwarded-Proto it believes. Its access log keeps no secrets: paths without query
strings, with the tokens of Padu's links taken out.
"""

from __future__ import annotations

import os

from gunicorn import glogging

from padu.logging import ScrubSecrets, scrub

bind = ["0.0.0.0:8000"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))

# The proxy's address; docker-compose sets it. Without it, only this machine is believed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Caddy replaces X-Forwarded-Proto; gunicorn's other default scheme headers
# (X-Forwarded-Ssl, X-Forwarded-Protocol) would reach it from the client untouched.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
# Padu is served at the root: no SCRIPT_NAME or PATH_INFO from headers, even the proxy's.
forwarder_headers = ""

# Nothing here uses gunicornc; one socket fewer (gunicorn 25.1 and later).
control_socket_disable = True

accesslog = "-"
# The client's address as the proxy saw it, the proxy's own, then the request by path only.
access_log_format = (
    '%({x-forwarded-for}i)s %(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
)

_scrub_secrets = ScrubSecrets()


class ScrubbingLogger(glogging.Logger):
    """Gunicorn's logger, with query strings and link tokens taken out of every request
    line, path and referrer it logs, in the access log and in error messages."""

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.addFilter(_scrub_secrets)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            atoms[key] = scrub(atoms[key] or "")
        atoms["q"] = ""
        return atoms


logger_class = ScrubbingLogger
