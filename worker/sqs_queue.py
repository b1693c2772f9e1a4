"""The poller's SQS operations on its job queue: receive, delete, release, extend, and dead-lettering.

Failures to delete or change visibility are logged, not raised: the message reappears and the job is
idempotent (the raw transcript is reused).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Redrive:
    """Where malformed messages go and after how many deliveries a failing job is given up."""

    dead_letter_queue_url: str | None
    max_receive_count: int | None


class QueueOps:
    """One queue through an injected boto3 SQS client."""

    def __init__(self, sqs_client: Any, queue_url: str, *, visibility_timeout_seconds: int,
                 dead_letter_queue_url: str | None = None, max_receive_count: int | None = None) -> None:
        self._sqs = sqs_client
        self.queue_url = queue_url
        self._visibility = visibility_timeout_seconds
        self._configured = Redrive(dead_letter_queue_url, max_receive_count)
        self._redrive: Redrive | None = None

    def receive(self, wait_seconds: int, stop: threading.Event) -> list[dict[str, Any]]:
        """At most one message (long polling); [] after a failed call (waits a second unless stopping)."""
        try:
            response = self._sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=max(0, wait_seconds),
                VisibilityTimeout=self._visibility,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
        except Exception as exc:  # network or throttling: keep the loop alive, try again shortly
            log.warning("receive_message failed: %s", exc)
            stop.wait(1.0)
            return []
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def delete(self, receipt: str) -> None:
        try:
            self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
        except Exception as exc:  # the message reappears later; the job is idempotent (transcript reuse)
            log.warning("delete_message failed: %s", exc)

    def release(self, receipt: str, delay_seconds: int) -> None:
        try:
            self._sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=receipt,
                                                VisibilityTimeout=delay_seconds)
        except Exception as exc:
            log.warning("could not release the message: %s", exc)

    def extend(self, receipt: str, seconds: int, what: str) -> None:
        """Keep a message invisible ``seconds`` longer (``what`` names it in the warning)."""
        try:
            self._sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=receipt,
                                                VisibilityTimeout=seconds)
        except Exception as exc:
            log.warning("could not extend the visibility of %s: %s", what, exc)

    def dead_letter(self, body: str, error: str) -> bool:
        """Copy a body to the dead-letter queue; False when that failed (True when none is known)."""
        dead_letter_url = self.redrive().dead_letter_queue_url
        if not dead_letter_url:
            log.error("no dead-letter queue known; dropping the malformed message")
            return True
        try:
            self._sqs.send_message(QueueUrl=dead_letter_url, MessageBody=body or "(empty body)",
                                   MessageAttributes={"podwhisperer-error": {
                                       "DataType": "String", "StringValue": error[:1000]}})
        except Exception as exc:  # leave it on the queue; redrive will move it eventually
            log.error("could not dead-letter the message: %s", exc)
            return False
        return True

    def redrive(self) -> Redrive:
        """The DLQ URL and max receives: from the settings, else from the queue's RedrivePolicy (read once)."""
        if self._redrive is None:
            self._redrive = self._read_redrive()
        return self._redrive

    def _read_redrive(self) -> Redrive:
        configured = self._configured
        if configured.dead_letter_queue_url and configured.max_receive_count:
            return configured
        try:
            attributes = self._sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                                        AttributeNames=["RedrivePolicy"])["Attributes"]
            policy = json.loads(attributes.get("RedrivePolicy") or "{}")
            arn = policy.get("deadLetterTargetArn")
            url = configured.dead_letter_queue_url
            if url is None and arn:
                _, _, _, _, account, name = arn.split(":", 5)
                url = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            max_receives = configured.max_receive_count or _optional_int(policy.get("maxReceiveCount"))
            return Redrive(url, max_receives)
        except Exception as exc:
            log.warning("could not read the queue's redrive policy: %s", exc)
            return configured


def _optional_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
