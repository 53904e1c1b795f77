"""HTTP layer: thin handlers over the domain functions."""
