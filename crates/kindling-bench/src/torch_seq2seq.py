# The PyTorch side of `cargo xtask bench seq2seq`: the same attention encoder-decoder as
# kindling's (bidirectional GRU encoder over packed sequences, GRU decoder with additive
# attention, dropout on word vectors and before the output layer), the same batches, the same
# beam search rule; timed over the training loop and over the search only.
#
# usage (the runner puts torch_common.py in front of this file):
#   python -c "$(cat torch_common.py torch_seq2seq.py)" train|decode FILE SEED WEIGHTS
# WEIGHTS names kindling's weights (WEIGHTS.json, WEIGHTS.f32); prints one JSON object.
import json
import math
import sys
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

mode, path, seed, weights = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
torch.manual_seed(seed)


class Seq2Seq(nn.Module):
    """Source vectors -> bidirectional GRU -> tanh bridge to the decoder's first state; each
    step attends with the previous state (v' tanh(W s + U h), padding excluded), feeds
    [e; c] to a GRU cell and reads out [s; c; e]."""

    def __init__(self, src_vocab, tgt_vocab, emb, enc, dec, att, dropout):
        super().__init__()
        self.source_embedding = nn.Embedding(src_vocab, emb)
        self.target_embedding = nn.Embedding(tgt_vocab, emb)
        self.encoder = nn.GRU(emb, enc, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * enc, dec)
        self.cell = nn.GRUCell(emb + 2 * enc, dec)
        self.query = nn.Linear(dec, att, bias=False)
        self.key = nn.Linear(2 * enc, att)
        self.score = nn.Linear(att, 1, bias=False)
        self.output = nn.Linear(dec + 2 * enc + emb, tgt_vocab)
        self.dropout = nn.Dropout(dropout)

    def encode(self, source, lengths):
        embedded = self.dropout(self.source_embedding(source))
        packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        states, last = self.encoder(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=source.size(1))
        padding = torch.arange(source.size(1))[None, :] >= lengths[:, None]
        hidden = torch.tanh(self.bridge(torch.cat([last[0], last[1]], 1)))
        return states, self.key(states), padding, hidden

    def step(self, states, keys, padding, hidden, embedded):
        energy = torch.tanh(keys + self.query(hidden).unsqueeze(1))
        scores = self.score(energy).squeeze(2).masked_fill(padding, float("-inf"))
        context = torch.bmm(torch.softmax(scores, 1).unsqueeze(1), states).squeeze(1)
        hidden = self.cell(torch.cat([embedded, context], 1), hidden)
        return torch.cat([hidden, context, embedded], 1), hidden

    def forward(self, source, lengths, decoder_input, real):
        """Scores of the real decoder outputs (`real`: [batch, steps] mask), teacher forced."""
        states, keys, padding, hidden = self.encode(source, lengths)
        gold = self.dropout(self.target_embedding(decoder_input))
        readouts = []
        for t in range(decoder_input.size(1)):
            readout, hidden = self.step(states, keys, padding, hidden, gold[:, t])
            readouts.append(readout)
        readouts = torch.stack(readouts, 1)[real]
        return self.output(self.dropout(readouts))


def ids(text):
    return [int(t) for t in text.split()]


