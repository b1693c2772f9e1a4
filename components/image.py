"""The worker image: an existing URI, or ``worker/Dockerfile`` built and pushed to a private ECR repository.

The build uses pulumi-docker-build (BuildKit) because it is the one builder that takes **build secrets**:
the Hugging Face token is mounted for the model-download step only and never lands in a layer, a build
arg or the image's environment. awsx.ecr.Image has no secrets input. Without a token there is no secret
at all (the image then has no diarization models). The context is assembled from the installed package
(``image_context.py``), and nothing is built during ``pulumi preview`` (the image is ~15 GB).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from podwhisperer.components.args import WorkerImageArgs
from podwhisperer.components.image_context import DOCKERFILE, assemble_worker_context

MAX_IMAGES_KEPT = 2  # the running image and one to roll back to; each is ~15 GB of ECR storage


@dataclass(frozen=True)
class WorkerImage:
    uri: pulumi.Output[str]
    repository_arn: pulumi.Output[str] | None
    """None for an image outside private ECR: the execution role then gets no ECR grant."""


_ECR_URI = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
                      r"(?P<repository>[^:@]+)")


def ecr_repository_arn(image_uri: pulumi.Input[str]) -> pulumi.Output[str] | None:
    """The ECR repository ARN of a private ECR image URI (so the execution role may pull it), else None.

    Only plain strings can be inspected; an Output URI is assumed to be pullable without ECR grants.
    """
    if not isinstance(image_uri, str):
        return None
    match = _ECR_URI.match(image_uri)
    if match is None:
        return None  # a public registry (public.ecr.aws, Docker Hub, ...): nothing to grant
    partition = "aws-cn" if ".amazonaws.com.cn/" in image_uri else "aws"
    return pulumi.Output.from_input(f"arn:{partition}:ecr:{match['region']}:{match['account']}:"
                                    f"repository/{match['repository']}")


def create_worker_image(name: str, args: WorkerImageArgs, *, model: str, hf_token: pulumi.Input[str] | None,
                        tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> WorkerImage:
    """``args.image_uri`` as is, or an ECR repository plus a BuildKit build pushed to it."""
    if args.image_uri is not None:
        uri = pulumi.Output.from_input(args.image_uri)
        return WorkerImage(uri=uri, repository_arn=ecr_repository_arn(args.image_uri))
    repository = aws.ecr.Repository(
        f"{name}-worker", image_tag_mutability="MUTABLE", force_delete=True,
        image_scanning_configuration={"scan_on_push": True},
        encryption_configurations=[{"encryption_type": "AES256"}], tags=dict(tags), opts=opts)
    aws.ecr.LifecyclePolicy(f"{name}-worker", repository=repository.name, policy=pulumi.Output.json_dumps({
        "rules": [{"rulePriority": 1, "description": f"keep the last {MAX_IMAGES_KEPT} images (~15 GB each)",
                   "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                 "countNumber": MAX_IMAGES_KEPT},
                   "action": {"type": "expire"}}]}), opts=opts)
    auth = aws.ecr.get_authorization_token_output(registry_id=repository.registry_id,
                                                  opts=pulumi.InvokeOutputOptions(parent=opts.parent))
    context = Path(args.context) if args.context else assemble_worker_context()
    dockerfile = Path(args.dockerfile) if args.dockerfile else context / DOCKERFILE
    secrets: Any = {"HF_TOKEN": hf_token} if hf_token is not None else None
    platforms: Any = [args.platform]
    image = docker_build.Image(
        f"{name}-worker", context={"location": str(context)}, dockerfile={"location": str(dockerfile)},
        platforms=platforms, build_args={"MODEL_NAME": model, **dict(args.build_args)},
        secrets=secrets, build_on_preview=False,
        tags=[pulumi.Output.concat(repository.repository_url, ":latest")], push=True,
        registries=[{"address": repository.repository_url, "username": auth.user_name,
                     "password": auth.password}],
        opts=opts)
    # Pin the task to the digest, so a rebuild rolls the service instead of racing on ":latest".
    uri = pulumi.Output.concat(repository.repository_url, "@", image.digest)
    return WorkerImage(uri=uri, repository_arn=repository.arn)
