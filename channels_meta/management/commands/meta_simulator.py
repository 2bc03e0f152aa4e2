from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels_meta.simulator.app import MetaSimulator
from channels_meta.simulator.persistence import StateFile
from channels_meta.simulator.state import SimulatorState
from channels_meta.simulator.traffic import Traffic
from channels_meta.simulator.webhooks import WebhookSender


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


class Command(BaseCommand):
    help = (
        "Serve the Meta simulator: Graph API, login dialogs, and webhooks to --target; "
        "with --rate it also plays customers writing to the simulated businesses."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8900)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--target", default="", help="Padu's webhook URL.")
        parser.add_argument(
            "--public-url",
            default="",
            help="The simulator's address as Padu reaches it, for links to customers' media "
            "(default: http://HOST:PORT).",
        )
        parser.add_argument("--customers", type=int, default=20)
        parser.add_argument("--rate", type=float, default=0.0, help="Customer events per second.")
        parser.add_argument(
            "--opening",
            type=int,
            default=0,
            help="Scripted customer events sent first (unless the state was restored), one "
            "every half second: texts in several languages, photos, comments, a story "
            "reply, an order.",
        )
        parser.add_argument(
            "--answers",
            type=float,
            default=0.0,
            help="Share of customers who answer a business's message a few seconds later (0-1).",
        )
        parser.add_argument(
            "--subscribed-only",
            action="store_true",
            help="Customers write only to businesses subscribed to webhooks; traffic waits "
            "for the first subscription.",
        )
        parser.add_argument(
            "--receipt-delay",
            type=float,
            default=0.0,
            help="Seconds before a business's message is delivered, and again before it is read.",
        )
        parser.add_argument(
            "--duplicates", type=float, default=0.0, help="Share of webhooks sent twice (0-1)."
        )
        parser.add_argument(
            "--reorder", type=float, default=0.0, help="Share of status updates reordered (0-1)."
        )
        parser.add_argument("--seed", type=int, default=None, help="Make everything repeatable.")
        parser.add_argument("--state", type=Path, help="A JSON file of business accounts.")
        parser.add_argument(
            "--state-file",
            type=Path,
            help="Where the simulator keeps what it knows (tokens, subscriptions, ...) "
            "across restarts: loaded when it exists, else made from --state or the default "
            "businesses; saved within a second of every change and on exit.",
        )
        parser.add_argument(
            "--retry-scale", type=float, default=1.0, help="Scale of the retry backoff (1 = Meta)."
        )
        parser.add_argument("--allow-production", action="store_true")

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError(
                "The Meta simulator does not run with PADU_ENV=production "
                "unless --allow-production is given."
            )
        if not settings.META_APP_ID or not settings.META_APP_SECRET:
            raise CommandError("Set META_APP_ID and META_APP_SECRET: the simulator plays that app.")
        state = SimulatorState(
            app_id=settings.META_APP_ID,
            app_secret=settings.META_APP_SECRET,
            instagram_app_id=settings.META_INSTAGRAM_APP_ID,
            instagram_app_secret=settings.META_INSTAGRAM_APP_SECRET,
            seed=options["seed"],
        )
        state_file = StateFile(options["state_file"], state) if options["state_file"] else None
        try:
            restored = state_file is not None and state_file.load()
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(
                f"Cannot read the simulator state in {options['state_file']}: {error}. "
                "Move the file away to start afresh."
            ) from error
        if not restored:
            if options["state"]:
                state.load(json.loads(options["state"].read_text()))
            else:
                state.seed_default()
        sender = None
        if options["target"]:
            sender = WebhookSender(
                target_url=options["target"],
                app_secret=settings.META_APP_SECRET,
                instagram_app_secret=state.instagram_app_secret,
                time_scale=options["retry_scale"],
            )
        simulator = MetaSimulator(
            state,
            sender,
            duplicate_rate=options["duplicates"],
            reorder_rate=options["reorder"],
            public_url=options["public_url"] or f"http://{options['host']}:{options['port']}",
            receipt_delay=options["receipt_delay"],
        )
        stop = threading.Event()
        threads = []
        if sender is not None:
            threads.append(threading.Thread(target=sender.run_forever, args=(stop,), daemon=True))
        if options["rate"] > 0 or options["opening"] > 0:
            traffic = Traffic(
                simulator,
                customers=options["customers"],
                rate=options["rate"],
                # A restarted simulator's customers have already opened their conversations.
                opening=0 if restored else options["opening"],
                answers=options["answers"],
                subscribed_only=options["subscribed_only"],
            )
            threads.append(threading.Thread(target=traffic.run, args=(stop,), daemon=True))
        if state_file is not None:
            state_file.save()
            threads.append(
                threading.Thread(target=state_file.save_every, args=(1.0, stop), daemon=True)
            )
        server = make_server(
            options["host"],
            options["port"],
            simulator,
            server_class=ThreadingServer,
            handler_class=QuietHandler,
        )
        self.stdout.write(
            f"Meta simulator on http://{options['host']}:{options['port']}/ "
            f"(assets and system-user tokens: /_sim/state)"
        )
        for thread in threads:
            thread.start()
        # Stopped like Ctrl-C, so the state is saved on the way out.
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            server.server_close()
            if state_file is not None:
                state_file.save()
