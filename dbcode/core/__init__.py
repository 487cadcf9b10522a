"""Bottom layer: helpers with no knowledge of the model (progress bars, JSON, the repository)."""
