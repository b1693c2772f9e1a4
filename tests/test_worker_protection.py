"""ECS task scale-in protection: held for the length of a job, dropped afterwards, never fatal."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from podwhisperer.worker.cli import WorkerEnv
from podwhisperer.worker.job import JobResult
from podwhisperer.worker.messages import JobMessage
from podwhisperer.worker.poller import Poller, PollerSettings
from podwhisperer.worker.protection import MAX_PROTECTION_MINUTES, TaskProtection


class AgentEndpoint:
    """A loopback stand-in for the ECS agent's task-protection endpoint."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, object]]] = []
        calls = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                calls.append((self.command, self.path, body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/v4/task-id"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def agent() -> Iterator[AgentEndpoint]:
    endpoint = AgentEndpoint()
    yield endpoint
    endpoint.server.shutdown()


def test_protect_and_release_call_the_agent(agent: AgentEndpoint) -> None:
    protection = TaskProtection(agent.uri)
    protection.protect(90.2)
    protection.release()
    assert agent.requests == [
        ("PUT", "/v4/task-id/task-protection/v1/state", {"ProtectionEnabled": True, "ExpiresInMinutes": 91}),
        ("PUT", "/v4/task-id/task-protection/v1/state", {"ProtectionEnabled": False}),
    ]


def test_protection_is_capped_at_the_ecs_limit(agent: AgentEndpoint) -> None:
    TaskProtection(agent.uri).protect(10_000)
    assert agent.requests[0][2]["ExpiresInMinutes"] == MAX_PROTECTION_MINUTES


def test_outside_ecs_and_on_agent_errors_nothing_is_raised(caplog: pytest.LogCaptureFixture) -> None:
    TaskProtection(None).protect(5)  # no agent: a no-op
    TaskProtection("http://127.0.0.1:9/v4/x", timeout_seconds=0.5).protect(5)  # nothing listens on port 9
    assert "task scale-in protection" in caplog.text


class FakeSqs:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def change_message_visibility(self, **_: object) -> None:
        pass

    def delete_message(self, *, QueueUrl: str, ReceiptHandle: str) -> None:
        self.deleted.append(ReceiptHandle)


class FakeCallbacks:
    def __init__(self) -> None:
        self.succeeded: list[str] = []

    def succeed(self, callback_id: str, result: object) -> None:
        self.succeeded.append(callback_id)

    def heartbeat(self, callback_id: str) -> None:
        pass


class ProtectedDuringJob:
    """A job that records whether the task was protected while it ran."""

    def __init__(self, agent: AgentEndpoint) -> None:
        self.agent = agent
        self.seen: list[dict[str, object]] = []

    def run(self, message: JobMessage) -> JobResult:
        self.seen = [body for _, _, body in self.agent.requests]
        return JobResult(raw_transcript_key="output/a_raw_transcript.json", stats={})


def test_poller_protects_the_task_for_the_job_timeout_while_a_job_runs(agent: AgentEndpoint) -> None:
    job = ProtectedDuringJob(agent)
    sqs, callbacks = FakeSqs(), FakeCallbacks()
    settings = PollerSettings(queue_url="q", job_timeout_minutes=45, job_check_interval_seconds=0.01)
    poller = Poller(sqs, job, callbacks, settings, protection=TaskProtection(agent.uri))  # type: ignore[arg-type]
    body = json.dumps({"s3_key": "input/a.mp3", "callback_id": "cb-1"})
    poller._handle({"ReceiptHandle": "r-1", "Body": body, "Attributes": {"ApproximateReceiveCount": "1"}})
    assert job.seen == [{"ProtectionEnabled": True, "ExpiresInMinutes": 45}]
    assert [body for _, _, body in agent.requests][-1] == {"ProtectionEnabled": False}
    assert callbacks.succeeded == ["cb-1"] and sqs.deleted == ["r-1"]


def test_worker_env_reads_the_agent_uri() -> None:
    env = WorkerEnv.from_env({"QUEUE_URL": "q", "BUCKET_NAME": "b", "ECS_AGENT_URI": "http://169.254.170.2/v4/x"})
    assert env.ecs_agent_uri == "http://169.254.170.2/v4/x"
