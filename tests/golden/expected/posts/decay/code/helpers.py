"""A project-local helper: editing it must rerun the experiments that import it."""

SCALE = 1.0


def decay(step, rate):
    return SCALE / (1.0 + rate * step)
