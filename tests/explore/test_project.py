"""PCA against an eigendecomposition; the NumPy t-SNE's gradient by finite differences,
its perplexity calibration, and that it separates clusters."""

from __future__ import annotations

import numpy as np
import pytest

from firth.errors import FirthError
from firth.explore.project import conditional_p, joint_p, kl_and_grad, pca, project, tsne


def test_pca_matches_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8)) @ np.diag([5, 3, 1, 1, 0.5, 0.5, 0.2, 0.1])
    Y, ratio = pca(X)
    Xc = X - X.mean(axis=0)
    vals, vecs = np.linalg.eigh(np.cov(Xc.T, bias=True))
    top = vecs[:, ::-1][:, :2]
    ref = Xc @ top
    for k in range(2):  # same axes up to sign; firth fixes the sign
        sign = np.sign(ref[:, k] @ Y[:, k])
        np.testing.assert_allclose(Y[:, k], sign * ref[:, k], atol=1e-9)
    np.testing.assert_allclose(ratio, vals[::-1][:2] / vals.sum(), rtol=1e-9)
    # the orientation rule: the largest loading of each axis is positive, so reruns agree
    Y2, _ = pca(X.copy())
    np.testing.assert_array_equal(Y, Y2)


def test_tsne_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 5))
    P = joint_p(X, perplexity=4.0)
    assert abs(P.sum() - 1) < 1e-6
    Y = rng.standard_normal((12, 2))
    _, g = kl_and_grad(Y, P)
    h = 1e-6
    num = np.zeros_like(Y)
    for i in range(12):
        for j in range(2):
            Yp, Ym = Y.copy(), Y.copy()
            Yp[i, j] += h
            Ym[i, j] -= h
            num[i, j] = (kl_and_grad(Yp, P)[0] - kl_and_grad(Ym, P)[0]) / (2 * h)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)


def test_conditional_p_reaches_the_perplexity():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 6))
    D = ((X[:, None] - X[None]) ** 2).sum(-1)
    P = conditional_p(D, perplexity=7.0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(np.diag(P) == 0)
    H = -np.sum(np.where(P > 0, P * np.log(np.maximum(P, 1e-300)), 0), axis=1)
    np.testing.assert_allclose(np.exp(H), 7.0, rtol=1e-3)


def test_tsne_separates_clusters_and_is_seeded():
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((3, 10)) * 5
    X = np.vstack([c + rng.standard_normal((15, 10)) * 0.3 for c in centers])
    Y = tsne(X, perplexity=8, iters=300, seed=0)
    labels = np.repeat(np.arange(3), 15)
    means = np.stack([Y[labels == k].mean(axis=0) for k in range(3)])
    nearest = np.argmin(((Y[:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert (nearest == labels).all()
    np.testing.assert_array_equal(Y, tsne(X, perplexity=8, iters=300, seed=0))


def test_project_checks():
    X = np.eye(4)
    with pytest.raises(FirthError, match="method 'mds'"):
        project(X, "mds")
    X[0, 0] = np.nan
    with pytest.raises(FirthError, match="NaN"):
        project(X, "pca")
    with pytest.raises(FirthError, match="at most"):
        project(np.random.default_rng(0).standard_normal((501, 3)), "tsne")
