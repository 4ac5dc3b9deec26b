#!/usr/bin/python3
"""M/M/c queue in SimPy 2 (Debian 12's python3-simpy 2.3.1), the reference for bench/mmc_engine.

Same model as bench/mmc_engine.cpp: Poisson arrivals at rate LAMBDA, c servers with exponential
service at rate MU each, FIFO, unbounded queue; CUSTOMERS arrivals after WARMUP warm-up arrivals.
Prints one JSON line: the measured mean wait, utilization estimate, the Erlang C prediction and
the wall time of the simulation loop.

usage: mmc_simpy.py LAMBDA MU C CUSTOMERS [SEED]
"""
import json
import math
import random
import sys
import time

from SimPy.Simulation import Process, Resource, Simulation, hold, release, request


def erlang_c(c, a):
    # Probability of waiting, by the numerically stable Erlang B recurrence.
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho + rho * b)


class Stats:
    def __init__(self, warmup):
        self.warmup = warmup
        self.seen = 0
        self.waits = 0.0
        self.counted = 0


class Customer(Process):
    def visit(self, servers, mu, rng, stats):
        arrival = self.sim.now()
        index = stats.seen
        stats.seen += 1
        yield request, self, servers
        if index >= stats.warmup:
            stats.waits += self.sim.now() - arrival
            stats.counted += 1
        yield hold, self, rng.expovariate(mu)
        yield release, self, servers


class Source(Process):
    def generate(self, count, lam, servers, mu, rng, stats):
        for _ in range(count):
            customer = Customer(sim=self.sim)
            self.sim.activate(customer, customer.visit(servers, mu, rng, stats))
            yield hold, self, rng.expovariate(lam)


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    lam, mu, c, customers = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    warmup = customers // 10
    rng = random.Random(seed)
    stats = Stats(warmup)
    sim = Simulation()
    sim.initialize()
    servers = Resource(capacity=c, sim=sim)
    source = Source(sim=sim)
    sim.activate(source, source.generate(warmup + customers, lam, servers, mu, rng, stats))
    started = time.perf_counter()
    sim.simulate(until=1e18)
    wall = time.perf_counter() - started
    a = lam / mu
    predicted = erlang_c(c, a) / (c * mu - lam)
    print(json.dumps({
        "tool": "simpy-2", "lambda": lam, "mu": mu, "c": c, "customers": customers,
        "mean_wait_s": stats.waits / stats.counted, "erlang_c_wait_s": predicted,
        "wall_s": wall, "customers_per_s": (warmup + customers) / wall,
    }))


if __name__ == "__main__":
    main()
