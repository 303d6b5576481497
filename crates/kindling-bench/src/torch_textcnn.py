# Kim's CNN-rand in PyTorch, computing the function kindling's TextCnn computes, trained on the
# batches kindling's trainer plans, from kindling's initial weights, for a side-by-side timing.
#
# usage (the runner puts torch_common.py in front of this file):
#   python -c "$(cat torch_common.py torch_textcnn.py)" BATCHES EPOCHS THREADS SEED START
# prints one JSON object.
#
# BATCHES starts with "vocab classes dim maps widths(comma-separated) pad edge min_len epochs";
# then for each epoch its number of batches and each batch as a count followed by one
# "label id id ..." line per sentence; then the dev and the test sentences, each after its
# count. START.json / START.f32 hold the initial weights (names, shapes, little-endian f32).
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

path, epochs, threads, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
start = sys.argv[5]
torch.set_num_threads(threads)
torch.manual_seed(seed)


def as_batch(labels, ids):
    """Padded to the longest sentence, at least min_len, with the padding id (as kindling)."""
    lengths = torch.tensor([len(s) for s in ids])
    padded = torch.full((len(ids), max(int(lengths.max()), min_len)), pad, dtype=torch.long)
    for row, sentence in enumerate(ids):
        padded[row, : len(sentence)] = torch.tensor(sentence, dtype=torch.long)
    return padded, lengths, torch.tensor(labels)


lines = iter(open(path))
fields = next(lines).split()
vocab, classes, dim, maps = map(int, fields[:4])
widths = [int(w) for w in fields[4].split(",")]
pad, edge, min_len, planned_epochs = map(int, fields[5:9])
plans, dev, test = read_plans(lines, planned_epochs, epochs, as_batch)


class KimCnn(nn.Module):
    """Embedding (zero, frozen padding row) -> `edge` zero vectors on each side -> one Conv1d
    per width -> max over the windows that end within a sentence's edge padding -> ReLU ->
    dropout -> linear."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim, padding_idx=pad)
        self.convs = nn.ModuleList(nn.Conv1d(dim, maps, w) for w in widths)
        self.dropout = nn.Dropout(0.5)
        self.output = nn.Linear(maps * len(widths), classes)

    def forward(self, tokens, lengths):
        x = F.pad(self.embedding(tokens).transpose(1, 2), (edge, edge))  # [batch, dim, len + 2e]
        pooled = []
        for width, conv in zip(widths, self.convs):
            windows = conv(x)  # [batch, maps, len + 2e - width + 1]
            # Window t covers padded positions t .. t + width - 1; past the sentence's own edge
            # padding it would see batch padding, which kindling never convolves.
            last = (lengths + 2 * edge - width).unsqueeze(1)
            valid = torch.arange(windows.shape[2]).unsqueeze(0) <= last
            windows = windows.masked_fill(~valid.unsqueeze(1), float("-inf"))
            pooled.append(F.relu(windows.max(dim=2).values))
        return self.output(self.dropout(torch.cat(pooled, 1)))


def zero_padding_row(model):
    with torch.no_grad():
        model.embedding.weight[pad].zero_()


model = KimCnn()
load_start(model, start)
zero_padding_row(model)
optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-6)
sentences = 0
begin = time.perf_counter()
for epoch in range(epochs):
    for tokens, lengths, labels in plans[epoch]:
        optimizer.zero_grad()
        F.cross_entropy(model(tokens, lengths), labels).backward()
        optimizer.step()
        with torch.no_grad():  # Kim's max-norm on the output layer's weight vectors
            model.output.weight.copy_(torch.renorm(model.output.weight, 2, 0, 3.0))
        sentences += len(labels)
seconds = time.perf_counter() - begin
print(
    json.dumps(
        {
            "seconds": seconds,
            "sentences": sentences,
            "dev_accuracy": accuracy(model, as_batch, *dev),
            "test_accuracy": accuracy(model, as_batch, *test),
            "peak_rss_mb": peak_rss_mb(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        }
    )
)
