"""Python's multiprocessing doing the work bench/LocalBench.cs does, printed as 'case value' lines. As there, the
queues carry their items twice and the second pass is timed."""
import multiprocessing as mp
import statistics
import sys
import time


def consume(queue, items, done):
    for finished_pass in ("warm", "timed"):
        for _ in range(items):
            queue.get()
        done.put(finished_pass)


def consume_joinable(queue, ready):
    ready.put("ready")
    while True:
        queue.get()
        queue.task_done()


def increment(value, cycles, ready, go):
    ready.put(1)
    go.wait()
    for _ in range(cycles):
        with value.get_lock():
            value.value += 1


def nothing():
    pass


def put_all(queue, items):
    for i in range(items):
        queue.put(i)


def put_rate(queue, items, finished):
    """Items per second of the second pass, from its first put until finished() says the consumer has them all."""
    put_all(queue, items)
    finished()
    began = time.perf_counter()
    put_all(queue, items)
    finished()
    return items / (time.perf_counter() - began)


def queue_rate(items):
    queue, done = mp.Queue(), mp.Queue()
    consumer = mp.Process(target=consume, args=(queue, items, done))
    consumer.start()
    rate = put_rate(queue, items, done.get)
    consumer.join()
    return rate


def joinable_rate(items):
    queue, ready = mp.JoinableQueue(), mp.Queue()
    consumer = mp.Process(target=consume_joinable, args=(queue, ready), daemon=True)
    consumer.start()
    ready.get()
    rate = put_rate(queue, items, queue.join)
    consumer.terminate()
    consumer.join()
    return rate


def lock_rate(processes, cycles):
    value, ready, go = mp.Value("i", 0), mp.Queue(), mp.Event()
    workers = [mp.Process(target=increment, args=(value, cycles, ready, go)) for _ in range(processes)]
    for w in workers:
        w.start()
    for _ in workers:
        ready.get()
    began = time.perf_counter()
    go.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    assert value.value == processes * cycles
    return processes * cycles / elapsed


def start_join_ms(method, runs):
    context = mp.get_context(method)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        p = context.Process(target=nothing)
        p.start()
        p.join()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    repeats, items, cycles, runs = (int(a) for a in sys.argv[1:5])
    median = lambda f: statistics.median(f() for _ in range(repeats))
    print("queue", median(lambda: queue_rate(items)))
    print("joinable", median(lambda: joinable_rate(items)))
    print("lock", median(lambda: lock_rate(4, cycles)))
    print("start_fork", start_join_ms("fork", runs))
    print("start_spawn", start_join_ms("spawn", runs))
