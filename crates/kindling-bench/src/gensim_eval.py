"""gensim baseline for the word-vector evaluation benchmark: loads GloVe-format vectors and
times KeyedVectors.evaluate_word_analogies and evaluate_word_pairs with their defaults.

Usage: python gensim_eval.py VECTORS.txt.gz QUESTIONS WORDSIM  -> prints one JSON object.
"""
import json
import sys
import time

import gensim
from gensim.models import KeyedVectors


def main():
    vectors, questions, wordsim = sys.argv[1:4]
    started = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(vectors, binary=False, no_header=True)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    total, sections = kv.evaluate_word_analogies(questions)
    analogy_seconds = time.perf_counter() - started
    asked = sum(len(s["correct"]) + len(s["incorrect"]) for s in sections if s["section"] == "Total accuracy")
    pearson, spearman, oov = kv.evaluate_word_pairs(wordsim)
    print(json.dumps({
        "gensim": gensim.__version__,
        "load_seconds": load_seconds,
        "analogy_seconds": analogy_seconds,
        "analogy_total": total,
        "analogy_questions": asked,
        "wordsim353_spearman": float(spearman[0]),
        "wordsim353_oov_percent": float(oov),
    }))


main()
