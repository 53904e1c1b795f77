"""AWS target of the failover drills: `python -m chaos drill --target aws --stack-outputs FILE`.

- outputs.py: the stack-output keys the drill needs (`StackOutputs`, `load_stack_outputs`).
- calls.py: the call layer every AWS/Kubernetes/HTTP call goes through (dry run, record).
- scenarios/: the AWS methods, one module per AWS service (pre_check / inject /
  wait_recovered / rollback); names, sets and hypotheses come from `chaos.catalogue`.
- runner.py: `execute(scenario, observer)` and the reports.
- cli.py: `add_arguments(parser)` and `run(args)` for the `drill` subcommand.
"""
