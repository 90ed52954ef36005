"""Running monitors on their schedules: one active scheduler at a time, runs that always finish."""
