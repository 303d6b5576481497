"""gensim baseline for the embedding training benchmark: trains Word2Vec on a file of
whitespace-separated tokens (one sentence per line) and writes the vectors as word2vec text.

Usage: python gensim_train.py TOKENS ARCH OUT.vec THREADS DIM WINDOW NEGATIVE EPOCHS MIN_COUNT SAMPLE INPUT
       ARCH is skip-gram or cbow; INPUT is `iterable` (a LineSentence stream, read by one Python
       thread that feeds the workers) or `corpus_file` (each worker reads its own part of the
       file in C: gensim's documented fast path) -> prints one JSON object.
"""
import json
import sys
import time

import gensim
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence


def main():
    tokens, arch, out = sys.argv[1:4]
    threads, dim, window, negative, epochs, min_count = map(int, sys.argv[4:10])
    sample = float(sys.argv[10])
    mode = sys.argv[11]
    sg = {"skip-gram": 1, "cbow": 0}[arch]
    model = Word2Vec(
        vector_size=dim, window=window, negative=negative, hs=0, sg=sg, min_count=min_count,
        sample=sample, workers=threads, seed=1, alpha=0.025 if sg else 0.05,
    )
    started = time.perf_counter()
    if mode == "corpus_file":
        model.build_vocab(corpus_file=tokens)
        vocab_seconds = time.perf_counter() - started
        started = time.perf_counter()
        model.train(
            corpus_file=tokens, total_words=model.corpus_total_words, epochs=epochs,
        )
    else:
        sentences = LineSentence(tokens)
        model.build_vocab(corpus_iterable=sentences)
        vocab_seconds = time.perf_counter() - started
        started = time.perf_counter()
        model.train(
            corpus_iterable=sentences, total_examples=model.corpus_count, epochs=epochs,
        )
    train_seconds = time.perf_counter() - started
    model.wv.save_word2vec_format(out, binary=False)
    print(json.dumps({
        "gensim": gensim.__version__,
        "raw_words": model.corpus_total_words,
        "vocab_seconds": vocab_seconds,
        "train_seconds": train_seconds,
        "vocabulary": len(model.wv),
    }))


main()
