"""Operating a deployed pipeline from the ``podwhisperer cloud`` command (stack discovery, upload,
backfill, status, reprocess, warm-up, cost)."""
