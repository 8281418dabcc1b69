"""``firth evaluate``: similarity, analogies, WEAT and the limits of word vectors, offline."""

from __future__ import annotations

from firth.cli import add_parser

DESCRIPTION = """\
Evaluate word vectors on the benchmarks bundled with firth (offline). With no benchmark
option it runs all of them and prints one table: word similarity (10 sets: Spearman rho and
Pearson r between cosine and human scores, with coverage), the Google analogy set
(3CosAdd and 3CosMul, per section and semantic/syntactic/total), WEAT 1-10, and two
limits (antonyms vs synonyms vs random pairs; polysemy: a word's neighbours clustered).
Giving any of --similarity / --analogies / --weat / --antonyms / --polysemy runs only those.

Policy (gensim's defaults): words are compared case-insensitively (the most frequent
vocabulary casing answers); similarity pairs with an unknown word are skipped and counted
(--oov); analogy questions with an unknown word are not answered and are counted (accuracy
is over answered questions; the JSON also gives accuracy over all questions); analogies
search the --restrict most frequent words and never answer with a question word.

WEAT (Caliskan et al. 2017): S = sum_x s(x,A,B) - sum_y s(y,A,B), with
s(w,A,B) = mean cos(w,A) - mean cos(w,B).
  d  effect size: (mean_x s - mean_y s) / std_{w in X u Y} s(w). Like Cohen's d: how many
     standard deviations apart the two target sets' associations are (0.2 small, 0.5
     medium, 0.8 large; at most 2 for equal sets). std is the population std (ddof=0,
     the paper's std over the words of X u Y, as WEFE computes it); --weat-ddof 1 gives
     the sample std.
  p  one-sided permutation p-value: the fraction of equal-size re-partitions of X u Y
     whose S exceeds the observed S, i.e. how often randomly relabelled targets would show
     an association this strong. Exact (all partitions) when there are at most
     --weat-exact-limit of them, otherwise --weat-samples random partitions (seeded;
     p = (count+1)/(samples+1)). Small p = unlikely by chance; d says how large.

Examples:
  firth evaluate vectors.bin
  firth evaluate vectors.bin --json > scores.json
  firth evaluate vectors.bin --analogies --method mul --restrict 100000
  firth evaluate vectors.bin --similarity my_pairs.tsv --oov mean
  firth evaluate vectors.bin --weat my_tests.json --plot weat.png
"""


