"""Which views the access log leaves out."""

from __future__ import annotations

from collections.abc import Callable


def access_log_exempt(view: Callable) -> Callable:
    """Leave this view's requests out of the access log: machine polling (every second
    from each open page) says nothing about what a person opened."""
    view.access_log_exempt = True
    return view
