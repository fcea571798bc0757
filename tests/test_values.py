"""Values, fits and claims: the pure-Python evaluator (no eval of arbitrary code)."""

from __future__ import annotations

import pytest

from physai_blog.errors import InputError
from physai_blog.render.values import (Observables, RunValues, check_claim, fit, format_values,
                                 power_law)


def obs_of(rows, sweep=None):
    return Observables([RunValues(f"r{i}", cell, seed, values)
                        for i, (cell, seed, values) in enumerate(rows)], sweep or {})


SWEEP = obs_of([({"wd": wd}, seed, {"t": 100.0 / wd * (1 + 0.01 * seed), "m": 10.0})
                for wd in (0.5, 1.0, 2.0, 4.0) for seed in (0, 1, 2)], {"wd": [0.5, 1.0, 2.0, 4.0]})


def test_format_values():
    assert format_values([3.0]) == "3"
    assert format_values([0.5, 0.7], ".1%") == "60.0% ± 14.1% (n=2)"
    assert format_values([1.0, 2.0, 3.0]) == "2 ± 1 (n=3)"


def test_power_law_recovers_the_exponent():
    fit = power_law([(x, 3.0 * x ** -1.5) for x in (1, 2, 4, 8)])
    assert fit.exponent == pytest.approx(-1.5) and fit.ci95 == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError):
        power_law([(1, 1), (1, 2)])


def test_claim_checked_on_every_run_with_its_numbers():
    check = check_claim(SWEEP, "t / m > 2", "late", {}, "p.md", 3)
    assert check.holds and len(check.rows) == 12
    assert check.rows[0]["numbers"] == {"t / m": pytest.approx(20.0), "m": 10.0} or \
        "t / m" in check.rows[0]["numbers"]
    failing = check_claim(SWEEP, "t > 30", "slow", {}, "p.md", 3)
    assert not failing.holds and {r["cell"]["wd"] for r in failing.failures()} == {4.0}


def test_claim_on_one_cell_and_aggregates():
    assert check_claim(SWEEP, "t > 150", "x", {"wd": 0.5}, "p.md", 1).holds
    assert check_claim(SWEEP, "std(t) < 0.05 * mean(t)", "x", {}, "p.md", 1).holds
    assert check_claim(SWEEP, "at('t', wd=0.5) > 4 * at('t', wd=2.0) - 1", "x", {}, "p", 1).holds


def test_exponent_in_claims_is_pooled_over_seeds_as_fit_is_or_per_seed_when_asked():
    pooled = check_claim(SWEEP, "-1.1 < exponent('t', 'wd') < -0.9", "1/wd", {}, "p.md", 1)
    assert pooled.holds
    shown = {row["numbers"]["exponent('t', 'wd')"] for row in pooled.rows}
    assert shown == {fit(SWEEP, "t", "wd", {}, "p.md", 1).exponent}   # one number, as in prose
    each = check_claim(SWEEP, "-1.1 < exponent('t', 'wd', per_seed=True) < -0.9", "1/wd", {},
                       "p.md", 1)
    assert each.holds
    for row in each.rows:
        assert row["numbers"]["exponent('t', 'wd', per_seed=True)"] == \
            fit(SWEEP, "t", "wd", {}, "p.md", 1, seed=row["seed"]).exponent


@pytest.mark.parametrize("expr, message", [
    ("__import__('os').system('x')", "unknown function __import__('os').system()"),
    ("t.__class__", "Attribute is not allowed"),
    ("[t for t in m]", "ListComp is not allowed"),
    ("t >", "cannot parse claim"),
    ("lambda: 1", "Lambda is not allowed"),
    ("t[0]", "Subscript is not allowed"),
])
def test_unsafe_or_broken_claims_are_input_errors(expr, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        check_claim(SWEEP, expr, "x", {}, "posts/p.md", 7)
    assert str(info.value.message).startswith("posts/p.md:7: ")


def test_unknown_names_and_cells():
    with pytest.raises(InputError, match=r"unknown value 'tt'; did you mean 't'\?"):
        check_claim(SWEEP, "tt > 1", "x", {}, "p.md", 1)
    with pytest.raises(InputError, match=r"wd=0.3 is not in the sweep"):
        check_claim(SWEEP, "t > 1", "x", {"wd": 0.3}, "p.md", 1)
    with pytest.raises(InputError, match=r"'lr' is not a sweep axis"):
        SWEEP.value("t", {"lr": 1}, "p.md", 1)
    with pytest.raises(InputError, match=r"varies over the sweep; name a cell"):
        SWEEP.value("t", {}, "p.md", 1)
    assert SWEEP.value("t", {"wd": 1.0}, "p.md", 1) == [100.0, 101.0, 102.0]
