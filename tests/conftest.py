"""Suite-wide safety: dummy AWS credentials so no test can reach a real account."""

from __future__ import annotations

import os

import pytest

_DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}

for _name, _value in _DUMMY_AWS_ENV.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"
