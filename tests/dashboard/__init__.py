"""Dashboard tests: one package, so its servers and browser stop when its last test ends."""
