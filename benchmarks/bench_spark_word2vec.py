"""Spark MLlib's Word2Vec (pyspark, local mode) on the corpus bench_distributed.py uses: time
and the same quality figures, for numPartitions 1, 2, 4, 8 (``local[P]``).

pyspark is an optional benchmark dependency, never a core one (Java 17 needed)::

    pip install --target /tmp/sparklib pyspark
    PYTHONPATH=/tmp/sparklib python benchmarks/bench_spark_word2vec.py --partitions 1,2,4,8

Settings matched to ``firth train`` defaults where Spark has them: vectorSize 100,
windowSize 5, minCount 5, maxIter (epochs) 5, stepSize 0.025, maxSentenceLength 1000, seed 1.
Spark trains skip-gram with hierarchical softmax (no negative sampling, no subsampling) and,
with numPartitions > 1, trains one copy of the model per partition and averages them after
every iteration. Time: the whole child process (JVM start, reading, vocabulary, training,
collecting the vectors), under the shared lock; the vectors are written as word2vec binary
and judged by quality_word2vec.evaluate (Google analogies restrict_vocab=30000, WS353).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_distributed import lock  # noqa: E402
from bench_word2vec import make_corpus  # noqa: E402
from quality_word2vec import evaluate  # noqa: E402

CHILD = r"""
import sys
import numpy as np
from pyspark.sql import SparkSession
from pyspark.ml.feature import Word2Vec
corpus, out, parts, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
spark = (SparkSession.builder.master(f"local[{parts}]").appName("w2v")
         .config("spark.driver.memory", "6g").config("spark.ui.enabled", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.text(corpus).selectExpr("split(value, ' ') as words").repartition(parts)
w2v = Word2Vec(vectorSize=100, windowSize=5, minCount=5, maxIter=epochs, stepSize=0.025, numPartitions=parts,
               maxSentenceLength=1000, seed=1, inputCol="words", outputCol="v")
model = w2v.fit(df)
rows = model.getVectors().collect()
spark.stop()
from gensim.models import KeyedVectors
kv = KeyedVectors(100)
kv.add_vectors([r.word for r in rows], np.array([r.vector.toArray() for r in rows], dtype=np.float32))
kv.save_word2vec_format(out, binary=True)
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=5_000_000)
    ap.add_argument("--partitions", default="1,2,4,8")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--no-lock", action="store_true")
    ap.add_argument("--log", default=None)
    ap.add_argument("--timeout", type=float, default=470, help="seconds per run (the shared lock is held meanwhile)")
    a = ap.parse_args(argv)
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SystemExit("pyspark is not installed: pip install --target DIR pyspark, then PYTHONPATH=DIR") from None
    corpus = make_corpus(a.words)
    tmp = Path(tempfile.mkdtemp(prefix="firth-bench-spark-"))
    for parts in (int(x) for x in a.partitions.split(",")):
        out = tmp / f"spark-{parts}.bin"
        with lock(not a.no_lock):
            t0 = time.perf_counter()
            try:
                p = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(out), str(parts), str(a.epochs)],
                                   env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True,
                                   timeout=a.timeout)
            except subprocess.TimeoutExpired:  # keep the shared lock bounded
                print(json.dumps({"tool": "spark-mllib", "partitions": parts, "wall_s": f"> {a.timeout}",
                                  "note": "stopped at --timeout"}), flush=True)
                continue
            wall = time.perf_counter() - t0
        if p.returncode:
            raise SystemExit(f"spark failed ({p.returncode}) at numPartitions {parts}:\n{p.stderr[-3000:]}")
        r = {"tool": "spark-mllib", "partitions": parts, "wall_s": round(wall, 2), "words": a.words, "epochs": a.epochs,
             "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        r.update(evaluate(out))
        print(json.dumps(r), flush=True)
        if a.log:
            with open(a.log, "a") as f:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
