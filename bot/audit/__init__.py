"""The audit trail (who was told what, pseudonymised) and its spool."""
