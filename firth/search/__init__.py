"""Search: BM25 over a NumPy CSR inverted index, query expansion with word embeddings
(Kuzi, Shtok & Kurland 2016) and RM3, and IR evaluation.

Modules, one concern each:

* ``porter``     the Porter stemmer (checked against snowballstemmer's "porter")
* ``analyze``    Analyzer: tokenise, stop words (firth/data/stopwords_en.txt), stem
* ``data``       reading documents/queries (JSONL) and qrels (TSV), errors by line
* ``index``      Index: build, save/load (JSON + .npy), BM25 scores and top-k
* ``expand``     EmbeddingExpander (centroid / CombSUM) and query-model interpolation
* ``rm3``        RM1 relevance model of the first-pass documents
* ``retrieve``   Config + Retriever: query text -> query model -> ranking (none/emb/rm3/rm3+emb)
* ``metrics``    AP, nDCG@10, P@10, recall@100 per query
* ``stats``      paired randomisation test and t-test
* ``tune``       5-fold cross-validated parameter choice over the queries
* ``evaluation`` the report `firth search evaluate` prints
* ``cli``        `firth search index|query|evaluate|corpus`, `firth expand`

Typical use, with embeddings trained on the collection's own analysed text::

    firth search index docs.jsonl -o idx/
    firth search corpus idx/ -o coll.txt
    firth train coll.txt -o coll.fv --model cbow --epochs 50 --min-count 3
    firth search evaluate idx/ queries.jsonl qrels.tsv --expand coll.fv --tune
"""
