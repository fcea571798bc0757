"""physai-blog: a static-site generator for Physics-of-AI phenomenology posts.

The package reads as the pipeline it is:

    content (config, posts, experiment specs)
      -> experiments + cache (plan, executor, worker, cache)
      -> artifacts (figures, data, code downloads)
      -> render (markup, directives, templates)
      -> write (staged site, atomic swap)

Importing the package is cheap: ``Experiment`` (which needs numpy) is loaded on first use,
so the CLI never pays for numpy, torch or matplotlib on a cached build.
"""

__version__ = "0.1.0"
__all__ = ["Experiment", "__version__"]


def __getattr__(name):
    if name == "Experiment":
        from physai_blog.runtime.experiment import Experiment

        return Experiment
    raise AttributeError(f"module 'physai_blog' has no attribute {name!r}")
