"""``podwhisperer cloud …`` against a deployed stack made of 127.0.0.1 servers.

S3 and SQS are moto's ThreadedMotoServer, the durable-executions read API is the loopback shim in
``fakes/durable_api.py``, the podcast host is ``feed_server.py``, and ``--stack`` runs a ``pulumi`` on PATH
that prints the outputs the component exports (a real subprocess, as with the Pulumi CLI).
"""

from __future__ import annotations

import json
import os
import stat
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from fakes.durable_api import DurableApi, serve_durable_api
from feed_server import FeedHost, Item, rss, serve_feed_host
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from podwhisperer.cli import _register_subcommands, app
from podwhisperer.runtime.cloud.backfill import Backfill
from podwhisperer.runtime.cloud.executions import Executions
from podwhisperer.runtime.cloud.transfer import EnclosureStreamer, TransferError
from podwhisperer.runtime.config import PipelineConfig, StorageConfig
from podwhisperer.runtime.contracts import WarmupMessage, parse_message
from podwhisperer.runtime.cost import estimate_episode
from podwhisperer.runtime.feed.http import HttpClient
from podwhisperer.runtime.feed.source import load_feed

pytestmark = pytest.mark.timeout(120)
REGION = "eu-west-1"
BUCKET = "acme-show-media"
FUNCTION = "acme-show-pipeline"
_register_subcommands()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture()
def durable() -> Iterator[tuple[DurableApi, str]]:
    api = DurableApi(function=FUNCTION)
    with serve_durable_api(api) as url:
        yield api, url


