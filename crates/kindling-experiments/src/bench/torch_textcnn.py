# Kim's CNN-rand trained in PyTorch on the batches kindling wrote, for a side-by-side timing.
# argv: batches-file epochs threads seed. Prints one JSON object.
#
# The batches file starts with "vocab classes dim maps widths(comma-separated)"; then each
# batch is a line "n len" followed by n lines "label id id ..." padded to len.
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

path, epochs, threads, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(seed)

with open(path) as f:
    vocab, classes, dim, maps, widths = f.readline().split()
    vocab, classes, dim, maps = int(vocab), int(classes), int(dim), int(maps)
    widths = [int(w) for w in widths.split(",")]
    batches = []
    while True:
        header = f.readline()
        if not header:
            break
        n, length = map(int, header.split())
        rows = [list(map(int, f.readline().split())) for _ in range(n)]
        labels = torch.tensor([r[0] for r in rows])
        tokens = torch.tensor([r[1:] for r in rows])
        assert tokens.shape == (n, length)
        batches.append((tokens, labels))


class KimCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        nn.init.uniform_(self.embedding.weight, -0.25, 0.25)
        self.convs = nn.ModuleList(nn.Conv1d(dim, maps, w) for w in widths)
        self.dropout = nn.Dropout(0.5)
        self.output = nn.Linear(maps * len(widths), classes)

    def forward(self, tokens):
        x = self.embedding(tokens).transpose(1, 2)  # [batch, dim, len]
        pooled = [F.relu(conv(x)).max(dim=2).values for conv in self.convs]
        return self.output(self.dropout(torch.cat(pooled, 1)))


model = KimCnn()
optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-6)
sentences = 0
start = time.perf_counter()
for _ in range(epochs):
    for tokens, labels in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(tokens), labels)
        loss.backward()
        optimizer.step()
        with torch.no_grad():  # Kim's max-norm on the output layer's weight vectors
            model.output.weight.data = torch.renorm(model.output.weight.data, 2, 0, 3.0)
        sentences += len(labels)
seconds = time.perf_counter() - start
print(
    json.dumps(
        {
            "seconds": seconds,
            "sentences": sentences,
            "final_loss": loss.item(),
            # VmHWM: ru_maxrss would carry the benchmark process's peak across fork and exec.
            "peak_rss_mb": next(
                int(line.split()[1]) / 1024
                for line in open("/proc/self/status")
                if line.startswith("VmHWM:")
            ),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        }
    )
)
