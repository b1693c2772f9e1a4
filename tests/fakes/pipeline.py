"""The durable workflow on offline AWS: moto, the callback shim, the durable test runner, the real worker."""

from __future__ import annotations

import json
from typing import Any

from fakes.aws import BUCKET, FakeBedrock, FaultyStore, MotoStack
from fakes.callbacks import CallbackShim
from fakes.worker import Behaviour, PollerWorker


class PipelineHarness:
    """A moto stack + callback shim + ``DurableFunctionTestRunner`` around the real workflow, with the
    real worker (:class:`PollerWorker`) on the job queue once :meth:`start_worker` is called."""

    def __init__(self, endpoint: str, config: Any = None, *, worker_minutes: float = 2.0,
                 faults: dict[str, str] | None = None, bedrock: FakeBedrock | None = None,
                 callback_seconds: tuple[int, int] | None = None) -> None:
        from aws_durable_execution_sdk_python.config import Duration
        from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
        from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner

        from podwhisperer.runtime.adapters.events import EventBridgeSink
        from podwhisperer.runtime.adapters.queue import SqsJobQueue
        from podwhisperer.runtime.adapters.storage import S3ObjectStore
        from podwhisperer.runtime.config import PipelineConfig
        from podwhisperer.runtime.pipeline import PipelineDeps, make_durable_handler

        self.stack = MotoStack(endpoint).setup()
        self.shim = CallbackShim().__enter__()  # the one shim; the runner is attached below
        self.bedrock = bedrock or FakeBedrock()
        self.store = FaultyStore(S3ObjectStore(self.stack.client("s3"), BUCKET), faults)
        timeouts = None
        if callback_seconds:
            timeouts = lambda _cfg: (Duration(callback_seconds[0]), Duration(callback_seconds[1]))  # noqa: E731
        self.deps = PipelineDeps(
            config=config or PipelineConfig(),
            store=self.store,
            queue=SqsJobQueue(self.stack.client("sqs"), self.stack.job_queue_url),
            events=EventBridgeSink(self.stack.client("events")),
            bucket=BUCKET,
            bedrock_factory=lambda _cfg: self.bedrock,
            step_retry=create_retry_strategy(RetryStrategyConfig(max_attempts=3, initial_delay=Duration(1))),
            callback_timeouts=timeouts,
        )
        self.runner = DurableFunctionTestRunner(handler=make_durable_handler(lambda: self.deps), poll_interval=0.05)
        self.shim.runner = self.runner
        # The worker has its own clients and store, as the ECS task has (the Lambda's faults are not its own).
        worker_store = S3ObjectStore(self.stack.client("s3"), BUCKET)
        self.worker = PollerWorker(self.stack.client("sqs"), self.stack.job_queue_url, worker_store,
                                   self.shim.lambda_client(max_attempts=1), self.deps.config, minutes=worker_minutes)
        self._worker_started = False

    def start_worker(self, behaviour: Behaviour | None = None) -> PollerWorker:
        """Start the real worker; ``behaviour(job)`` picks a fault per job (see :mod:`fakes.worker`)."""
        if behaviour is not None:
            self.worker.behaviour = behaviour
        self._worker_started = True
        return self.worker.start()

    def run(self, event: dict[str, Any], timeout: int = 60, name: str = "execution-name") -> Any:
        arn = self.runner.run_async(input=json.dumps(event), execution_timeout=timeout, execution_name=name)
        return self.runner.wait_for_result(arn, timeout=timeout)

    def close(self) -> None:
        if self._worker_started:
            self.worker.stop()
        self.runner.close()
        self.shim.__exit__(None, None, None)
