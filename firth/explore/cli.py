"""``firth explore`` (a local web page) and ``firth plot map`` (a static map picture).

Only argparse-level code at import time: the server, NumPy and the vectors load in the handlers.
"""

from __future__ import annotations

from firth.cli import add_parser

EXPLORE_DESCRIPTION = """\
Open one or two vectors files in a local web page: nearest neighbours (with completion;
fastText vectors also answer unseen words), two models side by side with their overlap,
analogies (3CosAdd / 3CosMul), maps (PCA, t-SNE, UMAP where installed) of a neighbourhood,
a word list or the most frequent words, WEAT bias tests and a bias axis from word pairs,
antonym / synonym limits, and firth evaluate's scores as charts. The vectors are
memory-mapped; nothing leaves this machine. Needs the explore extra:
pip install 'firth[explore]'. See docs/explore.md for the page and its JSON API.

Example:
  firth explore vectors.firth other.vec --port 8765
"""


def register(sub) -> None:
    p = add_parser(sub, "explore", "look at vectors in a local web page (neighbours, analogies, maps, bias)",
                   description=EXPLORE_DESCRIPTION)
    p.add_argument("vectors", nargs="+", metavar="V", help="one or two vectors files (any format firth reads)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; anything but 127.0.0.1/localhost exposes the page to the network")
    p.add_argument("--no-browser", action="store_true", help="only print the URL; do not open a browser")
    p.set_defaults(func=cmd_explore)

    plot = add_parser(sub, "plot", "draw pictures of vectors without a browser")
    psub = plot.add_subparsers(dest="plot_command", metavar="WHAT")
    psub.required = True
    m = add_parser(psub, "map", "a 2-D map (PCA / t-SNE / UMAP) of words, written to a PNG or SVG file")
    m.add_argument("vectors", help="vectors file (any format firth reads)")
    m.add_argument("words", nargs="+", help="words to place; with --neighbours N, the centre word(s) whose neighbours to add")
    m.add_argument("-o", "--output", required=True, help="picture to write (atomically)")
    m.add_argument("--svg", action="store_true", help="write SVG instead of PNG (whatever -o's suffix)")
    m.add_argument("--method", choices=["pca", "tsne", "umap"], default="pca", help="projection")
    m.add_argument("--neighbours", type=int, default=0, metavar="N",
                   help="also place each word's N nearest neighbours")
    m.add_argument("--title", default=None, help="title of the picture (default: the file and method)")
    m.set_defaults(func=cmd_plot_map)


def cmd_explore(args) -> int:
    import sys

    from firth.errors import FirthError, check

    check(1 <= len(args.vectors) <= 2, f"explore: {len(args.vectors)} vectors files; give one or two")
    check(0 <= args.port <= 65535, f"--port {args.port}: must be between 0 and 65535")
    try:
        import uvicorn  # noqa: F401
        import starlette  # noqa: F401
    except ImportError:
        raise FirthError("explore: the web server packages are missing; install them with "
                         "pip install 'firth[explore]'") from None
    from firth.explore.server import LOCAL_HOSTS, serve

    if args.host not in LOCAL_HOSTS:
        print(f"firth explore: warning: --host {args.host} makes the page (and your vectors) reachable "
              "from other machines; use 127.0.0.1 unless you mean it", file=sys.stderr)
    return serve(args.vectors, args.host, args.port, open_browser=not args.no_browser)


def cmd_plot_map(args) -> int:
    from firth.explore.plot import plot_map

    written = plot_map(args.vectors, args.words, args.output, method=args.method, svg=args.svg,
                       neighbours=args.neighbours, title=args.title)
    print(f"map of {written['points']} words written to {written['path']}")
    return 0
