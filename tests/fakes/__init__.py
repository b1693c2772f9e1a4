"""Test doubles shared by every test module (docs/architecture.md, "Test doubles"): one moto server,
one callback shim, canned transcripts from the metadata model, and the real worker (poller and job)
with a fake transcriber. Nothing here re-implements the worker's queue or callback protocol."""
