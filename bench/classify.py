"""Benchmark complaint classification: 10,000 single-text predictions with the seed model.

Run from the project root: `.venv/bin/python bench/classify.py`. The model is fitted on the
shipped seed first (no cross-validation; a few seconds), then every prediction is one call to
``Predictor.predict`` on one real complaint text, as a service task makes it. The last line is
JSON: {"ms_per_text": ..., "texts_per_s": ..., "rss_mb": ...}. Goal: under 5 ms per text.
"""
from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import json
import os
import resource
import statistics
import time
from pathlib import Path


from app.classification.dataset import load_dataset  # noqa: E402
from app.classification.predictor import Predictor  # noqa: E402
from app.classification.training import TrainingConfig, fit_bundle  # noqa: E402

SEED = Path(__file__).resolve().parents[1] / "app" / "classification" / "data" / "complaints_zh_seed.csv"
PREDICTIONS = 10_000
WARM_UP = 200


def rss_mb() -> float:
    """Return the resident set size of this process now, in MB (peak if /proc is unavailable)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def main() -> None:
    """Fit the seed model, time PREDICTIONS predictions and print the figures."""
    texts = load_dataset(SEED).texts
    predictor = Predictor(fit_bundle(load_dataset(SEED), TrainingConfig()))
    for text in texts[:WARM_UP]:
        predictor.predict(text)
    samples = []
    started = time.perf_counter()
    for i in range(PREDICTIONS):
        text = texts[i % len(texts)]
        before = time.perf_counter_ns()
        predictor.predict(text, chosen_category="product.quality")
        samples.append(time.perf_counter_ns() - before)
    elapsed = time.perf_counter() - started
    samples.sort()
    print(f"{PREDICTIONS} predictions in {elapsed:.2f} s (compiled scorer: {predictor.is_compiled}); "
          f"median {statistics.median(samples) / 1e6:.3f} ms, p99 {samples[int(len(samples) * 0.99)] / 1e6:.3f} ms")
    print(json.dumps({"ms_per_text": round(elapsed * 1000 / PREDICTIONS, 3),
                      "texts_per_s": round(PREDICTIONS / elapsed, 1), "rss_mb": round(rss_mb(), 1)}))


if __name__ == "__main__":
    main()
