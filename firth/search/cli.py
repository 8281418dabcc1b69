"""``firth search index | query | evaluate | corpus`` and ``firth expand``.

Only argparse-level code here; the search modules are imported inside the handlers.
"""

from __future__ import annotations

from firth.cli import add_parser

VEC_HELP = "vectors file (any format firth reads); trained on `firth search corpus` output or on raw text"


def _bm25_args(p):
    p.add_argument("--k1", type=float, default=1.2, help="BM25 term-frequency saturation k1 (>= 0)")
    p.add_argument("--b", type=float, default=0.75, help="BM25 length normalisation b (0..1)")


def _expansion_args(p):
    p.add_argument("--expand", metavar="VECTORS", default=None, help="expand queries with the nearest terms in these vectors (Kuzi et al. 2016); " + VEC_HELP)
    p.add_argument("--rm3", action="store_true", help="expand by RM3 pseudo-relevance feedback; with --expand: the RM3 + embedding combination")
    p.add_argument("--terms", type=int, default=10, help="embedding expansion terms added to the query")
    p.add_argument("--weight", type=float, default=0.5, help="weight of the expansion terms against the original query (0 = no expansion, 1 = expansion only)")
    p.add_argument("--method", choices=["centroid", "combsum"], default="centroid", help="score candidates by similarity to the centroid of the query terms, or per query term fused by CombSUM")
    p.add_argument("--min-df", type=int, default=5, help="only terms in at least this many documents can be added (rare terms have unreliable vectors)")
    p.add_argument("--fb-docs", type=int, default=10, help="RM3: feedback documents from the first pass")
    p.add_argument("--fb-terms", type=int, default=10, help="RM3: feedback terms kept")
    p.add_argument("--mix", type=float, default=0.5, help="--rm3 with --expand: share of the embedding terms in the expansion model")
    p.add_argument("--vectors-analysed", choices=["auto", "yes", "no"], default="auto",
                   help="whether the vectors were trained on analysed (stemmed, stop-word-free) text; auto: yes if they have no stop words")


def register(sub) -> None:
    p = add_parser(sub, "search", "BM25 search with query expansion by embeddings or RM3, and IR evaluation")
    ss = p.add_subparsers(dest="search_command", metavar="SUBCOMMAND")
    ss.required = True

    q = add_parser(ss, "index", "build a BM25 index from documents, one JSON object {\"id\", \"title\", \"text\"} a line")
    q.add_argument("docs", help="documents (JSONL; .gz/.bz2/.xz read transparently)")
    q.add_argument("-o", "--output", required=True, help="index directory to write (atomically)")
    q.add_argument("--fields", default="title,text", help="comma-separated text fields indexed, joined in this order")
    q.add_argument("--stopwords", default="en", help="stop list: 'en' (bundled Snowball list), 'none', or a file of one word a line")
    q.add_argument("--no-stem", action="store_true", help="do not apply the Porter stemmer")
    q.add_argument("--min-len", type=int, default=1, help="drop tokens shorter than this")
    q.set_defaults(func=cmd_index)

    q = add_parser(ss, "query", "search an index and show the best documents")
    q.add_argument("index", help="index directory")
    q.add_argument("text", help="query text")
    _bm25_args(q)
    q.add_argument("--topk", type=int, default=10, help="documents to show")
    _expansion_args(q)
    q.set_defaults(func=cmd_query)

    q = add_parser(ss, "evaluate", "MAP, nDCG@10, P@10, recall@100 of a run against its BM25 baseline")
    q.add_argument("index", help="index directory")
    q.add_argument("queries", help="queries (JSONL {\"id\", \"text\"})")
    q.add_argument("qrels", help="relevance judgements: query<TAB>doc<TAB>relevance a line")
    _bm25_args(q)
    _expansion_args(q)
    q.add_argument("--tune", action="store_true", help="choose k1, b and the expansion parameters by 5-fold cross-validation over the queries")
    q.add_argument("--min-rel", type=int, default=1, help="a judged document is relevant when its code is >= this")
    q.add_argument("--seed", type=int, default=0, help="seed of the randomisation test and the fold split")
    q.add_argument("--permutations", type=int, default=10_000, help="randomisation test permutations")
    q.add_argument("--show", type=int, default=10, help="list this many of the queries the expansion hurt most")
    q.set_defaults(func=cmd_evaluate)

    q = add_parser(ss, "corpus", "write the analysed text of an indexed collection, one document a line (to train embeddings for expansion)")
    q.add_argument("index", help="index directory")
    q.add_argument("-o", "--output", required=True, help="text file to write (atomically)")
    q.set_defaults(func=cmd_corpus)

    p = add_parser(sub, "expand", "show the expansion terms embeddings give for a query, with their scores")
    p.add_argument("vectors", help=VEC_HELP)
    p.add_argument("text", help="query text")
    p.add_argument("--index", default=None, help="use this index's analysis and vocabulary (default: the bundled English stop list and Porter stemmer, any term)")
    p.add_argument("--terms", type=int, default=10, help="expansion terms to show")
    p.add_argument("--method", choices=["centroid", "combsum"], default="centroid", help="centroid of the query terms, or per-term CombSUM")
    p.add_argument("--min-df", type=int, default=5, help="with --index: only terms in at least this many documents")
    p.add_argument("--vectors-analysed", choices=["auto", "yes", "no"], default="auto", help="whether the vectors were trained on analysed text (auto: detect)")
    p.set_defaults(func=cmd_expand)


