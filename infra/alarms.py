"""CloudWatch alarms for one region, published to a CMK-encrypted SNS topic there.

Thresholds come from the SLO section of the stack config. The ALB is created by the
Load Balancer Controller, so its metric dimension is looked up by the name the Ingress
gives it, once the Ingress reports an address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.common import COMPONENT_PREFIX, child
from infra.config import RegionConfig, SloConfig

FIVE_MINUTES = 300


@dataclass(frozen=True)
class AlarmsArgs:
    prefix: str
    region: RegionConfig
    slo: SloConfig
    topic_key_arn: pulumi.Input[str]
    db_cluster_identifier: str
    db_is_secondary: bool
    cache_member_ids: Sequence[str]
    queue_name: str
    dlq_name: str
    alb_name: pulumi.Input[str]  # resolves once the ALB exists


class Alarms(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Alarms", name, None, opts)
        self._name = name
        self._args = args
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=f"{args.prefix}-{args.region.role}-alarms",
            kms_master_key_id=args.topic_key_arn,
            opts=child(self),
        )
        aws.sns.TopicSubscription(
            f"{name}-oncall",
            topic=self.topic.arn,
            protocol="email",
            endpoint=args.slo.alarm_email,
            opts=child(self),
        )
        slo = args.slo
        db = {"DBClusterIdentifier": args.db_cluster_identifier}

        self._alarm(
            "db-cpu", "AWS/RDS", "CPUUtilization", db, ">", slo.db_cpu_percent, "Aurora CPU high"
        )
        self._alarm(
            "db-freeable-memory",
            "AWS/RDS",
            "FreeableMemory",
            db,
            "<",
            512 * 1024**2,
            "Aurora freeable memory below 512 MiB",
            statistic="Minimum",
        )
        if args.db_is_secondary:
            self._alarm(
                "db-global-replication-lag",
                "AWS/RDS",
                "AuroraGlobalDBReplicationLag",
                db,
                ">",
                slo.global_db_replication_lag_ms,
                "Global database replication lag (milliseconds) to this region is too high",
                statistic="Maximum",
            )
        else:
            self._alarm(
                "db-replica-lag",
                "AWS/RDS",
                "AuroraReplicaLagMaximum",
                db,
                ">",
                slo.db_replica_lag_ms,
                "Aurora reader lag (milliseconds) too high",
                statistic="Maximum",
            )

        for member in args.cache_member_ids:
            node = {"CacheClusterId": member}
            self._alarm(
                f"redis-cpu-{member}",
                "AWS/ElastiCache",
                "EngineCPUUtilization",
                node,
                ">",
                slo.redis_cpu_percent,
                f"Redis engine CPU high on {member}",
            )
            self._alarm(
                f"redis-memory-{member}",
                "AWS/ElastiCache",
                "DatabaseMemoryUsagePercentage",
                node,
                ">",
                slo.redis_memory_percent,
                f"Redis memory high on {member}",
            )

        queue = {"QueueName": args.queue_name}
        self._alarm(
            "queue-backlog",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            queue,
            ">",
            slo.queue_backlog_messages,
            "Orders queue backlog too long",
            statistic="Maximum",
            missing="notBreaching",
        )
        self._alarm(
            "queue-oldest-message",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            queue,
            ">",
            slo.queue_oldest_message_seconds,
            "Oldest queued order too old (s)",
            statistic="Maximum",
            missing="notBreaching",
        )
        self._alarm(
            "dlq-not-empty",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": args.dlq_name},
            ">",
            0,
            "Orders dead-lettered",
            statistic="Maximum",
            missing="notBreaching",
            periods=1,
        )

        alb = aws.lb.get_load_balancer_output(
            name=args.alb_name, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        lb_dimension = alb.arn_suffix.apply(lambda suffix: {"LoadBalancer": suffix})
        self._alarm(
            "alb-p99-latency",
            "AWS/ApplicationELB",
            "TargetResponseTime",
            lb_dimension,
            ">",
            slo.p99_latency_ms / 1000,
            "API P99 latency above the SLO (s)",
            extended_statistic="p99",
            missing="notBreaching",
        )
        self._alb_error_rate(lb_dimension)
        self.register_outputs({"topicArn": self.topic.arn})

    def _alarm(
        self,
        suffix: str,
        namespace: str,
        metric: str,
        dimensions: Any,
        comparison: str,
        threshold: float,
        description: str,
        statistic: str = "Average",
        extended_statistic: str | None = None,
        missing: str = "missing",
        periods: int = 3,
    ) -> aws.cloudwatch.MetricAlarm:
        operators = {">": "GreaterThanThreshold", "<": "LessThanThreshold"}
        return aws.cloudwatch.MetricAlarm(
            f"{self._name}-{suffix}",
            name=f"{self._args.prefix}-{self._args.region.role}-{suffix}",
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=None if extended_statistic else statistic,
            extended_statistic=extended_statistic,
            comparison_operator=operators[comparison],
            threshold=threshold,
            period=60,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=missing,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            opts=child(self),
        )

    def _alb_error_rate(self, lb_dimension: pulumi.Input[dict[str, str]]) -> None:
        """5xx share of all requests (target and ALB-generated) over five minutes."""

        def metric(metric_id: str, name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=metric_id,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/ApplicationELB",
                    metric_name=name,
                    dimensions=lb_dimension,
                    period=FIVE_MINUTES,
                    stat="Sum",
                ),
            )

        # Also the stop condition of the FIS zone experiment: a drill that breaks the
        # error-rate SLO is stopped by AWS FIS itself.
        self.error_rate_alarm = aws.cloudwatch.MetricAlarm(
            f"{self._name}-alb-5xx-rate",
            name=f"{self._args.prefix}-{self._args.region.role}-alb-5xx-rate",
            alarm_description="API 5xx rate above the SLO (percent of requests)",
            comparison_operator="GreaterThanThreshold",
            threshold=self._args.slo.error_rate_percent,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data="notBreaching",
            metric_queries=[
                metric("target5xx", "HTTPCode_Target_5XX_Count"),
                metric("elb5xx", "HTTPCode_ELB_5XX_Count"),
                metric("requests", "RequestCount"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="errorRate",
                    expression="100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests",
                    label="5xx percent",
                    return_data=True,
                ),
            ],
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            opts=child(self),
        )
