"""I/O at the edges: object storage, the job queue and the event sink, each behind a small protocol."""
