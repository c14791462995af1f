"""Python's multiprocessing.Pool(2) doing the work bench/PoolBench.cs does, printed as 'case value' lines."""
import multiprocessing as mp
import statistics
import sys
import time

from local import percentiles, timed


def square(x):
    return x * x


def apply_rate(pool, n):
    began = time.perf_counter()
    results = [pool.apply_async(square, (i,)) for i in range(n)]
    for r in results:
        r.get()
    return n / (time.perf_counter() - began)


def map_rate(pool, n, chunksize):
    began = time.perf_counter()
    pool.map(square, range(n), chunksize)
    return n / (time.perf_counter() - began)


if __name__ == "__main__":
    repeats, n = int(sys.argv[1]), int(sys.argv[2])
    with mp.Pool(2) as pool:
        pool.map(square, range(10))  # workers up before timing
        median = lambda f: (f(), statistics.median(f() for _ in range(repeats)))[1]  # each case once untimed, as in C#
        print("apply", median(lambda: apply_rate(pool, n)))
        print("map1", median(lambda: map_rate(pool, n, 1)))
        print("map", median(lambda: map_rate(pool, n, None)))
        percentiles("apply", timed(n // 4, lambda: pool.apply(square, (1,))))
