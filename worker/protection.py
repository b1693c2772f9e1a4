"""ECS task scale-in protection while a job runs.

When the service scales from 2 workers to 1, ECS may stop either task. A worker that is transcribing
asks its ECS agent (``$ECS_AGENT_URI/task-protection/v1/state``) to protect its task for as long as the
job may last, and drops the protection when the job ends. Outside ECS (no ``ECS_AGENT_URI``) this is a
no-op. Failures are logged, never raised: protection is an optimisation, the SIGTERM path already
hands a job back safely.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MAX_PROTECTION_MINUTES = 2880  # the ECS limit (48 hours)

Opener = Callable[..., Any]


class TaskProtection:
    """Turns scale-in protection of this ECS task on and off through the agent endpoint."""

    def __init__(self, agent_uri: str | None, *, opener: Opener = urllib.request.urlopen,
                 timeout_seconds: float = 5.0) -> None:
        self._url = f"{agent_uri.rstrip('/')}/task-protection/v1/state" if agent_uri else None
        self._open = opener
        self._timeout = timeout_seconds

    def protect(self, minutes: float) -> None:
        """Protect the task for ``minutes`` (capped at the ECS maximum); the job's own timeout bounds it."""
        expires = max(1, min(MAX_PROTECTION_MINUTES, int(minutes + 0.999)))
        self._put({"ProtectionEnabled": True, "ExpiresInMinutes": expires})

    def release(self) -> None:
        self._put({"ProtectionEnabled": False})

    def _put(self, body: dict[str, Any]) -> None:
        if self._url is None:
            return
        request = urllib.request.Request(self._url, data=json.dumps(body).encode(), method="PUT",
                                         headers={"Content-Type": "application/json"})
        try:
            with self._open(request, timeout=self._timeout) as response:
                response.read()
        except Exception as exc:  # the agent may be busy or the call unsupported: the job matters more
            log.warning("task scale-in protection %s failed: %s", body, exc)