# ------------------------------------------------------------------ helpers
def _positive(name, value, zero_ok=False):
    from firth.errors import check

    check(value >= 0 if zero_ok else value > 0, f"--{name} {value}: must be {'>= 0' if zero_ok else 'positive'}")


def _analysed(flag):
    return {"auto": None, "yes": True, "no": False}[flag]


def _expander(index, vectors, min_df, analysed_flag):
    from firth.vectors import load_vectors
    from firth.search.expand import EmbeddingExpander

    kv = load_vectors(vectors)
    vocab = [t for t, df in zip(index.terms, index.df) if df >= min_df]
    return EmbeddingExpander(kv, index.analyzer, vocab, _analysed(analysed_flag))


def _config(args):
    from firth.errors import check
    from firth.search.retrieve import Config

    check(args.k1 >= 0, f"--k1 {args.k1}: must be >= 0")
    check(0 <= args.b <= 1, f"--b {args.b}: must be between 0 and 1")
    check(0 <= args.weight <= 1, f"--weight {args.weight}: must be between 0 and 1")
    check(0 <= args.mix <= 1, f"--mix {args.mix}: must be between 0 and 1")
    for name in ("terms", "fb_docs", "fb_terms", "min_df"):
        _positive(name.replace("_", "-"), getattr(args, name))
    expand = {(False, False): "none", (True, False): "emb", (False, True): "rm3", (True, True): "rm3+emb"}[
        (args.expand is not None, args.rm3)]
    return Config(k1=args.k1, b=args.b, expand=expand, terms=args.terms, weight=args.weight, method=args.method,
                  fb_docs=args.fb_docs, fb_terms=args.fb_terms, mix=args.mix)


def _retriever(args):
    from firth.search.index import Index
    from firth.search.retrieve import Retriever

    index = Index.load(args.index)
    exp = _expander(index, args.expand, args.min_df, args.vectors_analysed) if args.expand else None
    return Retriever(index, exp)


# ----------------------------------------------------------------- handlers
def cmd_index(args) -> int:
    import time

    from firth.errors import check
    from firth.search.analyze import Analyzer
    from firth.search.data import read_docs
    from firth.search.index import Index

    fields = tuple(f.strip() for f in args.fields.split(",") if f.strip())
    check(fields, f"--fields {args.fields!r}: name at least one field")
    _positive("min-len", args.min_len)
    analyzer = Analyzer(stopwords=None if args.stopwords == "none" else args.stopwords,
                        stemmer=None if args.no_stem else "porter", min_len=args.min_len)
    from firth.io import check_output

    check_output(args.output, "search-index", is_dir=True, option="-o", inputs=[args.docs])  # before the work
    t0 = time.perf_counter()
    index = Index.build(read_docs(args.docs, fields), analyzer)
    index.meta["fields"] = list(fields)
    index.save(args.output, inputs=[args.docs])
    print(f"indexed {index.n_docs} documents, {len(index.terms)} terms, {index.seq.size} tokens "
          f"in {time.perf_counter() - t0:.1f} s -> {args.output}")
    return 0


