"""Build firth/data/demo-corpus.txt.xz, the small corpus `firth demo` trains on.

Cut from ../shared/data/corpora/en-mix, public-domain / CC0 sources only (see
firth/data/README.md): every chunk of `factbook`, `state_union` and `inaugural`, and every
4th chunk of `standardebooks`, in corpus order, one chunk per line (text8 style: a-z and
spaces). Deterministic: rerunning gives the same bytes.

    python tools/make_demo_corpus.py [--en-mix PATH] [--chunks PATH] [-o firth/data/demo-corpus.txt.xz]
"""

import argparse
import lzma
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "corpora" / "en-mix"
KEEP_ALL = {"factbook", "state_union", "inaugural"}
EVERY_NTH = {"standardebooks": 4}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--en-mix", default=SHARED / "en-mix.txt.xz")
    ap.add_argument("--chunks", default=SHARED / "en-mix.chunks.tsv.xz")
    ap.add_argument("-o", "--output", default=Path(__file__).resolve().parents[1] / "firth" / "data" / "demo-corpus.txt.xz")
    args = ap.parse_args()

    spans, seen = [], {}
    with lzma.open(args.chunks, "rt", encoding="utf-8") as f:
        next(f)
        for line in f:
            _, source, _, _, first, n = line.rstrip("\n").split("\t")
            seen[source] = seen.get(source, 0) + 1
            if source in KEEP_ALL or (source in EVERY_NTH and seen[source] % EVERY_NTH[source] == 1):
                spans.append((int(first), int(n)))
    with lzma.open(args.en_mix, "rt", encoding="ascii") as f:
        words = f.read().split(" ")
    lines = [" ".join(words[a : a + n]) for a, n in spans]
    data = ("\n".join(lines) + "\n").encode("ascii")
    with lzma.open(args.output, "wb", preset=9 | lzma.PRESET_EXTREME) as out:
        out.write(data)
    print(f"{len(lines)} chunks, {sum(n for _, n in spans):,} words -> {args.output}")


if __name__ == "__main__":
    main()
