"""The REST API: the sidecar contract under /api/v1, configuration and queries, health, metrics."""
