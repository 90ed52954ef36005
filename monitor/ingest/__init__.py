"""Ingestion: validating sidecar records against a model's schema and writing them in batches."""
