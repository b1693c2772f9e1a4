"""Networking for the GPU worker that costs nothing while idle.

The default is a small VPC with **public subnets only**: an internet gateway (free), a route table, an
S3 *gateway* endpoint (free; audio and image layers stay on the AWS network) and a security group with
no inbound rules. There is deliberately no NAT gateway (~$33/month each, plus data) and no interface
endpoints (~$7.30/month per endpoint per AZ): both bill by the hour whether or not a job runs.
Instances get a public IPv4 from the subnet (billed only while an instance runs) and the task uses the
``host`` network mode, so it shares that address to reach SQS, Lambda, ECR and CloudWatch Logs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from podwhisperer.components.args import NetworkArgs

AVAILABILITY_ZONES_ONLY = [aws.GetAvailabilityZonesFilterArgs(name="zone-type", values=["availability-zone"])]
"""Regular AZs only: an opted-in Local Zone or Wavelength Zone has no GPU instances for the worker."""


@dataclass(frozen=True)
class Network:
    """What the capacity provider and the service need."""

    vpc_id: pulumi.Output[str]
    subnet_ids: pulumi.Output[list[str]]
    security_group_ids: pulumi.Output[list[str]]


def create_network(name: str, args: NetworkArgs, *, region: pulumi.Input[str], tags: Mapping[str, str],
                   opts: pulumi.ResourceOptions) -> Network:
    """The existing VPC from ``args``, or a new NAT-free one, plus the worker's security group."""
    if args.vpc_id is not None:
        vpc_id = pulumi.Output.from_input(args.vpc_id)
        subnet_ids = pulumi.Output.all(*(args.subnet_ids or []))
    else:
        vpc_id, subnet_ids = _public_vpc(name, args, region=region, tags=tags, opts=opts)
    group = _worker_security_group(name, vpc_id, tags=tags, opts=opts)
    extra = list(args.security_group_ids or [])
    return Network(vpc_id=vpc_id, subnet_ids=subnet_ids,
                   security_group_ids=pulumi.Output.all(group.id, *extra))


def _public_vpc(name: str, args: NetworkArgs, *, region: pulumi.Input[str], tags: Mapping[str, str],
                opts: pulumi.ResourceOptions) -> tuple[pulumi.Output[str], pulumi.Output[list[str]]]:
    vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.vpc_cidr, enable_dns_hostnames=True, enable_dns_support=True,
                      tags={**tags, "Name": f"{name}-vpc"}, opts=opts)
    gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-igw"}, opts=opts)
    routes = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id,
                                routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
                                tags={**tags, "Name": f"{name}-public"}, opts=opts)
    zones = aws.get_availability_zones_output(state="available", filters=AVAILABILITY_ZONES_ONLY,
                                              opts=pulumi.InvokeOutputOptions(parent=opts.parent))
    subnet_ids = []
    for index in range(args.availability_zone_count):
        subnet = aws.ec2.Subnet(
            f"{name}-public-{index}", vpc_id=vpc.id, availability_zone=zones.names[index],
            cidr_block=_subnet_cidr(args.vpc_cidr, index), map_public_ip_on_launch=True,
            tags={**tags, "Name": f"{name}-public-{index}"}, opts=opts)
        aws.ec2.RouteTableAssociation(f"{name}-public-{index}", subnet_id=subnet.id, route_table_id=routes.id,
                                      opts=opts)
        subnet_ids.append(subnet.id)
    # Gateway endpoints are free: S3 traffic (audio, transcripts, ECR image layers) skips the internet.
    aws.ec2.VpcEndpoint(f"{name}-s3", vpc_id=vpc.id, vpc_endpoint_type="Gateway",
                        service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
                        route_table_ids=[routes.id], tags={**tags, "Name": f"{name}-s3"}, opts=opts)
    return vpc.id, pulumi.Output.all(*subnet_ids)


def _worker_security_group(name: str, vpc_id: pulumi.Input[str], *, tags: Mapping[str, str],
                           opts: pulumi.ResourceOptions) -> aws.ec2.SecurityGroup:
    """No inbound at all; outbound HTTPS only (every AWS API, ECR, Hugging Face)."""
    return aws.ec2.SecurityGroup(
        f"{name}-worker", vpc_id=vpc_id, description="podwhisperer GPU worker: no inbound, HTTPS out",
        ingress=[], egress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"],
                             "description": "AWS APIs, ECR, Hugging Face"}],
        tags={**tags, "Name": f"{name}-worker"}, opts=opts)


def _subnet_cidr(vpc_cidr: str, index: int) -> str:
    """The ``index``-th /20 of the VPC (16 of them fit in a /16)."""
    network = ipaddress.ip_network(vpc_cidr)
    new_prefix = min(network.prefixlen + 4, 28)
    return str(list(network.subnets(new_prefix=new_prefix))[index])
