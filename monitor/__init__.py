"""The control-plane service: settings, store, REST API, ingestion and the CLI."""
