"""``physai-blog serve``: the warm author loop (build on change, reload the page)."""