def cmd_query(args) -> int:
    _positive("topk", args.topk)
    cfg = _config(args)
    r = _retriever(args)
    docs, scores, model = r.search(args.text, cfg, args.topk)
    q = r.analyse(args.text)
    added = sorted(((w, t) for t, w in model.items() if t not in q), reverse=True)
    print(f"query terms: {' '.join(q)}")
    if added:
        shown = r.expander.display if r.expander else (lambda t: t)
        print("expansion: " + ", ".join(f"{shown(t)} {w:.3f}" for w, t in added))
    if len(docs) == 0:
        print("no document matches")
    for rank, (d, s) in enumerate(zip(docs, scores), 1):
        title = r.index.titles[d]
        print(f"{rank:>3}  {s:8.4f}  {r.index.doc_ids[d]}  {title[:80]}")
    return 0


def cmd_evaluate(args) -> int:
    from firth.search.data import read_qrels, read_queries
    from firth.search.evaluation import evaluate, other_reading

    _positive("permutations", args.permutations)
    _positive("show", args.show, zero_ok=True)
    cfg = _config(args)
    r = _retriever(args)
    queries = read_queries(args.queries)
    qrels = read_qrels(args.qrels, doc_ids=set(r.index.doc_ids), query_ids=set(queries))
    res = evaluate(r, queries, qrels, cfg, tune=args.tune, min_rel=args.min_rel, seed=args.seed,
                   permutations=args.permutations, show=args.show)
    for line in res.lines:
        print(line)
    if not args.tune:
        other = other_reading(r, queries, qrels, cfg, args.min_rel)
        if other:
            print(f"(MAP {other[1]:.4f} when every judged line counts as relevant, codes >= {other[0]})")
    return 0


def cmd_corpus(args) -> int:
    from firth.io import atomic_write
    from firth.search.index import Index

    index = Index.load(args.index)
    terms = index.terms
    with atomic_write(args.output, "w", inputs=[args.index]) as f:
        for d in range(index.n_docs):
            lo, hi = index.seq_ptr[d], index.seq_ptr[d + 1]
            if hi > lo:
                f.write(" ".join(terms[i] for i in index.seq[lo:hi]))
                f.write("\n")
    print(f"wrote {index.n_docs} documents, {index.seq.size} analysed tokens -> {args.output}")
    return 0


def cmd_expand(args) -> int:
    from firth.vectors import load_vectors
    from firth.errors import FirthError
    from firth.search.analyze import Analyzer
    from firth.search.expand import EmbeddingExpander

    _positive("terms", args.terms)
    if args.index:
        from firth.search.index import Index

        index = Index.load(args.index)
        analyzer = index.analyzer
        vocab = [t for t, df in zip(index.terms, index.df) if df >= args.min_df]
    else:
        analyzer, vocab = Analyzer(), None
    q = analyzer(args.text)
    if not q:
        raise FirthError(f"query {args.text!r}: no search terms left after analysis (empty, or only stop words)")
    exp = EmbeddingExpander(load_vectors(args.vectors), analyzer, vocab, _analysed(args.vectors_analysed))
    known = [t for t in q if t in exp]
    unknown = [t for t in q if t not in exp]
    print(f"query terms: {' '.join(exp.display(t) for t in q)}"
          + (f"   (not in the vectors: {' '.join(unknown)})" if unknown else ""))
    if not known:
        raise FirthError(f"query {args.text!r}: none of its terms ({' '.join(q)}) is in the vectors; nothing to expand")
    for t, s in exp.expand(q, args.terms, args.method):
        print(f"  {s:.4f}  {exp.display(t)}")
    return 0
