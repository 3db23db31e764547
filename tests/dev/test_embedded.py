"""The embedded Redis server a local run uses when REDIS_URL is unset."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot import create_app
from bot.dev.embedded import EmbeddedRedis
from bot.dev.localclient import LocalPhone


def client_for(url: str) -> redis.Redis:
    """A client that fails at once (no reconnect retries) when the server is gone."""
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=2,
                                retry=Retry(NoBackoff(), 0))


def shut_down(url: str) -> None:
    """Stop whatever server answers at `url`, without saving."""
    with contextlib.suppress(redis.RedisError, OSError):
        client_for(url).shutdown(nosave=True)


def answers(url: str) -> bool:
    try:
        return bool(client_for(url).ping())
    except (redis.RedisError, OSError):
        return False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """An embedded server in a fresh folder, stopped after the test whatever happens."""
    srv = EmbeddedRedis(tmp_path / "r")
    yield srv
    if srv.process is not None and srv.process.poll() is None:
        # Faster than srv.stop() (see test_stop_shuts_the_server_down), same end state.
        shut_down(srv.url)
        srv.process.wait(timeout=10)
    srv.stop()


def test_start_gives_a_working_unix_socket_url(server: EmbeddedRedis) -> None:
    url = server.start()
    assert url.startswith("unix://")
    assert url == server.url
    assert Path(url.removeprefix("unix://")).is_socket()
    c = client_for(url)
    assert c.ping() is True
    c.set("greeting", "hello")
    assert c.get("greeting") == "hello"
    assert server.process is not None and server.process.poll() is None


def test_socket_is_private_to_its_owner(server: EmbeddedRedis) -> None:
    server.start()
    mode = stat.S_IMODE(os.stat(server.socket).st_mode)
    assert mode & 0o077 == 0


def test_second_instance_reuses_the_running_server(server: EmbeddedRedis) -> None:
    url = server.start()
    client_for(url).set("k", "from-first")
    second = EmbeddedRedis(server.directory)
    assert second.start() == url
    assert second.process is None
    assert client_for(second.url).get("k") == "from-first"
    # Stopping the one that did not start the server leaves it running.
    second.stop()
    assert answers(url)


def test_stop_shuts_the_server_down(server: EmbeddedRedis) -> None:
    url = server.start()
    process = server.process
    assert process is not None
    server.stop()
    assert server.process is None
    assert process.poll() is not None
    assert not answers(url)


def test_data_survives_a_restart(server: EmbeddedRedis) -> None:
    url = server.start()
    client_for(url).set("conv:+447700900123", '{"state": "tests"}')
    server.stop()
    assert not answers(url)
    again = EmbeddedRedis(server.directory)
    try:
        assert again.start() == url
        assert again.process is not None  # a new server, not the old one
        assert client_for(url).get("conv:+447700900123") == '{"state": "tests"}'
    finally:
        if again.process is not None:
            shut_down(url)
            again.process.wait(timeout=10)
        again.stop()


def test_stale_socket_file_does_not_block_a_start(server: EmbeddedRedis) -> None:
    server.directory.mkdir(parents=True)
    server.socket.write_text("left over from a crash")
    url = server.start()
    assert answers(url)


def test_app_without_redis_url_starts_the_embedded_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": str(instance)})
    url = str(app.config["REDIS_URL"])
    try:
        assert url.startswith("unix://")
        assert Path(url.removeprefix("unix://")).parent == instance
        client = app.test_client()
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.get_json()["redis"] == "ok"
        # With no Twilio account, webhooks are still signed, with the local token.
        token_file = instance / "dev-auth-token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert token_file.read_text().strip() == app.config["AUTH_TOKEN"]
        phone = LocalPhone(client, app.config["AUTH_TOKEN"], "+447700900123")
        (text,) = phone.send("hi")
        assert "Reply with a number" in text
        assert client.post("/sms", data={"From": "+447700900123", "Body": "hi"}
                           ).status_code == 403
    finally:
        shut_down(url)
    assert not answers(url)
    assert app.test_client().get("/healthz").status_code == 503
