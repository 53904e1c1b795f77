"""The order service on Kubernetes: API as an Argo Rollout, relay and worker, migrations.

The component is `infra.workload.component.Workload`; the other modules build its objects
by concern (see that module's docstring).
"""

from infra.workload.args import WorkloadArgs
from infra.workload.component import Workload
from infra.workload.iam import bootstrap_policy, service_policy

__all__ = ["Workload", "WorkloadArgs", "bootstrap_policy", "service_policy"]
