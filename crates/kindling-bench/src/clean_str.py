"""Python baseline for the tokenise-and-count benchmark: Kim's clean_str (process_data.py)
applied line by line, tokens counted with collections.Counter. Single-threaded, as is Python.

Usage: python3 clean_str.py FILE.gz REPS  -> prints one JSON object.
"""
import collections
import gzip
import json
import re
import sys
import time


def clean_str(string):
    string = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", string)
    string = re.sub(r"\'s", " \'s", string)
    string = re.sub(r"\'ve", " \'ve", string)
    string = re.sub(r"n\'t", " n\'t", string)
    string = re.sub(r"\'re", " \'re", string)
    string = re.sub(r"\'d", " \'d", string)
    string = re.sub(r"\'ll", " \'ll", string)
    string = re.sub(r",", " , ", string)
    string = re.sub(r"!", " ! ", string)
    string = re.sub(r"\(", " ( ", string)
    string = re.sub(r"\)", " ) ", string)
    string = re.sub(r"\?", " ? ", string)
    string = re.sub(r"\s{2,}", " ", string)
    return string.strip().lower()


def main():
    path, reps = sys.argv[1], int(sys.argv[2])
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    size = sum(len(line.encode("utf-8")) + 1 for line in lines)
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        counts = collections.Counter()
        for line in lines:
            counts.update(clean_str(line).split())
        times.append(time.perf_counter() - started)
    times.sort()
    print(json.dumps({
        "bytes": size,
        "median_seconds": times[len(times) // 2],
        "tokens": sum(counts.values()),
        "types": len(counts),
        "python": sys.version.split()[0],
    }))


main()
