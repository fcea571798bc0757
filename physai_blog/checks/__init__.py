"""Checks over a whole blog: ``verify`` (rerun and compare with what is published) and
``doctor`` (check without running)."""
