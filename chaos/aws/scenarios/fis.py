"""Zone loss through the AWS FIS "AZ Availability: Power Interruption" scenario."""

from __future__ import annotations

import re
from typing import Any

import contract
from chaos.aws.scenarios.aurora import AuroraMixin
from chaos.aws.scenarios.base import AwsScenario, NotRecovered
from chaos.aws.scenarios.elasticache import RedisMixin

FIS_TERMINAL_FAILURES = ("stopped", "failed", "cancelled")
AZ_POWER_TAG = contract.FIS_AZ_POWER_TAG

class ZoneLoss(RedisMixin, AuroraMixin):
    aws_fault = (
        "fis.start_experiment of the 'AZ Availability: Power Interruption' template "
        "(created for the zone when the stack outputs have none)"
    )

    def default_timeout(self) -> float:
        return iso_duration_s(self.ctx.options.fis_duration) + 1800.0

    def pre_check(self) -> None:
        AwsScenario.pre_check(self)
        self.check_primary_cluster()
        self.check_group()
        template = self.out.fis_az_power_interruption_template_id
        if template:
            got = self.aws("fis", "get_experiment_template", id=template)
            self.require(got.get("experimentTemplate"), f"FIS template {template} not found")
            self.facts["template"] = template
        self.facts["zone"] = self.ctx.options.zone or self.facts["writer_zone"]

    def template_request(self, zone: str) -> dict[str, Any]:
        """create_experiment_template parameters for the scenario library's AZ template."""
        duration = self.ctx.options.fis_duration
        running_in_zone = [
            {"path": "State.Name", "values": ["running"]},
            {"path": "Placement.AvailabilityZone", "values": [zone]},
        ]
        alarm = self.out.fis_stop_condition_alarm_arn
        return {
            "clientToken": self.ctx.token(),
            "description": f"AZ Availability: Power Interruption of {zone} (chaos drill)",
            "roleArn": self.out.fis_role_arn,
            "stopConditions": (
                [{"source": "aws:cloudwatch:alarm", "value": alarm}]
                if alarm
                else [{"source": "none"}]
            ),
            "targets": {
                "EC2-Instances": {
                    "resourceType": "aws:ec2:instance",
                    "resourceTags": {AZ_POWER_TAG: "StopInstances"},
                    "filters": running_in_zone,
                    "selectionMode": "ALL",
                },
                "ASG": {
                    "resourceType": "aws:ec2:autoscaling-group",
                    "resourceTags": {AZ_POWER_TAG: "IceAsg"},
                    "selectionMode": "ALL",
                },
                "ASG-EC2-Instances": {
                    "resourceType": "aws:ec2:instance",
                    "resourceTags": {AZ_POWER_TAG: "IceAsg"},
                    "filters": running_in_zone,
                    "selectionMode": "ALL",
                },
                "Subnet": {
                    "resourceType": "aws:ec2:subnet",
                    "resourceTags": {AZ_POWER_TAG: "DisruptSubnet"},
                    "filters": [{"path": "AvailabilityZone", "values": [zone]}],
                    "selectionMode": "ALL",
                    "parameters": {},
                },
                "RDS-Cluster": {
                    "resourceType": "aws:rds:cluster",
                    "resourceArns": [self.out.primary_cluster_arn],
                    "selectionMode": "ALL",
                    "parameters": {"writerAvailabilityZoneIdentifiers": zone},
                },
                "ElastiCache-Cluster": {
                    "resourceType": "aws:elasticache:replicationgroup",
                    "resourceTags": {AZ_POWER_TAG: "ElasticacheImpact"},
                    "selectionMode": "ALL",
                    "parameters": {"availabilityZoneIdentifier": zone},
                },
            },
            "actions": {
                "Stop-Instances": {
                    "actionId": "aws:ec2:stop-instances",
                    "parameters": {
                        "startInstancesAfterDuration": duration,
                        "completeIfInstancesTerminated": "true",
                    },
                    "targets": {"Instances": "EC2-Instances"},
                },
                "Stop-ASG-Instances": {
                    "actionId": "aws:ec2:stop-instances",
                    "parameters": {
                        "startInstancesAfterDuration": duration,
                        "completeIfInstancesTerminated": "true",
                    },
                    "targets": {"Instances": "ASG-EC2-Instances"},
                },
                "Pause-ASG-Scaling": {
                    "actionId": "aws:ec2:asg-insufficient-instance-capacity-error",
                    "parameters": {
                        "availabilityZoneIdentifiers": zone,
                        "duration": duration,
                        "percentage": "100",
                    },
                    "targets": {"AutoScalingGroups": "ASG"},
                },
                "Pause-Network-Connectivity": {
                    "actionId": "aws:network:disrupt-connectivity",
                    "parameters": {"duration": "PT2M", "scope": "all"},
                    "targets": {"Subnets": "Subnet"},
                },
                "Failover-RDS": {
                    "actionId": "aws:rds:failover-db-cluster",
                    "parameters": {},
                    "targets": {"Clusters": "RDS-Cluster"},
                },
                "Pause-ElastiCache": {
                    "actionId": "aws:elasticache:replicationgroup-interrupt-az-power",
                    "parameters": {"duration": duration},
                    "targets": {"ReplicationGroups": "ElastiCache-Cluster"},
                },
            },
            "experimentOptions": {
                "accountTargeting": "single-account",
                "emptyTargetResolutionMode": "skip",
            },
            "tags": {"Name": f"az-power-interruption-{zone}", "chaos-drill": self.name},
        }

    def inject(self) -> None:
        template = self.facts.get("template")
        if not template:
            created = self.aws(
                "fis", "create_experiment_template", **self.template_request(self.facts["zone"])
            )
            template = self.known(created.get("experimentTemplate", {}).get("id"), "<template-id>")
            self.facts["template"] = template
            self.facts["template_created"] = True
        started = self.aws(
            "fis",
            "start_experiment",
            clientToken=self.ctx.token(),
            experimentTemplateId=template,
            tags={"chaos-drill": self.name, "zone": self.facts["zone"]},
        )
        self.facts["experiment"] = self.known(
            started.get("experiment", {}).get("id"), "<experiment-id>"
        )

    def experiment_status(self) -> str | None:
        got = self.aws("fis", "get_experiment", id=self.facts["experiment"])
        state = got.get("experiment", {}).get("state", {})
        status = state.get("status")
        if status in FIS_TERMINAL_FAILURES:
            self.facts["experiment_status"] = status
            raise NotRecovered(f"FIS experiment ended {status}: {state.get('reason', '')}")
        return status

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)

        def completed() -> bool:
            return self.experiment_status() == "completed"

        self.poll(f"FIS experiment {self.facts['experiment']} is 'completed'", completed)
        self.facts["experiment_status"] = "completed"
        self.wait_cluster_available()
        rg = self.out.redis_replication_group_id
        self.poll(
            f"replication group {rg} is 'available'",
            lambda: self.describe_group().get("Status") == "available",
        )
        self.wait_endpoint_ready()

    def rollback(self) -> None:
        experiment = self.facts.get("experiment")
        if experiment and self.facts.get("experiment_status") not in (
            "completed",
            *FIS_TERMINAL_FAILURES,
        ):
            self.aws("fis", "stop_experiment", id=experiment)
            self.notes.append(f"stopped FIS experiment {experiment} (stopped instances restart)")
        if self.facts.get("template_created"):
            self.aws("fis", "delete_experiment_template", id=self.facts["template"])


def iso_duration_s(value: str) -> float:
    """Seconds in an ISO 8601 duration like PT10M, PT1H30M, PT90S."""
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", value)
    if not m or not any(m.groups()):
        raise ValueError(f"not an ISO 8601 duration like PT10M: {value!r}")
    h, mi, s = (int(g or 0) for g in m.groups())
    return float(h * 3600 + mi * 60 + s)
