"""AWS implementations of the drill scenarios, one module per AWS service.

Names, titles, hypotheses and set membership live in the scenario catalogue
(`chaos/catalogue.py`); these classes are only the AWS method: pre-check, inject, wait until
recovered, rollback.
"""

from chaos.aws.scenarios.aurora import AuroraMixin, DbFailover, DbLeaderNodeLoss
from chaos.aws.scenarios.base import (
    AwsContext,
    AwsScenario,
    DrillOptions,
    NotRecovered,
    PreCheckFailed,
    Unsupported,
)
from chaos.aws.scenarios.elasticache import RedisMixin, RedisPrimaryKill
from chaos.aws.scenarios.fis import ZoneLoss, iso_duration_s
from chaos.aws.scenarios.global_db import GlobalDbScenario, RegionFailover, RegionSwitchover
from chaos.aws.scenarios.pods import ApiReplicaKill, PodKill, RelayKill
from chaos.aws.scenarios.route53 import DnsFailover

__all__ = [
    "ApiReplicaKill", "AuroraMixin", "AwsContext", "AwsScenario", "DbFailover",
    "DbLeaderNodeLoss", "DnsFailover", "DrillOptions", "GlobalDbScenario", "NotRecovered",
    "PodKill", "PreCheckFailed", "RedisMixin", "RedisPrimaryKill", "RegionFailover",
    "RegionSwitchover", "RelayKill", "Unsupported", "ZoneLoss", "iso_duration_s",
]
