"""The house every long-running job lives in: eval runs, training runs and iteration steps.

One lifecycle (status state machine with conditional updates, heartbeat, one reaper), one way to stream numbered
frames after commit, one websocket consumer, roles and permissions, artifacts (files jobs produce, with
lineage). `prover` and `training` build on this app and never on each other.
"""
