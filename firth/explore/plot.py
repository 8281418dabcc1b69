"""``firth plot map``: the explore page's map as a static PNG or SVG (matplotlib)."""

from __future__ import annotations

import os

from firth.errors import FirthError
from firth.explore.session import LIMITS, Model, check_word


def plot_map(vectors, words, output, method: str = "pca", svg: bool = False, neighbours: int = 0,
             title: str | None = None) -> dict:
    """Place ``words`` (and each one's ``neighbours`` nearest neighbours) on a 2-D map.
    Returns {"path", "points", "missing"}. Unknown words are reported, not fatal, unless
    fewer than two words remain."""
    from firth.explore.project import project

    if not 0 <= neighbours <= LIMITS.map_neighbours:
        raise FirthError(f"--neighbours {neighbours}: must be between 0 and {LIMITS.map_neighbours}")
    words = [check_word(w) for w in words]
    if len(words) > LIMITS.map_points:
        raise FirthError(f"{len(words)} words: at most {LIMITS.map_points}")
    from firth.io import check_output

    check_output(output, "picture", inputs=[vectors], accept=_is_picture)  # fail before loading
    m = Model.open(vectors)
    chosen, centers = list(words), set()
    if neighbours:
        for w in words:
            try:
                hits = m.neighbours(w, neighbours)["neighbours"]
            except FirthError:
                continue
            centers.add(w)
            chosen += [h for h, _ in hits]
    chosen = list(dict.fromkeys(chosen))[: LIMITS.map_points]
    found, X, missing = m.rows(chosen)
    if len(found) < 2:
        raise FirthError(f"{vectors}: fewer than two of the words have vectors (missing: {' '.join(missing[:10])})")
    Y, about = project(X, method)
    _draw(found, Y, centers, output, svg, title or f"{os.path.basename(str(vectors))}: {about['method'].upper()}")
    return {"path": str(output), "points": len(found), "missing": missing}


def _is_picture(path) -> bool:
    """An existing output is replaced only if it is a picture (PNG or SVG), as firth writes."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return False
    return head.startswith(b"\x89PNG\r\n") or b"<svg" in head or head.lstrip().startswith(b"<?xml")


def _draw(words, Y, centers, output, svg: bool, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from firth.io import atomic_write

    fig, ax = plt.subplots(figsize=(10, 7))
    colors = ["tab:orange" if w in centers else "tab:blue" for w in words]
    ax.scatter(Y[:, 0], Y[:, 1], c=colors, s=24, alpha=0.85)
    if len(words) <= 300:
        for w, (x, y) in zip(words, Y):
            ax.annotate(w, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=8)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    with atomic_write(output, "wb", kind="picture", accept=_is_picture) as f:
        fig.savefig(f, format="svg" if svg else "png", dpi=120)
    plt.close(fig)
