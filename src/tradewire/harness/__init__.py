"""The agent-pipeline harness: simulated agents over the real broker, chaos scenarios, the ledger and the report."""
