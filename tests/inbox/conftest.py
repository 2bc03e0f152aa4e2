from __future__ import annotations

import pytest

from tests.channels_meta.conftest import meta  # noqa: F401 (the simulator, for inbox tests)
from tests.channels_meta.delivery import make_channels


@pytest.fixture
def channels(world):
    return make_channels(world.org)