def padded(rows, pad):
    lengths = torch.tensor([len(r) for r in rows])
    out = torch.full((len(rows), int(lengths.max())), pad, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return out, lengths


def pair_batch(lines, n, pad, bos, eos):
    """`n` lines of `source ids | target ids` as (source, lengths, decoder input, real-output
    mask, gold outputs)."""
    sources, targets = [], []
    for _ in range(n):
        source, target = next(lines).split("|")
        sources.append(ids(source))
        targets.append(ids(target))
    source, lengths = padded(sources, pad)
    decoder_input, steps = padded([[bos] + t for t in targets], pad)
    real = torch.arange(decoder_input.size(1))[None, :] < steps[:, None]
    gold = torch.tensor([tok for t in targets for tok in t + [eos]])
    return source, lengths, decoder_input, real, gold


def read_header(lines):
    src, tgt, emb, enc, dec, att, dropout, pad, bos, eos, threads = next(lines).split()
    torch.set_num_threads(int(threads))
    model = Seq2Seq(*map(int, (src, tgt, emb, enc, dec, att)), float(dropout))
    load_start(model, weights)
    return model, int(pad), int(bos), int(eos)


def train():
    lines = iter(open(path))
    model, pad, bos, eos = read_header(lines)
    batches = [pair_batch(lines, int(next(lines)), pad, bos, eos) for _ in range(int(next(lines)))]
    dev_count = int(next(lines))
    dev = [pair_batch(lines, min(256, dev_count - i), pad, bos, eos) for i in range(0, dev_count, 256)]
    start_dev_perplexity = perplexity(model, dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    pairs = 0
    start = time.perf_counter()
    for source, lengths, decoder_input, real, gold in batches:
        optimizer.zero_grad()
        loss_fn(model(source, lengths, decoder_input, real), gold).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        pairs += len(lengths)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "pairs": pairs,
        "start_dev_perplexity": start_dev_perplexity,
        "dev_perplexity": perplexity(model, dev),
    }


def perplexity(model, batches):
    """Per target token (</s> included), dropout off; the model is back in training mode
    afterwards."""
    model.eval()
    nll, count = 0.0, 0
    with torch.no_grad():
        for source, lengths, decoder_input, real, gold in batches:
            scores = model(source, lengths, decoder_input, real)
            nll += float(nn.functional.cross_entropy(scores, gold, reduction="sum"))
            count += gold.numel()
    model.train()
    return math.exp(nll / count)


def beam_search(model, source, lengths, bos, eos, width, max_len_a, max_len_b, alpha):
    """kindling's rule: per source, the 2k best continuations of its live beams, best first
    (ties: earlier beam, lower token); those ending (</s> or the length limit) are finished
    with log-probability / length^alpha, the others stay live until `width` are kept; a source
    stops at its limit, or once it has `width` finished outputs and the best of them scores at
    least the best live output would if it ended at its present length. Returns each source's
    best tokens."""
    batch = len(lengths)
    states, keys, padding, hidden = model.encode(source, lengths)
    limits = [max(int(max_len_a * int(n)) + max_len_b, 1) for n in lengths]
    beams = [[([], 0.0, b)] for b in range(batch)]  # (tokens, log-probability, row)
    finished = [[] for _ in range(batch)]
    memory_rows = torch.arange(batch)
    previous = torch.full((batch,), bos, dtype=torch.long)
    t = 0
    while any(beams):
        rows = memory_rows
        readout, hidden = model.step(
            states[rows], keys[rows], padding[rows], hidden, model.target_embedding(previous)
        )
        log_probs = torch.log_softmax(model.output(readout), 1)
        top_values, top_tokens = log_probs.topk(min(2 * width, log_probs.size(1)), 1)
        top_values, top_tokens = top_values.tolist(), top_tokens.tolist()
        next_rows, next_memory, next_previous = [], [], []
        for b in range(batch):
            if not beams[b]:
                continue
            candidates = []
            for i, (tokens, logp, row) in enumerate(beams[b]):
                for value, token in zip(top_values[row], top_tokens[row]):
                    candidates.append((logp + value, i, token))
            candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
            last_step = t + 1 >= limits[b]
            kept = []
            for logp, i, token in candidates:
                if len(kept) == width:
                    break
                tokens, _, row = beams[b][i]
                if token == eos or last_step:
                    out = tokens if token == eos else tokens + [token]
                    length = len(out) + (token == eos)
                    finished[b].append((logp / max(length, 1) ** alpha, out))
                else:
                    kept.append((tokens + [token], logp, row))
            beams[b] = []
            best_finished = max((score for score, _ in finished[b]), default=-math.inf)
            best_live = kept[0][1] / max(len(kept[0][0]), 1) ** alpha if kept else -math.inf
            if last_step or (len(finished[b]) >= width and best_finished >= best_live):
                continue
            for tokens, logp, row in kept:
                beams[b].append((tokens, logp, len(next_rows)))
                next_rows.append(row)
                next_memory.append(b)
                next_previous.append(tokens[-1])
        if not next_rows:
            break
        hidden = hidden[torch.tensor(next_rows)]
        memory_rows = torch.tensor(next_memory)
        previous = torch.tensor(next_previous)
        t += 1
    best = []
    for outputs in finished:
        outputs.sort(key=lambda o: -o[0])
        best.append(outputs[0][1] if outputs else [])
    return best


def decode():
    lines = iter(open(path))
    model, pad, bos, eos = read_header(lines)
    width, max_len_a, max_len_b, alpha = next(lines).split()
    width, max_len_a, max_len_b, alpha = int(width), float(max_len_a), int(max_len_b), float(alpha)
    batches = []
    for _ in range(int(next(lines))):
        batches.append(padded([ids(next(lines)) for _ in range(int(next(lines)))], pad))
    model.eval()
    outputs = []
    start = time.perf_counter()
    with torch.no_grad():
        for source, lengths in batches:
            outputs.extend(
                beam_search(model, source, lengths, bos, eos, width, max_len_a, max_len_b, alpha)
            )
    return {"seconds": time.perf_counter() - start, "outputs": outputs}


result = train() if mode == "train" else decode()
result["torch"] = torch.__version__
result["peak_rss_mb"] = peak_rss_mb()
print(json.dumps(result))
