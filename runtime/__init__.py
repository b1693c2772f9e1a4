"""Durable Lambda code and the pure transcript transforms (no I/O outside ``adapters``)."""
