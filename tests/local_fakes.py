"""Compatibility shim: the local-mode fakes live in ``tests/fakes/local.py`` now.

Kept so that tests written against the old module path keep importing, and because tests run this
file as the crash-at-will child process (``python tests/local_fakes.py OUT AUDIO CRASH_AT [WORKER]``).
"""

import sys

from fakes.local import FakeJob, crash_child

__all__ = ["FakeJob", "crash_child"]

if __name__ == "__main__":
    crash_child(*sys.argv[1:5])
