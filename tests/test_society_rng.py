"""The counter-based generator: pure functions of their keys."""

from __future__ import annotations

import numpy as np

from socialcredit.society import rng


def test_uniform_is_a_pure_function_of_key_and_counters() -> None:
    k = rng.key(7, "stream")
    a = rng.uniform(k, np.arange(1000))
    assert np.array_equal(a, rng.uniform(k, np.arange(1000)))
    # element i does not depend on which other elements are drawn with it
    assert np.array_equal(a[500:], rng.uniform(k, np.arange(500, 1000)))
    assert float(a[3]) == float(rng.uniform(k, 3))
    assert ((a >= 0) & (a < 1)).all()
    assert not np.array_equal(a, rng.uniform(rng.key(8, "stream"), np.arange(1000)))
    assert not np.array_equal(a, rng.uniform(rng.key(7, "other"), np.arange(1000)))


def test_scalar_counters_fold_into_the_key() -> None:
    k = rng.key(1, "x")
    assert np.array_equal(rng.bits(k, 5, np.arange(4)), rng.bits(k, np.full(4, 5), np.arange(4)))
    assert rng.key(1, "x", 5) == int(rng.bits(k, 5))


def test_uniform_looks_uniform() -> None:
    u = rng.uniform(rng.key(3, "u"), np.arange(200_000))
    hist = np.bincount((u * 10).astype(int), minlength=10)
    assert hist.min() > 19_000 and hist.max() < 21_000
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


def test_poisson_matches_its_mean_and_variance_on_both_paths() -> None:
    k = rng.key(2, "poisson")
    for lam in (0.05, 2.0, 9.5, 10.5, 40.0, 500.0):
        x = rng.poisson(np.full(100_000, lam), k, np.arange(100_000))
        assert abs(x.mean() - lam) < 4 * np.sqrt(lam / 100_000) + 1e-3, lam
        assert abs(x.var() / lam - 1) < 0.05, lam
    assert rng.poisson(np.zeros(3), k, np.arange(3)).tolist() == [0, 0, 0]


def test_poisson_element_does_not_depend_on_its_neighbours() -> None:
    k = rng.key(2, "p")
    lam = np.array([0.5, 30.0, 3.0, 80.0])
    both = rng.poisson(lam, k, np.arange(4))
    alone = [int(rng.poisson(lam[i : i + 1], k, np.arange(i, i + 1))[0]) for i in range(4)]
    assert both.tolist() == alone


def test_normal_and_choice() -> None:
    z = rng.normal(rng.key(4, "z"), np.arange(100_000))
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    cdf = np.cumsum([0.2, 0.3, 0.5])
    c = rng.choice(rng.key(4, "c"), cdf, np.arange(100_000))
    shares = np.bincount(c, minlength=3) / 100_000
    assert np.allclose(shares, [0.2, 0.3, 0.5], atol=0.01)
