"""Best-first / hybrid / pass@N proof search over a DAG of proof states. No Django."""
