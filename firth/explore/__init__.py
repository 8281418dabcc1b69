"""``firth explore``: a local web page to look at word vectors; ``firth plot map``: the same
maps as static pictures.

* ``search.py``  exact nearest neighbours over a memory-mapped matrix (int8 screen + exact rescoring)
* ``kernels.py`` its Numba kernels;  ``project.py`` PCA / t-SNE / UMAP of a few hundred vectors
* ``session.py`` the page's operations as a Python API (Explorer);  ``app.py`` the ASGI app and JSON API
* ``static/``    the page (HTML, CSS, hand-written SVG charts in plain JS; no CDN)
* ``plot.py``    static maps with matplotlib;  ``cli.py`` the two commands

The server needs the ``explore`` extra (starlette, uvicorn); see docs/explore.md.
"""
