"""The console's tests share one signed-in nurse."""

from __future__ import annotations

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from tests.support.console import add_nurse, signed_in


@pytest.fixture
def nurse(app: Flask, r: redis.Redis) -> FlaskClient:
    """A signed-in nurse's browser."""
    add_nurse(r)
    return signed_in(app)
