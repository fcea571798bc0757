"""al-folio (Jekyll) sites, both ways: ``importer`` turns one into a physai blog,
``exporter`` publishes a physai blog's built posts into one."""
