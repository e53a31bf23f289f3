"""What the application runs on: storage, the transparency log service, worker processes, locks, quotas."""
