# Helpers shared by the PyTorch sides of the benchmarks; the runner puts this file in front of
# each benchmark's script.
import array
import json
import math
import sys

import torch


def peak_rss_mb():
    """This process's peak resident memory, MB. VmHWM, not getrusage's ru_maxrss: Linux
    carries the parent's peak across fork and exec, so ru_maxrss would report the benchmark
    process's memory when that is larger."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def load_start(model, start):
    """Copies kindling's starting weights (START.json: names, shapes and offsets; START.f32:
    little-endian values) into `model`; every parameter must be given, once."""
    with open(start + ".json") as f:
        manifest = json.load(f)
    values = array.array("f")
    with open(start + ".f32", "rb") as f:
        values.frombytes(f.read())
    if sys.byteorder != "little":
        values.byteswap()
    params = model.state_dict()
    given = {entry["name"] for entry in manifest}
    if given != set(params) or len(given) != len(manifest):
        raise SystemExit(f"starting weights {sorted(given)} do not match the model's {sorted(params)}")
    flat = torch.frombuffer(values, dtype=torch.float32)
    with torch.no_grad():
        for entry in manifest:
            n = math.prod(entry["shape"])
            params[entry["name"]].copy_(flat[entry["offset"] : entry["offset"] + n].view(entry["shape"]))


def read_sentences(lines, n):
    """`n` lines of `label id id ...` from the iterator `lines`: the labels and the id lists."""
    labels, ids = [], []
    for _ in range(n):
        parts = next(lines).split()
        labels.append(int(parts[0]))
        ids.append([int(t) for t in parts[1:]])
    return labels, ids


def accuracy(model, as_batch, labels, ids):
    """The share of `ids` (sentences) that `model` labels as `labels`, in batches of 100 built
    by `as_batch(labels, ids) -> (padded, lengths, gold)`; the model is back in training mode
    afterwards."""
    model.eval()
    right = 0
    with torch.no_grad():
        for first in range(0, len(ids), 100):
            padded, lengths, gold = as_batch(labels[first : first + 100], ids[first : first + 100])
            right += int((model(padded, lengths).argmax(1) == gold).sum())
    model.train()
    return right / len(ids)


def read_plans(lines, planned_epochs, epochs, as_batch):
    """The rest of a batches file (see `bench::sst2::batches_text`) after its header line:
    each of the `planned_epochs` epochs' batches built by `as_batch(labels, ids)`, then the dev
    and the test sentences as (labels, ids). Training may use at most the planned epochs."""
    assert planned_epochs >= epochs, f"{epochs} epochs asked, {planned_epochs} planned"
    plans = []
    for _ in range(planned_epochs):
        n_batches = int(next(lines))
        plans.append([as_batch(*read_sentences(lines, int(next(lines)))) for _ in range(n_batches)])
    dev = read_sentences(lines, int(next(lines)))
    test = read_sentences(lines, int(next(lines)))
    return plans, dev, test
