"""Every test sees the fixtures of tests/support/: databases, clients and keys, the live server."""

import pytest

# Plain asserts in the helpers (factories.ok …) explain their failures like a test's own.
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.database",
    "tests.support.clients",
    "tests.support.live_server",
    "tests.support.transparency",
]
