"""Stage 2, runs: plan every (post, cell, seed) run, execute the stale ones (local pool, fork
server, Dask), commit each to the content-addressed cache as it finishes."""
