"""Building the book: the pipeline, the frozen-metrics check and its tolerances, the command line."""
