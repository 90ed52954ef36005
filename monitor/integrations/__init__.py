"""Integrations with the stacks users already run: Prometheus metrics read from the store, and
MLflow model-registry webhooks."""
