"""Start the explore server: load the vectors (memory-mapped), bind, print the URL, serve."""

from __future__ import annotations

import socket
import sys
import threading
import time

from firth.errors import FirthError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")  # anything else: the page is on the network


def serve(paths, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True) -> int:
    import uvicorn

    from firth.explore.app import create_app
    from firth.explore.session import Explorer

    t0 = time.perf_counter()
    ex = Explorer.open(paths)
    sock = _bind(host, port)
    ex.start()  # indexes build in the background; queries are exact meanwhile
    allowed = ("127.0.0.1", "localhost", "[::1]", "::1") if host in LOCAL_HOSTS else ("*",)
    app = create_app(ex, allowed_hosts=allowed)
    real_port = sock.getsockname()[1]
    shown = "127.0.0.1" if host in ("127.0.0.1", "localhost") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{real_port}/"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    if open_browser:
        threading.Thread(target=_open, args=(url,), daemon=True).start()
    print(f"firth explore: {', '.join(m.name + f' ({len(m.kv):,} words)' for m in ex.models)} "
          f"at {url} (ready in {time.perf_counter() - t0:.1f} s; Ctrl-C stops)", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit this: without it every response waits ~40 ms (Nagle's
    # algorithm against the client's delayed ACK); uvicorn sets it only on sockets it binds
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise FirthError(f"--host {host} --port {port}: cannot listen there ({e.strerror}); "
                         "choose another --port (0: any free one)") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _open(url: str) -> None:
    import webbrowser

    time.sleep(0.5)
    try:
        webbrowser.open(url)
    except Exception as e:  # no browser here: the URL is printed anyway
        print(f"firth explore: could not open a browser ({e}); open {url}", file=sys.stderr)
