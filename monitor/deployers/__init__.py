"""Deployers: start or drive the serving engines that endpoints point at."""
