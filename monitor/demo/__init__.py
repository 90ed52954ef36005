"""`monitor demo`: the whole loop on the embedded defaults, from a trained model to a promotion."""
