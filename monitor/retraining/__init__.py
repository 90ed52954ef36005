"""Retraining orchestration: the export, the pipeline run, registration in MLflow and the
validation gate, each state change committed with the events it causes."""
