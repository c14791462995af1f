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


def consume_until_stopped(queue, done, go):
    while queue.get() != -1:
        pass
    done.put("warm")
    go.get()
    while queue.get() != -1:
        pass
    done.put("timed")


def shared_queue_rate(consumers, items):
    """The scale case: consumers take the items from one queue between them, as in bench/LocalBench.cs."""
    queue, done, go = mp.Queue(), mp.Queue(), mp.Queue()
    processes = [mp.Process(target=consume_until_stopped, args=(queue, done, go)) for _ in range(consumers)]
    for p in processes:
        p.start()

    def one_pass():
        put_all(queue, items)
        for _ in range(consumers):
            queue.put(-1)
        for _ in range(consumers):
            done.get()

    one_pass()
    for _ in range(consumers):
        go.put("timed")
    began = time.perf_counter()
    one_pass()
    rate = items / (time.perf_counter() - began)
    for p in processes:
        p.join()
    return rate


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


def set_and_get(d, worker, pairs, ready, go):
    ready.put(1)
    go.wait()
    for i in range(pairs):
        key = f"{worker}-{i % 100}"
        d[key] = i
        assert d[key] == i


def manager_rate(processes, pairs):
    with mp.Manager() as manager:
        d = manager.dict()
        return processes * pairs / time_together(processes, set_and_get, lambda w: (d, w, pairs))


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


def time_together(processes, target, args):
    """Starts the workers, waits until each is ready, then times them from one go to the last one's end."""
    ready, go = mp.Queue(), mp.Event()
    workers = [mp.Process(target=target, args=(*args(w), ready, go)) for w in range(processes)]
    for w in workers:
        w.start()
    for _ in workers:
        ready.get()
    began = time.perf_counter()
    go.set()
    for w in workers:
        w.join()
    return time.perf_counter() - began


def lock_rate(processes, cycles):
    value = mp.Value("i", 0)
    elapsed = time_together(processes, increment, lambda _: (value, cycles))
    assert value.value == processes * cycles
    return processes * cycles / elapsed


def echo(conn):
    try:
        while True:
            conn.send_bytes(conn.recv_bytes())
    except EOFError:
        pass


def pong(ping, pong_, rounds):
    for _ in range(rounds):
        ping.wait()
        ping.clear()
        pong_.set()


def timed(rounds, round_trip):
    """Milliseconds of each call of the second of two passes, sorted."""
    for _ in range(2):
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            round_trip()
            times.append((time.perf_counter() - began) * 1000)
    return sorted(times)


def pipe_round_trips(rounds, round_trip):
    mine, theirs = mp.Pipe()
    child = mp.Process(target=echo, args=(theirs,), daemon=True)
    child.start()
    theirs.close()
    times = timed(rounds, lambda: round_trip(mine))
    # A forked child holds a copy of this end too, so closing it here ends nothing there.
    child.terminate()
    child.join()
    return times


def event_round_trips(rounds):
    ping, pong_ = mp.Event(), mp.Event()
    child = mp.Process(target=pong, args=(ping, pong_, 2 * rounds), daemon=True)
    child.start()

    def round_trip():
        ping.set()
        pong_.wait()
        pong_.clear()

    times = [t / 2 for t in timed(rounds, round_trip)]
    child.join()
    return times


def percentiles(name, times):
    print(f"{name}_p50", times[len(times) // 2])
    print(f"{name}_p99", times[int(len(times) * 0.99)])


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
    repeats, items, cycles, runs, round_trips = (int(a) for a in sys.argv[1:6])
    median = lambda f: statistics.median(f() for _ in range(repeats))
    print("queue", median(lambda: queue_rate(items)))
    for consumers in (1, 2, 4):
        print(f"scale{consumers}", median(lambda: shared_queue_rate(consumers, items)))
    print("joinable", median(lambda: joinable_rate(items)))
    print("lock", median(lambda: lock_rate(4, cycles)))
    print("manager", median(lambda: manager_rate(4, cycles // 10)))
    percentiles("pipe", pipe_round_trips(round_trips, lambda c: (c.send("ping"), c.recv())))
    percentiles("bytes", pipe_round_trips(round_trips, lambda c: (c.send_bytes(b"ping"), c.recv_bytes())))
    percentiles("event", event_round_trips(round_trips))
    print("start_fork", start_join_ms("fork", runs))
    print("start_spawn", start_join_ms("spawn", runs))
