"""The serving sidecar: a reverse proxy in front of a model server that splits traffic by the
control plane's routing and ships what it served to the inferences API."""
