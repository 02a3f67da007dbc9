"""The compatibility gate: lint rules, breaking-change checks, findings and their formats."""
