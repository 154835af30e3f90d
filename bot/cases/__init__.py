"""Escalation cases: the case machine, its rows and rules, the outbox, feedback, and policy-change
announcements with the direct messages they send."""
