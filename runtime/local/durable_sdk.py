"""The one place local mode touches the durable testing SDK beyond its public API.

``DurableFunctionTestRunner`` runs the workflow in-process with real replay semantics and a
filesystem execution store; local mode also needs to wait on an execution it did not start in
this process, to resume an interrupted one, and to know when the last invocation has saved its
record. The SDK has no public API for those, so this adapter reaches into its executor — an SDK
upgrade touches this file only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import ErrorObject


class LocalDurableRunner:
    """A durable runner with on-disk executions under ``executions_dir``."""

    def __init__(self, handler: Callable[[Any, Any], Any], executions_dir: Path, *, function_name: str) -> None:
        from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner
        from aws_durable_execution_sdk_python_testing.stores.filesystem import FileSystemExecutionStore

        executions_dir.mkdir(parents=True, exist_ok=True)
        self.function_name = function_name
        self.executions = FileSystemExecutionStore.create(executions_dir)
        self._runner = DurableFunctionTestRunner(handler=handler, store=self.executions, skip_time=True,
                                                 poll_interval=0.2, invocation_timeout=24 * 3600)

    def start(self, event_json: str, name: str, timeout_seconds: int) -> str:
        """Start a new execution; returns its ARN."""
        arn: str = self._runner.run_async(input=event_json, execution_name=name, function_name=self.function_name,
                                          execution_timeout=timeout_seconds)
        return arn

    def load(self, arn: str) -> Any:
        return self.executions.load(arn)

    def find(self, name: str) -> Any:
        """The latest execution called ``name``, or None."""
        found, _ = self.executions.query(function_name=self.function_name, execution_name=name)
        return found[-1] if found else None

    def wait_until_complete(self, arn: str, timeout: float | None) -> None:
        self._runner._executor.wait_until_complete(arn, timeout)  # the runner's own wait

    def settle(self, arn: str, timeout: float = 10.0) -> None:
        """The executor signals completion from inside the last invocation, which then saves the
        execution record once more; wait for that so nothing writes after we return."""
        from aws_durable_execution_sdk_python_testing.worker.status import InvocationState

        executor = self._runner._executor
        deadline = time.monotonic() + timeout
        while executor._invocation_gate(arn) is InvocationState.INVOKING and time.monotonic() < deadline:
            time.sleep(0.005)

    def resume(self, execution: Any, timeout_seconds: int) -> None:
        """Hand an interrupted execution back to the executor, which replays it from its checkpoints."""
        self._runner._executor._launch_execution(execution, timeout_seconds)  # no public resume API

    def succeed_callback(self, callback_id: str, result: bytes) -> None:
        self._runner.send_callback_success(callback_id, result=result)

    def fail_callback(self, callback_id: str, message: str, error_type: str | None = None) -> None:
        error = ErrorObject(message=message, type=error_type, data=None, stack_trace=None)
        self._runner.send_callback_failure(callback_id, error=error)

    def close(self) -> None:
        self._runner.close()  # type: ignore[no-untyped-call]
