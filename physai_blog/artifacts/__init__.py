"""Stage 4, artifacts: what a reader downloads: raw data, figure data zips, code,
``reproduce.zip`` and the notebook."""
