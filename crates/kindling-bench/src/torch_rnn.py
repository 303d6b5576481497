# The PyTorch side of `cargo xtask bench rnn`: the same two models, batches and optimisers as
# kindling's side, written the way a competent PyTorch user would (packed sequences for the
# classifier, nn.LSTM's fused CPU kernel for both), timed over the training loop only.
#
# Both models start from kindling's initial weights (START.json names and shapes, START.f32
# the values), so the two tools differ only in arithmetic and dropout draws.
#
# usage (the runner puts torch_common.py in front of this file):
#   python -c "$(cat torch_common.py torch_rnn.py)" classifier|lm FILE EPOCHS THREADS SEED START
# prints one JSON object.
import json
import math
import sys
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

mode, path, epochs, threads, seed = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
start_weights = sys.argv[6]
torch.set_num_threads(threads)
torch.manual_seed(seed)


class BiLstmMax(nn.Module):
    """Embedding -> BiLSTM -> max over real steps -> dropout -> linear."""

    def __init__(self, vocab, classes, dim, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.5)
        self.output = nn.Linear(2 * hidden, classes)

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(
            self.embedding(ids), lengths, batch_first=True, enforce_sorted=False
        )
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, padding_value=float("-inf"))
        return self.output(self.dropout(out.max(dim=1).values))


def as_batch(labels, ids):
    lengths = torch.tensor([len(s) for s in ids])
    padded = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
    for row, sentence in enumerate(ids):
        padded[row, : len(sentence)] = torch.tensor(sentence)
    return padded, lengths, torch.tensor(labels)


def classifier():
    lines = iter(open(path))
    vocab, classes, dim, hidden, planned_epochs = map(int, next(lines).split())
    plans, dev, test = read_plans(lines, planned_epochs, epochs, as_batch)
    model = BiLstmMax(vocab, classes, dim, hidden)
    load_start(model, start_weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    tokens = 0
    start = time.perf_counter()
    for epoch in range(epochs):
        for padded, lengths, labels in plans[epoch]:
            optimizer.zero_grad()
            loss_fn(model(padded, lengths), labels).backward()
            optimizer.step()
            tokens += int(lengths.sum())
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "tokens": tokens,
        "dev_accuracy": accuracy(model, as_batch, *dev),
        "test_accuracy": accuracy(model, as_batch, *test),
    }


class LanguageModel(nn.Module):
    """Embedding -> 2-layer LSTM -> linear, dropout on embeddings, between layers, outputs."""

    def __init__(self, vocab, dim, hidden, layers, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.embedding = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, layers, dropout=dropout, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, ids, state):
        out, state = self.lstm(self.dropout(self.embedding(ids)), state)
        return self.decoder(self.dropout(out)).reshape(-1, self.decoder.out_features), state


def windows(stream, rows, bptt):
    """The stream cut as kindling cuts it: `rows` contiguous rows, windows of `bptt` steps."""
    per_row = len(stream) // rows
    data = torch.tensor(stream[: rows * per_row]).view(rows, per_row)
    cuts = []
    for s in range(0, per_row - 1, bptt):
        steps = min(bptt, per_row - 1 - s)
        cuts.append((data[:, s : s + steps], data[:, s + 1 : s + 1 + steps]))
    return cuts


def perplexity(model, stream, rows, bptt):
    model.eval()
    nll, count, state = 0.0, 0, None
    with torch.no_grad():
        for inputs, targets in windows(stream, rows, bptt):
            logits, state = model(inputs, state)
            nll += float(nn.functional.cross_entropy(logits, targets.reshape(-1), reduction="sum"))
            count += targets.numel()
    model.train()
    return math.exp(nll / count)


def language_model():
    lines = iter(open(path))
    vocab, dim, hidden, layers, rows, bptt, eval_rows = map(int, next(lines).split())
    lr, clip, dropout = map(float, next(lines).split())
    train, dev, test = ([int(t) for t in next(lines).split()] for _ in range(3))
    model = LanguageModel(vocab, dim, hidden, layers, dropout)
    load_start(model, start_weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    batches = windows(train, rows, bptt)
    tokens = 0
    start = time.perf_counter()
    for _ in range(epochs):
        state = None
        for inputs, targets in batches:
            if state is not None:
                state = tuple(s.detach() for s in state)
            optimizer.zero_grad()
            logits, state = model(inputs, state)
            loss_fn(logits, targets.reshape(-1)).backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            tokens += targets.numel()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "tokens": tokens,
        "dev_perplexity": perplexity(model, dev, eval_rows, bptt),
        "test_perplexity": perplexity(model, test, eval_rows, bptt),
    }


result = classifier() if mode == "classifier" else language_model()
result["torch"] = torch.__version__
result["peak_rss_mb"] = peak_rss_mb()
print(json.dumps(result))
