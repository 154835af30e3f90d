"""Escalation cases: the case machine, its rows and rules, the outbox, feedback."""
