"""What admins run and read: doctor, backup, metrics, insights, evaluation."""
