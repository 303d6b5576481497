"""Prints sacreBLEU's default corpus BLEU and chrF for every case of scoring_cases.json.

The numbers are pasted into tests/sacrebleu.rs. Run with sacrebleu 2.5.1:

    python -m pip install sacrebleu==2.5.1
    python crates/kindling-seq2seq/tests/data/sacrebleu_scores.py
"""

import json
import pathlib

import sacrebleu

cases = json.loads((pathlib.Path(__file__).parent / "scoring_cases.json").read_text())
for case in cases:
    hyps, refs = case["hypotheses"], case["references"]
    bleu = sacrebleu.corpus_bleu(hyps, [refs])
    chrf = sacrebleu.corpus_chrf(hyps, [refs])
    print(f'("{case["name"]}", {bleu.score!r}, {chrf.score!r}),  # {bleu}')
print("sacrebleu", sacrebleu.__version__)