def register(sub) -> None:
    p = add_parser(sub, "evaluate", "evaluate vectors: similarity, analogies, WEAT bias tests, limits",
                   description=DESCRIPTION)
    p.add_argument("vectors", help="vectors file (any format firth reads, detected from content)")
    p.add_argument("--limit", type=int, default=None, help="load only the N most frequent words")
    p.add_argument("--dim", type=int, default=None, help="expected vector dimension (error if different)")
    p.add_argument("--json", action="store_true", help="print only JSON on stdout (keys: benchmark file stems)")
    p.add_argument("--plot", metavar="PNG", default=None, help="also draw the results to this PNG file")
    p.add_argument("--similarity", nargs="*", metavar="FILE", default=None,
                   help="word-pair files 'w1<TAB>w2<TAB>score' (no FILE: the bundled sets)")
    p.add_argument("--analogies", nargs="?", metavar="FILE", const="", default=None,
                   help="analogy file in questions-words.txt format (no FILE: the bundled Google set)")
    p.add_argument("--weat", nargs="?", metavar="FILE", const="", default=None,
                   help="WEAT tests JSON: a list of {id, targets: {X: [...], Y: [...]}, attributes: "
                        "{A: [...], B: [...]}} (no FILE: the bundled WEAT 1-10)")
    p.add_argument("--antonyms", action="store_true", help="run the antonym / synonym / random-pair comparison")
    p.add_argument("--polysemy", nargs="+", metavar="WORD", default=None,
                   help="cluster the neighbours of these words (default run: bank plant spring)")
    p.add_argument("--restrict", type=int, default=30000,
                   help="analogies: search (and accept question words) among the N most frequent words "
                        "(30,000 as word2vec's compute-accuracy); the antonym and polysemy neighbour "
                        "searches use the same N (similarity and WEAT use the whole vocabulary)")
    p.add_argument("--method", choices=["add", "mul", "both"], default="both",
                   help="analogy method: 3CosAdd, 3CosMul (Levy & Goldberg 2014) or both")
    p.add_argument("--eps", type=float, default=1e-3, help="3CosMul epsilon (Levy & Goldberg: 0.001)")
    p.add_argument("--oov", choices=["skip", "mean", "zero"], default="skip",
                   help="similarity pairs with an unknown word: skip (and count), score at the mean cosine "
                        "of the known pairs, or score 0 (gensim's dummy4unknown)")
    p.add_argument("--case-sensitive", action="store_true",
                   help="compare benchmark words with the vocabulary case-sensitively")
    p.add_argument("--weat-ddof", type=int, choices=[0, 1], default=0,
                   help="std in WEAT's effect size: 0 = population (paper, WEFE), 1 = sample")
    p.add_argument("--weat-samples", type=int, default=100_000,
                   help="WEAT p-value: random partitions when exact enumeration is too large")
    p.add_argument("--weat-exact-limit", type=int, default=100_000,
                   help="WEAT p-value: enumerate all partitions when there are at most this many")
    p.add_argument("--seed", type=int, default=0, help="seed for sampled p-values, random pairs, clustering")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args) -> int:
    import sys

    from firth.vectors import load_vectors
    from firth.errors import check
    from firth.evaluate import datasets, report
    from firth.evaluate.lookup import check_dim

    check(args.limit is None or args.limit > 0, f"--limit {args.limit}: must be a positive number")
    check(args.restrict > 0, f"--restrict {args.restrict}: must be a positive number")
    check(args.eps > 0, f"--eps {args.eps}: must be positive")
    check(args.weat_samples > 0, f"--weat-samples {args.weat_samples}: must be positive")
    check(args.dim is None or args.dim > 0, f"--dim {args.dim}: must be a positive number")
    policy = dict(
        oov=args.oov, case_insensitive=not args.case_sensitive, restrict=args.restrict,
        methods=("add", "mul") if args.method == "both" else (args.method,), eps=args.eps,
        ddof=args.weat_ddof, samples=args.weat_samples, exact_limit=args.weat_exact_limit, seed=args.seed,
    )
    chosen = any(x is not None for x in (args.similarity, args.analogies, args.weat, args.polysemy)) or args.antonyms
    if not chosen:
        plan = report.default_plan(**policy)
    else:
        plan = report.Plan(**policy)
        if args.similarity is not None:
            plan.similarity = args.similarity or datasets.bundled_similarity_files()
        if args.analogies is not None:
            plan.analogies = [args.analogies or datasets.ANALOGY_FILE]
        if args.weat is not None:
            plan.weat = [args.weat or datasets.WEAT_FILE]
        plan.antonyms = args.antonyms
        plan.polysemy = args.polysemy or []
    # read the benchmark files first: a malformed one fails before the vectors are loaded
    from firth.evaluate.datasets import read_analogies, read_pairs, read_weat

    for f in plan.similarity:
        read_pairs(f)
    for f in plan.analogies:
        read_analogies(f)
    for f in plan.weat:
        read_weat(f)
    kv = load_vectors(args.vectors, limit=args.limit)
    check_dim(kv, args.dim, args.vectors)
    res = report.run(kv, plan)
    res["meta"]["vectors"] = str(args.vectors)
    if args.plot:
        report.plot(res, args.plot, title=str(args.vectors))
    if args.json:
        sys.stdout.write(report.to_json(res) + "\n")
    else:
        print(report.table(res, str(args.vectors)))
        if args.plot:
            print(f"\nplot written to {args.plot}")
    return 0
