"""What admins run and read: doctor, backup, metrics, insights, evaluation, the health
check and who may reload over HTTP."""
