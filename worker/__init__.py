"""The GPU worker: SQS poller and the WhisperX job."""
