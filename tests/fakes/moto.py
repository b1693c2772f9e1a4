"""The one moto server starter: real HTTP S3/SQS/EventBridge on 127.0.0.1."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

REGION = "eu-west-1"


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on an ephemeral 127.0.0.1 port while the block runs; yields its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset(endpoint: str) -> None:
    """Forget every bucket, queue and rule (between tests sharing one server)."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()


def aws_client(service: str, endpoint: str) -> Any:
    """A boto3 client for the moto server at ``endpoint`` (dummy credentials)."""
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing")
