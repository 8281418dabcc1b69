"""2-D projections of a few hundred word vectors: PCA, t-SNE, UMAP.

PCA is NumPy's SVD of the centred unit vectors (signs fixed so the largest coordinate of
each axis is positive: the same picture every run). t-SNE (van der Maaten & Hinton 2008)
is scikit-learn's when it is installed, otherwise the small exact NumPy version below
(perplexity calibrated by bisection, early exaggeration 12 for the first quarter of the
iterations, momentum 0.5 then 0.8, gains as in the paper's reference code); both are seeded.
UMAP needs the ``umap-learn`` package. Every method sees unit-length rows (cosine geometry).
"""

from __future__ import annotations

import importlib.util

import numpy as np

from firth.errors import FirthError

METHODS = ("pca", "tsne", "umap")
TSNE_MAX_POINTS = 500  # the exact NumPy t-SNE is O(n^2) per iteration


def available_methods() -> list[str]:
    out = ["pca", "tsne"]
    if importlib.util.find_spec("umap") is not None:
        out.append("umap")
    return out


def _unit(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    n = np.linalg.norm(X, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return X / n


def project(X: np.ndarray, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, dict]:
    """(n, 2) coordinates of the rows of X, and what the method reports about itself."""
    if method not in METHODS:
        raise FirthError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    X = _unit(X)
    if not np.isfinite(X).all():
        raise FirthError("the vectors to project contain NaN or infinite values")
    n = len(X)
    if n < 2:
        return np.zeros((n, 2)), {"method": method}
    if method == "pca":
        Y, ratio = pca(X)
        return Y, {"method": "pca", "explained_variance": ratio.tolist()}
    if method == "tsne":
        if n > TSNE_MAX_POINTS:
            raise FirthError(f"t-SNE: {n} points; at most {TSNE_MAX_POINTS} (use PCA for more)")
        perplexity = float(min(30.0, max(2.0, (n - 1) / 3)))
        if importlib.util.find_spec("sklearn") is not None:
            from sklearn.manifold import TSNE

            Y = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(X)
            return Y, {"method": "tsne", "implementation": "scikit-learn", "perplexity": perplexity}
        return tsne(X, perplexity=perplexity, seed=seed), {"method": "tsne", "implementation": "firth (exact, NumPy)",
                                                          "perplexity": perplexity}
    if importlib.util.find_spec("umap") is None:
        raise FirthError("method umap: the umap-learn package is not installed (pip install umap-learn); use pca or tsne")
    import umap

    Y = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), metric="cosine", random_state=seed).fit_transform(X)
    return np.asarray(Y, dtype=np.float64), {"method": "umap", "implementation": "umap-learn"}


def pca(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First two principal components of X's rows and the share of variance each explains."""
    Xc = X - X.mean(axis=0)
    U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
    k = min(2, len(S))
    comps = Vt[:k]
    # a fixed orientation: the largest-magnitude loading of each axis is positive
    signs = np.sign(comps[np.arange(k), np.argmax(np.abs(comps), axis=1)])
    signs[signs == 0] = 1
    comps = comps * signs[:, None]
    Y = Xc @ comps.T
    if k < 2:
        Y = np.hstack([Y, np.zeros((len(Y), 2 - k))])
    var = S**2
    ratio = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    return Y, ratio


# --------------------------------------------------------------------- t-SNE
def _sq_dists(X: np.ndarray) -> np.ndarray:
    s = (X * X).sum(axis=1)
    D = s[:, None] + s[None, :] - 2.0 * X @ X.T
    np.fill_diagonal(D, 0.0)
    return np.maximum(D, 0.0)


def conditional_p(D: np.ndarray, perplexity: float, tol: float = 1e-5, iters: int = 100) -> np.ndarray:
    """Rows p_{j|i} whose entropy is log(perplexity), by bisection on each row's precision."""
    n = len(D)
    P = np.zeros((n, n))
    target = np.log(perplexity)
    for i in range(n):
        d = np.delete(D[i], i)
        lo, hi, beta = 0.0, np.inf, 1.0
        for _ in range(iters):
            e = np.exp(-(d - d.min()) * beta)
            p = e / e.sum()
            H = -np.sum(p * np.log(np.maximum(p, 1e-300)))
            if abs(H - target) < tol:
                break
            if H > target:  # too flat: raise the precision
                lo = beta
                beta = beta * 2 if hi == np.inf else (beta + hi) / 2
            else:
                hi = beta
                beta = (beta + lo) / 2
        P[i, np.arange(n) != i] = p
    return P


def joint_p(X: np.ndarray, perplexity: float) -> np.ndarray:
    P = conditional_p(_sq_dists(X), perplexity)
    P = (P + P.T) / (2 * len(X))
    return np.maximum(P, 1e-12)


def kl_and_grad(Y: np.ndarray, P: np.ndarray) -> tuple[float, np.ndarray]:
    """KL(P || Q) of the t-SNE embedding Y and its gradient
    dC/dy_i = 4 sum_j (p_ij - q_ij) (y_i - y_j) / (1 + |y_i - y_j|^2)."""
    num = 1.0 / (1.0 + _sq_dists(Y))
    np.fill_diagonal(num, 0.0)
    Q = np.maximum(num / num.sum(), 1e-12)
    mask = ~np.eye(len(Y), dtype=bool)
    kl = float(np.sum(P[mask] * np.log(P[mask] / Q[mask])))
    W = (P - Q) * num
    np.fill_diagonal(W, 0.0)
    grad = 4.0 * (W.sum(axis=1)[:, None] * Y - W @ Y)
    return kl, grad


def tsne(X: np.ndarray, perplexity: float = 30.0, iters: int = 500, seed: int = 0,
         learning_rate: float | None = None) -> np.ndarray:
    """Exact t-SNE in NumPy (for at most a few hundred points)."""
    n = len(X)
    P = joint_p(np.asarray(X, dtype=np.float64), perplexity)
    rng = np.random.default_rng(seed)
    Y = rng.standard_normal((n, 2)) * 1e-4
    lr = learning_rate or max(n / 12.0 / 4.0, 50.0)  # scikit-learn's "auto" rule
    vel = np.zeros_like(Y)
    gains = np.ones_like(Y)
    stop_lying = max(1, iters // 4)
    for it in range(iters):
        exag = 12.0 if it < stop_lying else 1.0
        _, grad = kl_and_grad(Y, P * exag)
        mom = 0.5 if it < stop_lying else 0.8
        same = np.sign(grad) == np.sign(vel)
        gains = np.where(same, gains * 0.8, gains + 0.2)
        np.maximum(gains, 0.01, out=gains)
        vel = mom * vel - lr * gains * grad
        Y = Y + vel
        Y -= Y.mean(axis=0)
    return Y
