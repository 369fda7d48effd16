"""Running the app as several web replicas behind HAProxy on one Dask cluster (see README.md)."""
