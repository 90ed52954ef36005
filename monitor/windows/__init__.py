"""Monitoring windows: ingested traffic kept as columnar segments and read back as Arrow tables."""
