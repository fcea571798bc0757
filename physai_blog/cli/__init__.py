"""The command line: ``main.py`` holds the Click group and the console script, one module per
verb beside it (as mkdocs' ``commands/``)."""
