"""Running networks: jobs, the result store and its code version, the Dask runner, the named sweeps and their committed records."""
