"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

# Database 15 by default: tests never touch the service's own database 0.
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Where the Redis server used by the tests is; set ``EAS_TEST_REDIS_URL`` to move it."""
    return os.environ.get("EAS_TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)


@pytest.fixture(scope="session")
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on a real Redis server.

    A missing server fails the tests instead of skipping them: the context store is only
    tested against the real thing, and a silent skip would hide that nothing was tested.
    """
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        pytest.fail(
            f"Redis is not reachable at {redis_url} ({exc}); start a server there or point "
            "EAS_TEST_REDIS_URL at one (redis://host:port/db)",
            pytrace=False,
        )
    yield client
    client.close()


@pytest.fixture
def redis_key_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    prefix = f"eas:test:{uuid.uuid4().hex}:"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}*", count=500))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory):
    """A 2-layer BERT with the real MiniLM tokenizer (see tests/support/tiny_model.py)."""
    from tests.support.tiny_model import make_tiny_encoder

    return make_tiny_encoder(tmp_path_factory.mktemp("tiny_encoder"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir):
    """A complete model directory (weights, tokenizer, labels, ONNX) trained for a few seconds."""
    from nlp_service.training.config import TrainConfig
    from nlp_service.training.trainer import train
    from tests.support.tiny_model import tiny_dataset

    out = tmp_path_factory.mktemp("tiny_model")
    config = TrainConfig(encoder=str(tiny_encoder_dir), epochs=8, head_lr=5e-3, encoder_lr=5e-3, patience=8)
    return train(tiny_dataset(), out, config)
