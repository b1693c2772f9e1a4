"""Podcast feed ingest shared by local mode (``transcribe --feed``) and the cloud backfill."""
