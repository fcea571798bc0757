"""The experiment API that experiment scripts import and that ships, whole, inside every
``reproduce.zip``: ``Experiment``, ``Data``, run names.  Imports numpy; nothing else of the
package."""
