"""Celery doing the fleet work bench/PoolBench.cs does: a worker with 2 processes behind a broker (Redis or
RabbitMQ) with a Redis result backend, and a client that sends trivial tasks and waits for every result. Run by the
bench with Debian's python3."""
import os
import statistics
import sys
import time

from celery import Celery

app = Celery("celery_bench", broker=os.environ["BENCH_BROKER"], backend=os.environ["BENCH_BACKEND"])


@app.task
def square(x):
    return x * x


if __name__ == "__main__":
    repeats, n = int(sys.argv[1]), int(sys.argv[2])
    for r in [square.delay(i) for i in range(1000)]:  # the worker is up and warm
        r.get(timeout=120)

    def rate():
        began = time.perf_counter()
        results = [square.delay(i) for i in range(n)]
        for r in results:
            r.get(timeout=120)
        return n / (time.perf_counter() - began)

    print("celery", statistics.median(rate() for _ in range(repeats)))
