"""Canary rollouts: state changes, the step controller run by the scheduler, and the CLI."""
