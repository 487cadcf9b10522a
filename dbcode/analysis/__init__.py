"""Measures of what networks learned and the theory behind the derivation chapter."""