@pytest.fixture()
def aws(moto_endpoint: str, durable: tuple[DurableApi, str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A deployed 'acme-show' stack: bucket + job queue in moto, the function's executions in the shim."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", durable[1])
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    queue_url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="acme-show-jobs")["QueueUrl"]
    outputs = {"bucket_name": BUCKET, "input_prefix": "input/", "output_prefix": "output/", "region": REGION,
               "function_name": FUNCTION, "queue_url": queue_url,
               "function_arn": f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}"}
    _fake_pulumi(tmp_path / "bin", {"acme-show": outputs}, monkeypatch)
    yield {"s3": s3, "queue_url": queue_url, "api": durable[0], "outputs": outputs}


def _fake_pulumi(folder: Path, stacks: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    folder.mkdir()
    script = folder / "pulumi"
    (folder / "stacks.json").write_text(json.dumps(stacks))
    script.write_text(
        "#!/usr/bin/env python3\nimport json, sys\nargs = sys.argv[1:]\n"
        f"stacks = json.load(open({str(folder / 'stacks.json')!r}))\n"
        "name = args[args.index('--stack') + 1]\n"
        "assert args[:3] == ['stack', 'output', '--json'], args\n"
        "if name not in stacks:\n"
        "    print(f\"error: no stack named '{name}' found\", file=sys.stderr); sys.exit(255)\n"
        "print(json.dumps(stacks[name]))\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "220"})


@pytest.fixture()
def host() -> Iterator[FeedHost]:
    with serve_feed_host() as served:
        yield served


def mp3_frames(seconds: int) -> bytes:
    """A CBR MPEG-1 layer III stream (128 kbit/s, 44.1 kHz): the duration is readable from its frames."""
    header = bytes([0xFF, 0xFB, 0x90, 0x64])  # 128 kbit/s, 44100 Hz, stereo
    frame = header + bytes(417 - 4)
    return frame * round(seconds * 44100 / 1152)


def day(n: int) -> datetime:
    return datetime(2026, 11, n, 10, tzinfo=UTC)


# region dry run


def test_dry_run_needs_no_aws_and_prints_hours_and_dollars(host: FeedHost, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    items = [Item("g3", "Ep 3: Long one", "/3.mp3", day(20), duration="1:30:00", length=10),
             Item("g2", "Ep 2: No duration", "/2.mp3", day(13)),
             Item("g1", "Ep 1: Gone", "/1.mp3", day(6))]
    host.files["/2.mp3"] = (mp3_frames(600), "audio/mpeg")
    host.files["/feed.xml"] = (rss(host, items), "application/rss+xml")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any AWS call would fail loudly
    config = tmp_path / "podwhisperer.yaml"
    config.write_text("llm_refinement:\n  model_id: eu.anthropic.claude-sonnet-4-20250514-v1:0\n"
                      "worker:\n  capacity: spot\n")

    result = cli("cloud", "backfill", "--feed", host.url("/feed.xml"), "--stack", "acme-show", "--dry-run",
                 "--config", str(config))

    assert result.exit_code == 0, result.output
    assert host.gets("/2.mp3") == ["bytes=0-65535"], "one small range request for the length"
    assert host.gets("/3.mp3") == [], "itunes:duration is enough"
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 4}
    assert "1:30:00" in lines["ep-3-long-one"] and "1.50" in lines["ep-3-long-one"]
    assert "0:09:59" in lines["ep-2-no-duration"]  # 417-byte frames at 128 kbit/s: 598.6 s
    assert "?" in lines["ep-1-gone"]
    cfg = PipelineConfig.model_validate(yaml.safe_load(config.read_text()))
    expected = estimate_episode(cfg, 5400).total_usd + estimate_episode(cfg, 600).total_usd
    startup = 2 * 600 / 3600 * 0.45  # two cold spot g5.xlarge workers
    assert "3 episodes, 1.7 audio hours" in result.output
    assert f"estimated total: ${expected + startup:.2f}" in result.output
    assert "1 episode(s) of unknown length are not in the total" in result.output


# endregion

# region backfill


def test_backfill_streams_episodes_into_s3_with_context_and_skips_them_next_time(
        aws: dict[str, Any], host: FeedHost) -> None:
    audio = mp3_frames(60)
    items = [Item("g2", "Ep 2: Guests", "/2.mp3", day(13), persons=[("Ada Host", "host"), ("Bo Guest", "guest")]),
             Item("g1", "Ep 1: Gone", "/1.mp3", day(6))]
    host.files["/2.mp3"] = (audio, "audio/mpeg")
    host.files["/feed.xml"] = (rss(host, items), "application/rss+xml")
    s3 = aws["s3"]

    first = cli("cloud", "backfill", "--feed", host.url("/feed.xml"), "--stack", "acme-show", "--poll-seconds", "0.05")

    assert first.exit_code == 1, first.output  # one enclosure 404s
    assert "1 uploaded, 0 skipped, 1 failed" in first.output and "HTTP 404" in first.output
    body = s3.get_object(Bucket=BUCKET, Key="input/ep-2-guests.mp3")
    assert body["Body"].read() == audio and body["ContentType"] == "audio/mpeg"
    sidecar = yaml.safe_load(s3.get_object(Bucket=BUCKET, Key="input/ep-2-guests.podwhisperer.yaml")["Body"].read())
    assert sidecar["speakers"] == [{"name": "Ada Host", "description": "Host"},
                                   {"name": "Bo Guest", "description": "Guest"}]
    assert "input/ep-1-gone.mp3" not in [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    again = cli("cloud", "backfill", "--feed", host.url("/feed.xml"), "--stack", "acme-show", "--poll-seconds", "0.05")
    assert "0 uploaded, 1 skipped, 1 failed" in again.output
    assert len(host.gets("/2.mp3")) == 1, "an uploaded episode is not fetched again"


def test_an_interrupted_stream_resumes_from_its_last_part_with_a_range_request(aws: dict[str, Any],
                                                                             host: FeedHost) -> None:
    part = 5 * 1024 * 1024
    audio = os.urandom(2 * part + 12345)
    host.files["/big.mp3"] = (audio, "audio/mpeg")
    host.cut_after["/big.mp3"] = part + 1000  # the connection drops inside the second part
    s3 = aws["s3"]
    once = HttpClient(timeout=5, retries=0)
    streamer = EnclosureStreamer(s3, BUCKET, once, "work/", part_bytes=part)

    with pytest.raises(TransferError, match=rf"big\.mp3: got {part + 1000} of {len(audio)} bytes"):
        streamer.stream(host.url("/big.mp3"), "input/big.mp3", "identity-1")
    upload = s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"][0]
    assert upload["Key"] == "input/big.mp3"
    parts = s3.list_parts(Bucket=BUCKET, Key="input/big.mp3", UploadId=upload["UploadId"])["Parts"]
    assert [p["Size"] for p in parts] == [part], "the torn second part was not uploaded"

    result = EnclosureStreamer(s3, BUCKET, once, "work/", part_bytes=part).stream(
        host.url("/big.mp3"), "input/big.mp3", "identity-1")

    assert host.gets("/big.mp3") == [None, f"bytes={part}-"]
    assert result.resumed_from == part and result.size == len(audio)
    assert s3.get_object(Bucket=BUCKET, Key="input/big.mp3")["Body"].read() == audio
    assert s3.head_object(Bucket=BUCKET, Key="input/big.mp3")["Metadata"] == {"podwhisperer-enclosure": "identity-1"}
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    assert not [o for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="work/").get("Contents", [])]


def test_backfill_keeps_at_most_n_episodes_in_flight(aws: dict[str, Any], host: FeedHost) -> None:
    api: DurableApi = aws["api"]
    items = [Item(f"g{n}", f"Ep {n}", f"/{n}.mp3", day(n)) for n in (1, 2, 3)]
    for item in items:
        host.files[item.path] = (mp3_frames(5), "audio/mpeg")
    host.files["/feed.xml"] = (rss(host, items), "application/rss+xml")
    feed = load_feed(host.url("/feed.xml"), HttpClient())
    s3 = aws["s3"]
    started: list[str] = []
    waits: list[list[str]] = []

    def put_and_start(**kwargs: Any) -> Any:  # what EventBridge + the alias do on each upload
        answer = real_complete(**kwargs)
        started.append(api.add(kwargs["Key"].split("/")[-1], kwargs["Key"], "RUNNING", datetime.now(UTC)))
        return answer

    def wait(_: float) -> None:  # while the uploader waits, the oldest run finishes
        waits.append(sorted(e["DurableExecutionName"] for e in api.executions if e["Status"] == "RUNNING"))
        api.finish(started[len(waits) - 1])

    real_complete = s3.complete_multipart_upload
    s3.complete_multipart_upload = put_and_start
    runner = Backfill(s3=s3, bucket=BUCKET, storage=StorageConfig(),
                      streamer=EnclosureStreamer(s3, BUCKET, HttpClient(), "work/"),
                      executions=Executions(boto3.client("lambda", region_name=REGION), FUNCTION),
                      max_in_flight=2, poll_seconds=0, sleep=wait)

    outcomes = runner.run(list(feed.episodes), {e.guid: e.guid for e in feed.episodes})

    assert [o.status for o in outcomes] == ["uploaded"] * 3
    assert waits == [["g2.mp3", "g3.mp3"]], "the third upload waited while two were running"


# endregion

# region status, cost, reprocess, warmup, upload


def test_status_lists_each_episode_with_the_failed_step_and_error(aws: dict[str, Any]) -> None:
    api: DurableApi = aws["api"]
    now = datetime.now(UTC)
    api.add("e1", "input/ep-1.mp3", "SUCCEEDED", now - timedelta(minutes=30), ended=now - timedelta(minutes=20),
            result={"status": "completed"})
    failed = api.add("e2", "input/ep-2.mp3", "FAILED", now - timedelta(minutes=10), ended=now,
                     error={"ErrorType": "CallbackError", "ErrorMessage": "worker said no"})
    api.histories[failed] = [{
        "EventType": "StepSucceeded", "Name": "failure-event", "EventId": 9, "EventTimestamp": now,
        "StepSucceededDetails": {"Result": {"Payload": json.dumps(
            {"failedStep": "transcribe", "error": {"type": "InvalidAudio", "message": "no audio stream"}})}}}]
    api.add("e3", "input/ep-3.mp3", "RUNNING", now - timedelta(minutes=2))

    result = cli("cloud", "status", "--stack", "acme-show")

    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "input/" in line}
    assert "completed" in rows["input/ep-1.mp3"] and "10.0 min" in rows["input/ep-1.mp3"]
    assert "failed" in rows["input/ep-2.mp3"] and "transcribe" in rows["input/ep-2.mp3"]
    assert "InvalidAudio: no audio stream" in rows["input/ep-2.mp3"]
    assert "running" in rows["input/ep-3.mp3"]
    assert "1 completed, 1 failed, 1 running" in result.output


def test_status_of_one_episode_lists_its_runs_and_outputs(aws: dict[str, Any]) -> None:
    api: DurableApi = aws["api"]
    s3 = aws["s3"]
    s3.put_object(Bucket=BUCKET, Key="input/ep-42-gpus-you.mp3", Body=b"audio")
    s3.put_object(Bucket=BUCKET, Key="output/ep-42-gpus-you_caption.vtt", Body=b"WEBVTT\n")
    now = datetime.now(UTC)
    api.add("r1", "input/ep-42-gpus-you.mp3", "TIMED_OUT", now - timedelta(hours=2), ended=now - timedelta(hours=1))
    api.add("r2", "input/ep-42-gpus-you.mp3", "SUCCEEDED", now - timedelta(minutes=9), ended=now,
            result={"status": "completed"})
    api.add("other", "input/ep-7.mp3", "RUNNING", now)

    result = cli("cloud", "status", "ep 42", "--stack", "acme-show")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "input/ep-42-gpus-you.mp3: 2 run(s)"
    assert "completed" in lines[1] and "timed out" in lines[2]
    assert f"s3://{BUCKET}/output/ep-42-gpus-you_caption.vtt" in result.output and "ep-7" not in result.output


def test_cost_sums_the_breakdowns_of_the_last_completed_episodes(aws: dict[str, Any]) -> None:
    from podwhisperer.runtime.cost import episode_cost

    api: DurableApi = aws["api"]
    cfg = PipelineConfig.model_validate({"llm_refinement": {"model_id": "us.anthropic.claude-sonnet-4-x"}})
    now = datetime.now(UTC)
    for n in (1, 2):
        breakdown = episode_cost(cfg, gpu_seconds=180.0 * n, input_tokens=10000 * n, output_tokens=1000 * n,
                                 lambda_seconds=12.0)
        api.add(f"c{n}", f"input/ep-{n}.mp3", "SUCCEEDED", now - timedelta(minutes=10 - n), ended=now,
                result={"status": "completed", "cost": breakdown, "transcript": {"durationSeconds": 3600.0 * n}})
    api.add("old", "input/ep-0.mp3", "SUCCEEDED", now - timedelta(minutes=20), ended=now,
            result={"status": "completed"})

    result = cli("cloud", "cost", "--stack", "acme-show", "--last", "3")

    assert result.exit_code == 0, result.output
    gpu = 540 / 3600 * 1.006
    llm = 30000 / 1000 * 0.003 + 3000 / 1000 * 0.015
    assert f"2 episodes: ${gpu + llm + 2 * (12 * 0.0000166667 + 0.0000002):.2f}" in result.output
    assert f"GPU ${gpu:.2f} for 0.15 h, Bedrock ${llm:.2f} for 30000+3000 tokens" in result.output
    assert "1 completed run(s) carry no cost breakdown" in result.output


def raw_transcript(key: str) -> dict[str, Any]:
    words = [("welcome", 0.0), ("to", 0.4), ("the", 0.6), ("pod", 0.8), ("whisper", 1.1), ("show", 1.5)]
    word_dicts = [{"word": w, "start": s, "end": s + 0.3, "score": 0.9, "speaker": "SPEAKER_00"} for w, s in words]
    return {"segments": [{"start": 0.0, "end": 1.8, "text": " welcome to the pod whisper show",
                          "speaker": "SPEAKER_00", "words": word_dicts}],
            "word_segments": word_dicts,
            "podwhisperer": {"source_key": key, "model": "fake", "language": "en", "audio_duration": 2.0}}


def test_reprocess_republishes_from_the_raw_transcript_with_new_rules(aws: dict[str, Any], tmp_path: Path) -> None:
    s3 = aws["s3"]
    s3.put_object(Bucket=BUCKET, Key="input/ep-42-gpus-you.mp3", Body=b"audio")
    s3.put_object(Bucket=BUCKET, Key="input/ep-43-later.mp3", Body=b"audio")
    raw = json.dumps(raw_transcript("input/ep-42-gpus-you.mp3")).encode()
    s3.put_object(Bucket=BUCKET, Key="output/ep-42-gpus-you_raw_transcript.json", Body=raw)
    config = tmp_path / "new.yaml"
    config.write_text("replacement_rules:\n  - {type: literal, search: pod whisper, replacement: podwhisperer}\n")

    result = cli("cloud", "reprocess", "ep 42", "--stack", "acme-show", "--config", str(config))

    assert result.exit_code == 0, result.output
    assert "input/ep-42-gpus-you.mp3: post-processed again" in result.output
    vtt = s3.get_object(Bucket=BUCKET, Key="output/ep-42-gpus-you_caption.vtt")
    assert "the podwhisperer show" in vtt["Body"].read().decode()
    assert vtt["ContentType"].startswith("text/vtt")
    refined = json.loads(s3.get_object(Bucket=BUCKET, Key="output/ep-42-gpus-you_refined_transcript.json")["Body"]
                         .read())
    assert "podwhisperer" in refined["segments"][0]["text"]
    assert s3.get_object(Bucket=BUCKET, Key="output/ep-42-gpus-you_raw_transcript.json")["Body"].read() == raw
    page = s3.get_object(Bucket=BUCKET, Key="output/ep-42-gpus-you_transcript.html")["Body"].read().decode()
    assert 'src="ep-42-gpus-you.mp3"' in page, "the page plays the episode's audio, as the pipeline's page does"

    # The episode's context sidecar (a corrected title, say) is merged over the config, as the pipeline does.
    s3.put_object(Bucket=BUCKET, Key="input/ep-42-gpus-you.podwhisperer.yaml", Body=b"title: GPUs and you\n")
    assert cli("cloud", "reprocess", "ep 42", "--stack", "acme-show", "--config", str(config)).exit_code == 0
    page = s3.get_object(Bucket=BUCKET, Key="output/ep-42-gpus-you_transcript.html")["Body"].read().decode()
    assert "<title>GPUs and you</title>" in page
    s3.put_object(Bucket=BUCKET, Key="input/ep-42-gpus-you.podwhisperer.yaml", Body=b"guests: [Ada]\n")
    bad = cli("cloud", "reprocess", "ep 42", "--stack", "acme-show", "--config", str(config))
    assert bad.exit_code == 1 and "ep-42-gpus-you.podwhisperer.yaml" in bad.output and "Traceback" not in bad.output
    s3.delete_object(Bucket=BUCKET, Key="input/ep-42-gpus-you.podwhisperer.yaml")

    missing = cli("cloud", "reprocess", "ep 43", "--stack", "acme-show", "--config", str(config))
    assert missing.exit_code == 1 and "no raw transcript" in missing.output and "Traceback" not in missing.output
    ambiguous = cli("cloud", "reprocess", "ep", "--stack", "acme-show", "--config", str(config))
    assert ambiguous.exit_code == 1 and "matches 2 episodes" in ambiguous.output


def test_warmup_sends_the_workers_warmup_message(aws: dict[str, Any]) -> None:
    result = cli("cloud", "warmup", "--stack", "acme-show", "--minutes", "45")

    assert result.exit_code == 0, result.output
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=aws["queue_url"])["Messages"]
    body = json.loads(messages[0]["Body"])
    assert body["type"] == "warmup"
    assert isinstance(parse_message(messages[0]["Body"]), WarmupMessage), "the worker's own contract reads it"
    until = datetime.fromisoformat(body["until"].replace("Z", "+00:00"))
    assert timedelta(minutes=44) < until - datetime.now(UTC) <= timedelta(minutes=45)


def test_upload_puts_the_context_sidecar_and_the_audio(aws: dict[str, Any], tmp_path: Path) -> None:
    audio = tmp_path / "ep 7.mp3"
    audio.write_bytes(os.urandom(9 * 1024 * 1024))  # multipart
    context = tmp_path / "ctx.yaml"
    context.write_text("title: Ep 7\nspeakers:\n  - {name: Ada Host, description: Host}\n")

    result = cli("cloud", "upload", str(audio), "--context", str(context), "--bucket", BUCKET, "--region", REGION)

    assert result.exit_code == 0, result.output
    s3 = aws["s3"]
    assert s3.get_object(Bucket=BUCKET, Key="input/ep 7.mp3")["Body"].read() == audio.read_bytes()
    assert yaml.safe_load(s3.get_object(Bucket=BUCKET, Key="input/ep 7.podwhisperer.yaml")["Body"].read())[
        "title"] == "Ep 7"
    context.write_text("titel: typo\n")
    bad = cli("cloud", "upload", str(audio), "--context", str(context), "--bucket", BUCKET, "--region", REGION)
    assert bad.exit_code == 1 and "titel: unknown key (did you mean 'title'?)" in bad.output


# endregion

# region errors


def test_missing_stack_credentials_or_pipeline_are_one_clear_line(aws: dict[str, Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = cli("cloud", "status", "--stack", "nope")
    assert unknown.exit_code == 1 and "error: stack 'nope': no stack named 'nope' found" in unknown.output

    neither = cli("cloud", "status")
    assert neither.exit_code == 1 and "pass --stack NAME" in neither.output

    no_function = cli("cloud", "status", "--bucket", BUCKET, "--region", REGION)
    assert no_function.exit_code == 1 and "needs the pipeline's function name" in no_function.output

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    no_credentials = cli("cloud", "status", "--stack", "acme-show")
    assert no_credentials.exit_code == 1 and "no AWS credentials found" in no_credentials.output
    for result in (unknown, neither, no_function, no_credentials):
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


# endregion
