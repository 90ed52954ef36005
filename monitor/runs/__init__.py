"""Monitor runs: load a window, test it against the stored reference profile, settle the state."""
