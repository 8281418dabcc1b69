"""``firth demo``: firth's main job on the bundled default, end to end.

Trains word2vec on the small public-domain corpus shipped in the package
(firth/data/demo-corpus.txt.xz), saves the vectors, then prints nearest neighbours of a few
words, analogies and the scores on the bundled benchmarks (WS353 and the other similarity
sets, Google analogies).
"""

from __future__ import annotations

import time
from importlib import resources

from firth.cli import add_parser

NEIGHBOUR_WORDS = ["king", "france", "money", "river", "war", "good"]
ANALOGIES = [("man", "king", "woman"), ("france", "paris", "england"), ("big", "bigger", "small")]


def demo_corpus_path():
    return resources.files("firth.data").joinpath("demo-corpus.txt.xz")


def register(sub) -> None:
    p = add_parser(sub, "demo", "train word2vec on the bundled demo corpus, then show neighbours, analogies and benchmark scores")
    p.add_argument("-o", "--output", default="demo-vectors.firth", help="where to save the trained vectors")
    p.add_argument("--corpus", default=None, help="train on this corpus instead of the bundled one")
    p.add_argument("--model", choices=["sg", "cbow"], default="sg", help="skip-gram or CBOW")
    p.add_argument("--epochs", type=int, default=5, help="passes over the corpus")
    p.add_argument("--dim", type=int, default=100, help="vector dimensions")
    p.add_argument("--workers", type=int, default=None, help="training threads (default: all cores)")
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from firth.train.word2vec import Word2Vec

    corpus = args.corpus or str(demo_corpus_path())
    print(f"== training {args.model} word2vec on {corpus if args.corpus else 'the bundled demo corpus (2.6M words)'}")
    t0 = time.perf_counter()
    w2v = Word2Vec(model=args.model, dim=args.dim, epochs=args.epochs, workers=args.workers, seed=args.seed, progress=True)
    w2v.train(corpus)
    kv = w2v.wv
    kv.save(args.output)
    print(f"   {len(kv):,} words x {kv.vector_size} dims in {time.perf_counter() - t0:.1f} s "
          f"(loss per epoch: {', '.join(f'{x:.3f}' for x in w2v.epoch_losses)}); saved to {args.output}")

    print("\n== nearest neighbours")
    for word in NEIGHBOUR_WORDS:
        if word in kv:
            hits = kv.most_similar(word, topn=8)
            print(f"   {word:>8}: " + ", ".join(w for w, _ in hits))

    print("\n== analogies (a : b :: c : ?, 3CosAdd)")
    for a, b, c in ANALOGIES:
        if all(w in kv for w in (a, b, c)):
            hits = kv.analogy(a, b, c, topn=3)
            print(f"   {a} : {b} :: {c} : " + ", ".join(f"{w} ({s:.2f})" for w, s in hits))

    print("\n== benchmarks (bundled; pairs/questions with unknown words skipped and counted)")
    _print_scores(kv)
    return 0


def _print_scores(kv) -> None:
    from firth.evaluate.analogy import evaluate_analogies
    from firth.evaluate.datasets import ANALOGY_FILE, bundled_similarity_files
    from firth.evaluate.similarity import evaluate_similarity

    for path in bundled_similarity_files():
        r = evaluate_similarity(kv, path)
        print(f"   {path.stem:<12} Spearman {r['spearman']:+.3f}  ({r['found']}/{r['pairs']} pairs known)")
    r = evaluate_analogies(kv, ANALOGY_FILE, restrict=30000)
    t = r["total"]
    print(f"   {'google':<12} accuracy {t['add']['accuracy']:.3f} 3CosAdd, {t['mul']['accuracy']:.3f} 3CosMul "
          f"({t['answered']}/{t['questions']} questions answerable in the 30,000 most frequent words)")
