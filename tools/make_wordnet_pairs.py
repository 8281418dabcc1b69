"""Build firth/data/eval/limits/wordnet_{antonyms,synonyms}.tsv from WordNet 3.0.

    apt-get install wordnet-base     # Debian: /usr/share/wordnet/data.{adj,adv,noun,verb}
    python tools/make_wordnet_pairs.py [/usr/share/wordnet] [firth/data/eval/limits]

Antonyms: every lexical antonym pointer ("!") between two single-word, all-lowercase,
alphabetic lemmas, as an unordered pair (first seen POS kept), sorted.
Synonyms: for every synset, the pairs of its first three single-word lowercase lemmas
(WordNet orders a synset's lemmas by sense frequency), kept only when at least one of the
two words also appears in an antonym pair (so synonyms and antonyms cover similar words),
sorted. Adjective satellites ("s") are written as "a".
Output columns: word1<TAB>word2<TAB>pos (n, v, a, r).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

WORD = re.compile(r"^[a-z]+$")


def read_synsets(wn: Path):
    synsets = {}
    for pos_file, pos in (("data.noun", "n"), ("data.verb", "v"), ("data.adj", "a"), ("data.adv", "r")):
        for line in (wn / pos_file).read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):  # licence header
                continue
            head = line.split(" | ")[0].split()
            off, ss_type = head[0], head[2]
            w_cnt = int(head[3], 16)
            words = [re.sub(r"\(.*\)$", "", head[4 + 2 * i]) for i in range(w_cnt)]
            k = 4 + 2 * w_cnt
            p_cnt = int(head[k])
            ptrs = []
            for i in range(p_cnt):
                sym, t_off, t_pos, st = head[k + 1 + 4 * i: k + 5 + 4 * i]
                ptrs.append((sym, t_off, "a" if t_pos == "s" else t_pos, int(st[:2], 16), int(st[2:], 16)))
            synsets[(pos, off)] = (words, ptrs)
    return synsets


def main():
    wn = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/wordnet")
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "firth/data/eval/limits")
    synsets = read_synsets(wn)
    ant = {}
    for (pos, off), (words, ptrs) in synsets.items():
        for sym, t_off, t_pos, src, tgt in ptrs:
            if sym != "!" or src == 0 or tgt == 0:
                continue
            w1 = words[src - 1]
            tw = synsets.get((t_pos, t_off))
            if tw is None:
                continue
            w2 = tw[0][tgt - 1]
            if WORD.match(w1) and WORD.match(w2) and w1 != w2:
                ant.setdefault(tuple(sorted((w1, w2))), pos)
    ant_words = {w for p in ant for w in p}
    syn = {}
    for (pos, off), (words, ptrs) in synsets.items():
        ws = [w for w in words if WORD.match(w)][:3]
        for i in range(len(ws)):
            for j in range(i + 1, len(ws)):
                a, b = sorted((ws[i], ws[j]))
                if a != b and (a in ant_words or b in ant_words) and (a, b) not in ant:
                    syn.setdefault((a, b), pos)
    out.mkdir(parents=True, exist_ok=True)
    for name, pairs in (("wordnet_antonyms.tsv", ant), ("wordnet_synonyms.tsv", syn)):
        with open(out / name, "w", encoding="utf-8", newline="\n") as f:
            for (a, b), pos in sorted(pairs.items()):
                f.write(f"{a}\t{b}\t{pos}\n")
        print(f"{out / name}: {len(pairs)} pairs")


if __name__ == "__main__":
    main()
