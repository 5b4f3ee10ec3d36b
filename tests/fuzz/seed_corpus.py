"""Shared by the *_seeds.py scripts: writes a fuzzer's seed corpus."""
import os


def write_corpus(name, seeds):
    """Writes each seed of `seeds` (file name -> bytes) to
    tests/fuzz/corpus/<name>/ and says how many."""
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', name)
    os.makedirs(out, exist_ok=True)
    for seed, data in seeds.items():
        with open(os.path.join(out, seed), 'wb') as f:
            f.write(data)
    print(f'wrote {len(seeds)} seeds to {out}')
