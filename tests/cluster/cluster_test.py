#!/usr/bin/env python3
"""Lanes shared across processes, proved with real processes on a real Redis.

    cluster_test.py MEMBER EXAMPLE API_TEST STRESS_TEST API_CPP_TEST [SCENARIO ...]

Starts redis-server on 127.0.0.1 on a free port (no persistence) in a
temporary folder, runs member processes (tests/cluster/member.c) against it,
and checks their logs: each job's start and end (CLOCK_REALTIME, one host)
with the fence number of its grant. Stops every process it started.

Scenarios:
  cap       3 processes share a lane of 4 slots: never more than 4 run at
            once, every accepted job ends exactly once, fences never repeat,
            and a tenant flooding from one process does not starve the
            tenants of the others.
  kill      kill -9 of a process holding every slot: they come back within
            one lease (plus a renewal period) and nothing is granted twice.
  stop      SIGSTOP of a holder past its lease: its slot goes to another
            process, and its late release is refused (the fence is older).
  arbiter   random workloads replayed straight through the arbiter script
            (EVAL over a small RESP client): after every step the cap holds,
            grants are disjoint, no slot idles while someone waits, and each
            grant went to a waiter of the highest priority whose tenant held
            no more grants than any other waiting tenant of that priority.
  arbiter-cost
            the same with a cost rate limit, random costs and corrections:
            each grant is charged its waiter's cost, and over every window of
            steps (timed by Redis's TIME around each) the cost granted is at
            most burst + amount * window / per + the refunds in the window.
  arbiter-tenants
            shared tenant limits straight through the script: random needs
            and leaves of three members for two tenants: after every step no
            tenant's quota held by all passes its limit, nobody waits while
            some of it is free, and a member holds at most what it needs and
            waits for the rest.
  tenant    three processes share a tenant limit of 2: never more than 2
            of that tenant's jobs run at once across them.
  api       tests/cluster/api_test.c and api_cpp.cpp: bad inputs and every
            kind of job on a member lane, from C and from lane.hpp.
  stress    tests/cluster/stress_test.c: two members in one process (on two
            clusters, then on one), four threads of random submits, cancels,
            timeouts, release/reacquire.
  example   the README's example (examples/c/shared.c) in two processes.
  rate      two processes share a requests rate limit of 20/s (burst 1):
            together they start no more than 1 + 20/s * window jobs in any
            window, where each alone would be allowed 20/s.
  cost      two processes share a cost rate limit: with equal costs no
            window sees more than the limit allows; with real costs below
            the estimates, the refunds reach the shared limit (it lets jobs
            go at the real cost's pace, not the estimate's).
  slow      Redis stalls (DEBUG SLEEP) for less than the command timeout:
            grants are late, nothing is refused; then for longer: refused
            LANE_ERR_UNAVAILABLE meanwhile, resumed after, one outcome each.
  redis-cluster
            a Redis Cluster of three masters: lanes whose keys live on the
            url's node and on another node (reached through MOVED) hold
            their cap of 2 across three processes, every job ends once with
            a fence of its own, and the keys are where the slot's node is.
  redis     SIGSTOP/SIGCONT and a restart of redis-server: submissions are
            refused LANE_ERR_UNAVAILABLE meanwhile (or run on the fallback
            share), grants resume after, every accepted job ends once, and
            fences after the restart are above those before.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

MEMBER = sys.argv[1]
EXAMPLE = sys.argv[2]
API_TEST = sys.argv[3]
STRESS_TEST = sys.argv[4]
API_CPP_TEST = sys.argv[5]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self, workdir):
        self.dir = workdir
        self.port = free_port()
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--enable-debug-command", "local",
             "--dir", self.dir, "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.025)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()

    def debug_sleep(self, seconds):
        """DEBUG SLEEP: Redis answers nothing for that long (a slow network, a stalled server)."""
        def run():
            with socket.create_connection(("127.0.0.1", self.port)) as s:
                arg = str(seconds).encode()
                s.sendall(b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$%d\r\n%s\r\n" % (len(arg), arg))
                s.recv(16)
        t = threading.Thread(target=run)
        t.start()
        return t

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


class Member:
    def __init__(self, tmp, name, redis, lane, **opts):
        self.log = os.path.join(tmp, name + ".log")
        args = [MEMBER, "--url", redis.url, "--lane", lane, "--log", self.log]
        for k, v in opts.items():
            args += ["--" + k.replace("_", "-"), str(v)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.name = name

    def wait(self, timeout=60):
        out, err = self.proc.communicate(timeout=timeout)
        if err.strip():
            print(f"[{self.name} stderr] {err.strip()}")
        self.rc = self.proc.returncode
        self.result = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
        return self.result

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)

    def events(self):
        """[(kind, t_ns, fence, id)] from its log."""
        ev = []
        if os.path.exists(self.log):
            for line in open(self.log):
                k, t, f, i = line.split()
                ev.append((k, int(t), int(f), i))
        return ev


def intervals(members, dead_at=None):
    """{job id: (start, end, fence, member)}; a job of a killed member that did
    not log its end ends at dead_at[member]."""
    out = {}
    for m in members:
        for k, t, f, i in m.events():
            if k == "U":
                continue
            s, e, _, _ = out.get(i, (None, None, None, None))
            if k == "S":
                out[i] = (t, e, f, m.name)
            else:
                out[i] = (s, t, f, m.name)
    for i, (s, e, f, name) in list(out.items()):
        if e is None:
            out[i] = (s, (dead_at or {}).get(name, float("inf")), f, name)
    return out


def max_overlap(iv):
    points = []
    for s, e, _, _ in iv.values():
        points.append((s, 1))
        points.append((e, -1))
    points.sort(key=lambda p: (p[0], p[1]))  # an end before a start at the same instant
    cur = best = 0
    for _, d in points:
        cur += d
        best = max(best, cur)
    return best


def expect_clean_exit(m, jobs):
    r = m.wait()
    check(m.rc == 0, f"{m.name}: exit status {m.rc}")
    if r:
        check(r["outcomes"] == r["accepted"], f"{m.name}: {r['accepted']} accepted but {r['outcomes']} outcomes")
        check(r["shared"] == 1, f"{m.name}: lane_stats says the lane is not shared")
    return r


def scenario_cap(tmp, redis):
    lane = "cap"
    flood = Member(tmp, "flood", redis, lane, cap=4, tenant="A", jobs=60, job_ms=40)
    time.sleep(0.3)  # A holds every slot and has a deep queue before the others come
    b = Member(tmp, "b", redis, lane, cap=4, tenant="B", jobs=12, job_ms=40)
    c = Member(tmp, "c", redis, lane, cap=4, tenant="C", jobs=12, job_ms=40)
    ms = [flood, b, c]
    results = [expect_clean_exit(m, 0) for m in ms]
    iv = intervals(ms)
    check(len(iv) == 84, f"cap: {len(iv)} jobs ran, want 84")
    check(all(r and r["ok"] == r["accepted"] for r in results), f"cap: not every job ended OK: {results}")
    over = max_overlap(iv)
    check(over <= 4, f"cap: {over} jobs ran at once across processes, cap is 4")
    fences = [f for (_, _, f, _) in iv.values()]
    check(all(f > 0 for f in fences), "cap: a job ran without a fence number")
    check(len(set(fences)) == len(fences), "cap: a fence number was handed out twice")
    # Fair share across processes: once B and C wait, A gets about a third.
    a_end = max(e for (s, e, f, n) in iv.values() if n == "flood")
    for other in ("b", "c"):
        end = max(e for (s, e, f, n) in iv.values() if n == other)
        check(end < a_end, f"cap: tenant of {other} finished after the flooding tenant: starved")
    first_b = min(s for (s, e, f, n) in iv.values() if n in ("b", "c"))
    last_bc = max(e for (s, e, f, n) in iv.values() if n in ("b", "c"))
    a_in = sum(1 for (s, e, f, n) in iv.values() if n == "flood" and first_b <= s <= last_bc)
    bc_in = sum(1 for (s, e, f, n) in iv.values() if n in ("b", "c") and first_b <= s <= last_bc)
    # With three tenants waiting, each gets a third of the grants (+- what was running).
    check(a_in <= bc_in / 2 + 6, f"cap: while B and C waited, A started {a_in} jobs against their {bc_in}")
    print(f"cap: max {over} at once, A started {a_in} vs B+C {bc_in} while all waited", flush=True)


def scenario_kill(tmp, redis):
    lane, lease_ms = "kill", 1000
    holder = Member(tmp, "holder", redis, lane, cap=2, jobs=2, job_ms=30000, lease_ms=lease_ms)
    deadline = time.time() + 10
    while len([e for e in holder.events() if e[0] == "S"]) < 2 and time.time() < deadline:
        time.sleep(0.02)
    check(len(holder.events()) == 2, "kill: the holder did not start both jobs")
    waiter = Member(tmp, "waiter", redis, lane, cap=2, jobs=4, job_ms=50, lease_ms=lease_ms)
    time.sleep(0.3)
    check(not waiter.events(), "kill: the waiter ran while the holder held every slot")
    holder.kill()
    killed = time.time_ns()
    holder.proc.wait()
    expect_clean_exit(waiter, 4)
    ev = waiter.events()
    starts = [t for k, t, f, i in ev if k == "S"]
    check(len(starts) == 4, f"kill: the waiter ran {len(starts)} of 4 jobs")
    if starts:
        back = (min(starts) - killed) / 1e6
        # The lease ends at most lease_ms after the last renewal; the waiter's
        # own renewal (every lease/3) then finds it expired.
        check(back <= lease_ms + lease_ms / 3 + 500, f"kill: slots came back after {back:.0f} ms (lease {lease_ms} ms)")
        print(f"kill: slots back {back:.0f} ms after kill -9 (lease {lease_ms} ms)", flush=True)
    iv = intervals([holder, waiter], dead_at={"holder": killed})
    check(max_overlap(iv) <= 2, "kill: more than 2 ran at once")
    hf = max(f for k, t, f, i in holder.events())
    check(all(f > hf for k, t, f, i in ev), "kill: a grant after the kill has an older fence")


def scenario_stop(tmp, redis):
    lane, lease_ms = "stop", 600
    holder = Member(tmp, "sholder", redis, lane, cap=1, jobs=1, job_ms=2500, lease_ms=lease_ms, linger_ms=500)
    deadline = time.time() + 10
    while not holder.events() and time.time() < deadline:
        time.sleep(0.02)
    holder.kill(signal.SIGSTOP)
    stopped = time.time_ns()
    waiter = Member(tmp, "swaiter", redis, lane, cap=1, jobs=2, job_ms=50, lease_ms=lease_ms)
    deadline = time.time() + 10
    while len([e for e in waiter.events() if e[0] == "E"]) < 2 and time.time() < deadline:
        time.sleep(0.02)
    holder.kill(signal.SIGCONT)
    rw = expect_clean_exit(waiter, 2)
    rh = expect_clean_exit(holder, 1)
    wev = waiter.events()
    check(len([e for e in wev if e[0] == "S"]) == 2, "stop: the waiter did not run while the holder was stopped")
    if wev:
        print(f"stop: the waiter started {(min(t for k, t, f, i in wev) - stopped) / 1e6:.0f} ms after SIGSTOP", flush=True)
    hf = holder.events()[0][2] if holder.events() else 0
    check(all(f > hf for k, t, f, i in wev), "stop: the new holder's fence is not above the stalled one's")
    if rh:
        check(rh["releases_refused"] >= 1, f"stop: the stalled holder's late release was not refused: {rh}")
        check(rh["leases_lost"] >= 1, f"stop: the stalled holder did not notice it lost its lease: {rh}")


def scenario_redis(tmp, redis):
    lane = "redis"
    # Refuse mode: one job every 20 ms for 3 s while Redis is stopped, then restarted.
    m = Member(tmp, "refuse", redis, lane, cap=2, jobs=150, job_ms=5, every_ms=20, lease_ms=1000)
    time.sleep(0.6)
    before = max([f for k, t, f, i in m.events()] or [0])
    redis.proc.send_signal(signal.SIGSTOP)
    time.sleep(1.0)
    redis.proc.send_signal(signal.SIGCONT)
    time.sleep(0.4)
    redis.stop()
    time.sleep(0.3)
    redis.start()
    r = expect_clean_exit(m, 150)
    ev = m.events()
    after = max([f for k, t, f, i in ev] or [0])
    if r:
        check(r["unavailable"] > 0, f"redis: no submission was refused LANE_ERR_UNAVAILABLE: {r}")
        check(r["accepted"] + r["unavailable"] + r["other"] == 150, f"redis: submissions lost: {r}")
        check(r["other"] == 0, f"redis: unexpected refusals: {r}")
        print(f"redis: {r['accepted']} accepted, {r['unavailable']} refused unavailable", flush=True)
    check(after > before, "redis: no grant after the restart, or its fence is not above the old ones")
    starts = sorted(t for k, t, f, i in ev if k == "S")
    check(len(starts) == (r or {}).get("accepted", -1), "redis: accepted jobs that never ran")
    # Fallback mode: the same, with 1 local slot while Redis is gone.
    fb = Member(tmp, "fallback", redis, lane + "-fb", cap=2, jobs=60, job_ms=5, every_ms=20, lease_ms=1000, fallback=1)
    time.sleep(0.3)
    redis.stop()
    time.sleep(0.6)
    redis.start()
    r = expect_clean_exit(fb, 60)
    if r:
        check(r["unavailable"] == 0 and r["accepted"] == 60, f"redis: the fallback share refused jobs: {r}")
    local = [e for e in fb.events() if e[0] == "S" and e[2] == 0]
    check(len(local) > 0, "redis: no job ran on the fallback share while Redis was down")
    print(f"redis: {len(local)} jobs ran on the fallback share", flush=True)


def scenario_example(tmp, redis):
    env = dict(os.environ, LANE_REDIS=redis.url)
    procs = [subprocess.Popen([EXAMPLE, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for name in ("worker-a", "worker-b")]
    fences = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0, f"example: exit {p.returncode}: {err.strip()}")
        check("4 completed" in out, f"example: unexpected output {out!r}")
        fences += [int(line.rsplit(" ", 1)[1]) for line in out.splitlines() if "runs with fence" in line]
    check(len(fences) == 8 and len(set(fences)) == 8 and min(fences) > 0, f"example: fences {fences}")
    print(f"example: two workers ran 8 jobs with 8 distinct fences", flush=True)


class Resp:
    """Just enough of a Redis client for the arbiter test."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            if kind == b"-":
                raise RuntimeError(rest.decode())
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode()
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError(f"bad reply {line!r}")


def arbiter_script():
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "cluster", "script.hpp")).read()
    return src.split('R"lua(', 1)[1].split(')lua"', 1)[0]


def scenario_arbiter(tmp, redis):
    import random
    script = arbiter_script()
    r = Resp(redis.port)
    cap, steps_done, grants_checked = 4, 0, 0
    for seed in range(40):
        rng = random.Random(seed)
        base = f"{{arb:{seed}}}:"
        keys = [base + k for k in ("slots", "members", "fence", "waiters", "tenants", "config", "quota")]
        members = [f"m{i}" for i in range(3)]
        held = {m: set() for m in members}  # what each member was last told it holds
        for step in range(60):
            me = rng.choice(members)
            want = rng.choice([0, 0, 1, 2, 3])
            prio = rng.choice([0, 0, 1])
            tenant = rng.choice(["a", "b", "c"])
            mine = sorted(held[me])
            releases = rng.sample(mine, rng.randint(0, len(mine))) if mine else []
            slots_before = dict(zip(*[iter(r.call("HGETALL", keys[0]))] * 2))
            waiters_before = dict(zip(*[iter(r.call("HGETALL", keys[3]))] * 2))
            ans = r.call("EVAL", script, 7, *keys, me, 60000, want, prio, tenant, cap if step == 0 else 0,
                         "arb:grant:", "arb", "0", "-", "-", "-", "-", "-", "-", 0, 0, 0, *releases)
            slots_after = dict(zip(*[iter(r.call("HGETALL", keys[0]))] * 2))
            held[me] = set(ans[0])
            steps_done += 1
            # The cap, and grants that are nobody else's.
            check(len(slots_after) <= cap, f"arbiter: {len(slots_after)} grants, cap {cap}")
            check(ans[2] == len(slots_after), "arbiter: the answer's count differs from the slots")
            owners = {}
            for g, v in slots_after.items():
                owners.setdefault(v.split("\t")[0], set()).add(g)
            check(owners.get(me, set()) == held[me], "arbiter: the answer is not what the member holds")
            # Replay this step's grants against the rule.
            w = {}
            for m, v in waiters_before.items():
                f = v.split("\t", 4)
                w[m] = [int(f[0]), int(f[1]), f[4]]
            if want > 0:
                w[me] = [want, prio, tenant]
            else:
                w.pop(me, None)
            live = {g: v for g, v in slots_before.items() if not (g in releases and v.split("\t")[0] == me)}
            t_held = {}
            for v in live.values():
                tn = v.split("\t", 2)[2]
                t_held[tn] = t_held.get(tn, 0) + 1
            new = sorted((g for g in slots_after if g not in slots_before), key=int)
            for g in new:
                who, _, tn = slots_after[g].split("\t", 2)
                check(who in w and w[who][0] > 0, f"arbiter: grant {g} to {who}, which did not wait")
                if who not in w:
                    break
                top = max(x[1] for x in w.values() if x[0] > 0)
                check(w[who][1] == top, f"arbiter: grant to priority {w[who][1]} while {top} waited")
                fewest = min(t_held.get(x[2], 0) for x in w.values() if x[0] > 0 and x[1] == top)
                check(t_held.get(tn, 0) == fewest,
                      f"arbiter: grant to tenant {tn} holding {t_held.get(tn, 0)} while one holding {fewest} waited")
                t_held[tn] = t_held.get(tn, 0) + 1
                w[who][0] -= 1
                grants_checked += 1
            # Work-conserving: below the cap only when nobody waits.
            if len(slots_after) < cap:
                check(all(x[0] <= 0 for x in w.values()), "arbiter: a slot idles while a member waits")
    print(f"arbiter: {steps_done} steps over 40 seeds, {grants_checked} grants checked against the rule", flush=True)


def scenario_api(tmp, redis):
    for binary in (API_TEST, API_CPP_TEST):
        p = subprocess.run([binary, redis.url, f"redis://127.0.0.1:{free_port()}/0"], capture_output=True, text=True,
                           timeout=60)
        if p.stdout.strip():
            print(p.stdout.strip(), flush=True)
        check(p.returncode == 0, f"api ({os.path.basename(binary)}): exit {p.returncode}: {p.stderr.strip()}")


def scenario_stress(tmp, redis):
    for how in ("two", "one"):
        p = subprocess.run([STRESS_TEST, redis.url, how], capture_output=True, text=True, timeout=240)
        if p.stdout.strip():
            print(p.stdout.strip(), flush=True)
        check(p.returncode == 0, f"stress ({how}): exit {p.returncode}: {p.stderr.strip()[-2000:]}")


def scenario_slow(tmp, redis):
    # Submits for 4 s: the long stall is found out (after the 1 s timeout) while it still submits.
    m = Member(tmp, "slow", redis, "slow", cap=2, jobs=200, job_ms=5, every_ms=20, lease_ms=3000)
    time.sleep(0.4)
    redis.debug_sleep(0.4).join()  # below the 1 s timeout: slow, not down
    time.sleep(0.3)
    before = m.events()
    long_stall = time.time_ns()
    redis.debug_sleep(1.6).join()  # above it
    r = expect_clean_exit(m, 200)
    if r:
        check(r["unavailable"] > 0, f"slow: nothing was refused while Redis stalled past the timeout: {r}")
        check(r["accepted"] + r["unavailable"] == 200 and r["other"] == 0, f"slow: submissions lost: {r}")
        check(len([e for e in m.events() if e[0] == "S"]) == r["accepted"], "slow: accepted jobs that never ran")
        refused_at = [t for k, t, f, i in m.events() if k == "U"]
        check(refused_at and min(refused_at) >= long_stall, "slow: a submission was refused before the long stall")
        check(len(before) > 0, "slow: nothing ran before the long stall")
        print(f"slow: {r['accepted']} accepted, {r['unavailable']} refused during the long stall", flush=True)


def scenario_rate(tmp, redis):
    rate, per = 20, 1e9
    ms = [Member(tmp, f"rate{i}", redis, "rate", cap=4, jobs=15, job_ms=1, rate=rate) for i in range(2)]
    for m in ms:
        expect_clean_exit(m, 15)
    starts = sorted(t for m in ms for k, t, f, i in m.events() if k == "S")
    check(len(starts) == 30, f"rate: {len(starts)} of 30 jobs ran")
    # A grant becomes a start a little later (Redis -> member -> worker), more so on a
    # loaded machine: allow 50 ms of that (one extra start at 20/s; each process
    # alone at 20/s would put twice the starts in a window).
    slack_ns = 50e6
    worst = 0.0
    for i in range(len(starts)):
        for j in range(i, len(starts)):
            allowed = 1 + rate * (starts[j] - starts[i] + slack_ns) / per
            worst = max(worst, (j - i + 1) / allowed)
    check(worst <= 1.0, f"rate: {worst:.2f}x the shared limit in some window")
    span = (starts[-1] - starts[0]) / 1e9 if starts else 0
    check(span >= (30 - 1) / rate * 0.95, f"rate: 30 starts in {span:.2f} s, faster than 20/s together")
    print(f"rate: 30 starts over {span:.2f} s across two processes (20/s shared), worst window {worst:.2f}x", flush=True)


def scenario_arbiter_cost(tmp, redis):
    import random
    script = arbiter_script()
    r = Resp(redis.port)
    amount, per_ns, burst, cap = 2000, 10**9, 8, 6  # 0.5 ms a unit
    windows, held_back, granted_total = 0, 0, 0

    def now_us():
        sec, usec = r.call("TIME")
        return int(sec) * 10**6 + int(usec)

    for seed in range(20):
        rng = random.Random(1000 + seed)
        base = f"{{arbc:{seed}}}:"
        keys = [base + k for k in ("slots", "members", "fence", "waiters", "tenants", "config", "quota")]
        members = [f"m{i}" for i in range(3)]
        held = {m: set() for m in members}
        steps = []  # (Redis time before, after, cost granted, refunded)
        for step in range(80):
            me = rng.choice(members)
            want = rng.choice([0, 1, 2, 3])
            cost = rng.randint(1, 12)  # above the burst: charged the burst
            delta = rng.choice([0, 0, 0, -3, -1, 2, 5])
            mine = sorted(held[me])
            releases = rng.sample(mine, rng.randint(0, len(mine))) if mine else []
            slots_before = dict(zip(*[iter(r.call("HGETALL", keys[0]))] * 2))
            waiters_before = dict(zip(*[iter(r.call("HGETALL", keys[3]))] * 2))
            limit = (amount, per_ns, burst) if step == 0 else ("-", "-", "-")
            t0 = now_us()
            ans = r.call("EVAL", script, 7, *keys, me, 60000, want, 0, "t", cap if step == 0 else 0, "arbc:grant:",
                         "arbc", "0", "-", "-", "-", *limit, cost, delta, 0, *releases)
            t1 = now_us()
            slots_after = dict(zip(*[iter(r.call("HGETALL", keys[0]))] * 2))
            held[me] = set(ans[0])
            check(ans[7] == 1, "arbiter cost: the answer does not say the lane has a cost limit")
            check(len(ans[6]) == len(ans[0]) and all(slots_after[g].split("\t")[1] == c for g, c in zip(ans[0], ans[6])),
                  "arbiter cost: the costs answered are not the grants' charges")
            # Each new grant is charged its waiter's cost (at most the burst).
            announced = {m: int(v.split("\t")[3]) for m, v in waiters_before.items()}
            if want > 0:
                announced[me] = cost
            granted = 0
            for g, v in slots_after.items():
                if g in slots_before:
                    continue
                who, c, _ = v.split("\t", 2)
                check(int(c) == min(announced.get(who, -1), burst),
                      f"arbiter cost: grant to {who} charged {c}, its next job costs {announced.get(who)}")
                granted += int(c)
            granted_total += granted
            waiting = sum(int(v.split("\t")[0]) for v in r.call("HVALS", keys[3]))
            if len(slots_after) < cap and waiting > 0:
                check(ans[5] > 0, "arbiter cost: a slot idles while a member waits, and no rate wait was named")
                held_back += 1
            steps.append((t0, t1, granted, max(0, -delta)))
        # The bound, over every window of steps: the cost granted in it is at
        # most burst + amount * its length / per + the refunds in it.
        for i in range(len(steps)):
            g = refunds = 0
            for j in range(i, len(steps)):
                g += steps[j][2]
                refunds += steps[j][3]
                allowed = burst + amount * (steps[j][1] - steps[i][0]) * 1000 / per_ns + refunds
                check(g <= allowed + 1e-6, f"arbiter cost: {g} units granted in a window that allows {allowed:.2f}")
                windows += 1
    check(held_back > 0 and granted_total > 0, "arbiter cost: the limit never held a grant back (the test proves nothing)")
    print(f"arbiter cost: {granted_total} units granted over 20 seeds, {windows} windows within the bound, "
          f"{held_back} steps held back by the limit", flush=True)


def scenario_cost(tmp, redis):
    # Equal costs: 5 a job against 100 units/s (burst 5) shared: 20 jobs/s together.
    ms = [Member(tmp, f"cost{i}", redis, "cost", cap=4, jobs=15, job_ms=1, cost=5, cost_rate=100) for i in range(2)]
    for m in ms:
        expect_clean_exit(m, 15)
    starts = sorted(t for m in ms for k, t, f, i in m.events() if k == "S")
    check(len(starts) == 30, f"cost: {len(starts)} of 30 jobs ran")
    slack_ns = 50e6  # grant -> start, as in the rate scenario
    worst = 0.0
    for i in range(len(starts)):
        for j in range(i, len(starts)):
            allowed = 5 + 100 * (starts[j] - starts[i] + slack_ns) / 1e9
            worst = max(worst, 5 * (j - i + 1) / allowed)
    check(worst <= 1.0, f"cost: {worst:.2f}x the shared cost limit in some window")
    span = (starts[-1] - starts[0]) / 1e9 if starts else 0
    check(span >= 29 / 20 * 0.95, f"cost: 30 starts in {span:.2f} s, faster than the shared 20 a second")
    print(f"cost: 30 starts of cost 5 over {span:.2f} s across two processes (100 units/s shared), "
          f"worst window {worst:.2f}x", flush=True)
    # Refunds: each job is estimated at 10 (the whole burst) and reports 2 as
    # it starts, so the shared limit lets one go per 2 units (50/s together);
    # without the refunds reaching Redis it would be one per 10 (10/s), and
    # each process alone would be allowed 50/s.
    ms = [Member(tmp, f"refund{i}", redis, "refund", cap=4, jobs=20, job_ms=1, cost=10, real_cost=2, cost_rate=100)
          for i in range(2)]
    for m in ms:
        expect_clean_exit(m, 20)
    starts = sorted(t for m in ms for k, t, f, i in m.events() if k == "S")
    check(len(starts) == 40, f"cost refunds: {len(starts)} of 40 jobs ran")
    span = (starts[-1] - starts[0]) / 1e9 if starts else 0
    check(span >= 39 / 50 * 0.9, f"cost refunds: 40 starts in {span:.2f} s, faster than the shared 50 a second")
    check(span <= 2.0, f"cost refunds: 40 starts took {span:.2f} s: the refunds did not reach the shared limit")
    print(f"cost refunds: 40 starts over {span:.2f} s (50/s with refunds, 10/s without)", flush=True)


class RedisCluster:
    """Three masters in cluster mode on 127.0.0.1 (ports whose bus ports,
    10000 above, are free too), joined by redis-cli --cluster create."""

    def __init__(self, workdir, n=3):
        self.procs, self.ports = [], []
        while len(self.ports) < n:
            p = free_port()
            if p + 10000 > 65535 or p in self.ports:
                continue
            try:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p + 10000))
            except OSError:
                continue
            self.ports.append(p)
        for p in self.ports:
            d = os.path.join(workdir, f"node{p}")
            os.makedirs(d)
            self.procs.append(subprocess.Popen(
                ["redis-server", "--port", str(p), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no", "--dir", d,
                 "--logfile", os.path.join(d, "redis.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for p in self.ports:
            for _ in range(200):
                try:
                    if Resp(p).call("PING") == "PONG":
                        break
                except OSError:
                    time.sleep(0.025)
        subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports],
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)
        deadline = time.time() + 30
        while time.time() < deadline:
            if all("cluster_state:ok" in Resp(p).call("CLUSTER", "INFO") for p in self.ports):
                return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not become ready")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def owner(self, key):
        """The port of the node that serves key's hash slot."""
        r = Resp(self.ports[0])
        slot = r.call("CLUSTER", "KEYSLOT", key)
        for lo, hi, master, *_ in r.call("CLUSTER", "SLOTS"):
            if lo <= slot <= hi:
                return master[1]
        raise RuntimeError(f"no node serves slot {slot}")

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def scenario_redis_cluster(tmp, redis):
    if shutil.which("redis-cli") is None:
        check(False, "redis-cluster: redis-cli is not installed (it comes with redis-server's redis-tools)")
        return
    rc = RedisCluster(tmp)
    try:
        # One lane whose keys live on the url's node and one whose keys live
        # on another: members of the second are sent there by MOVED.
        names = {}
        for i in range(200):
            name = f"rc{i}"
            on = rc.owner(f"{{lane:{name}}}:slots")
            names.setdefault("seed" if on == rc.ports[0] else "other", name)
            if len(names) == 2:
                break
        for where, lane in sorted(names.items()):
            ms = [Member(tmp, f"{lane}-{i}", rc, lane, cap=2, tenant=f"T{i}", jobs=10, job_ms=20) for i in range(3)]
            results = [expect_clean_exit(m, 10) for m in ms]
            iv = intervals(ms)
            check(len(iv) == 30, f"redis-cluster ({where}): {len(iv)} of 30 jobs ran")
            check(all(r and r["ok"] == r["accepted"] == 10 for r in results),
                  f"redis-cluster ({where}): not every job ended OK: {results}")
            over = max_overlap(iv)
            check(over <= 2, f"redis-cluster ({where}): {over} jobs ran at once, cap is 2")
            fences = [f for (_, _, f, _) in iv.values()]
            check(all(f > 0 for f in fences) and len(set(fences)) == len(fences),
                  f"redis-cluster ({where}): a job without a fence, or a fence twice")
            port = rc.owner(f"{{lane:{lane}}}:fence")
            check(Resp(port).call("EXISTS", f"{{lane:{lane}}}:fence") == 1,
                  f"redis-cluster ({where}): the lane's keys are not on the node that serves their slot")
            print(f"redis-cluster: lane {lane} on the {'url' if where == 'seed' else 'other'} node "
                  f"(port {port}): 30 jobs, at most {over} at once, fences unique", flush=True)
    finally:
        rc.stop()


def scenario_arbiter_tenants(tmp, redis):
    import random
    script = arbiter_script()
    r = Resp(redis.port)
    limits = {"x": 2, "y\tz": 3}  # a tenant name may hold a tab
    grants = 0
    for seed in range(30):
        rng = random.Random(2000 + seed)
        base = f"{{arbt:{seed}}}:"
        keys = [base + k for k in ("slots", "members", "fence", "waiters", "tenants", "config", "quota")]
        members = [f"m{i}" for i in range(3)]
        held = {(m, t): 0 for m in members for t in limits}
        for step in range(80):
            me = rng.choice(members)
            leave = rng.random() < 0.05
            entries, need = [], {}
            for tn, lim in limits.items():
                if rng.random() < 0.8:
                    need[tn] = rng.randint(0, lim + 1)
                    entries += [tn, lim, need[tn]]
            q_before = dict(zip(*[iter(r.call("HGETALL", keys[6]))] * 2))
            ans = r.call("EVAL", script, 7, *keys, me, 60000, 0, 0, "", 2 if step == 0 else 0, "arbt:grant:", "arbt",
                         "1" if leave else "0", "-", "-", "-", "-", "-", "-", 0, 0, len(entries) // 3, *entries)
            q = dict(zip(*[iter(r.call("HGETALL", keys[6]))] * 2))
            told = dict(zip(ans[8][::2], ans[8][1::2]))
            for tn, lim in limits.items():
                hs = {m: int(q.get(f"h\t{m}\t{tn}", 0)) for m in members}
                total = int(q.get(f"t\t{tn}", 0))
                check(sum(hs.values()) == total, f"arbiter tenants: {tn}: held {hs}, total {total}")
                check(total <= lim, f"arbiter tenants: {tn}: {total} held of a limit of {lim}")
                waiting = [m for m in members if f"w\t{m}\t{tn}" in q]
                check(total == lim or not waiting, f"arbiter tenants: {tn}: {total} of {lim} held while {waiting} wait")
                if leave:
                    check(hs[me] == 0 and me not in waiting, f"arbiter tenants: {me} left but holds {tn}")
                elif tn in need:
                    check(told.get(tn) == hs[me], f"arbiter tenants: {me} told {told.get(tn)} of {tn}, holds {hs[me]}")
                    check(hs[me] <= need[tn], f"arbiter tenants: {me} holds {hs[me]} of {tn}, needs {need[tn]}")
                    # what it needs beyond what it holds, it waits for
                    w = q.get(f"w\t{me}\t{tn}")
                    check((int(w.split("\t")[0]) if w else 0) == need[tn] - hs[me],
                          f"arbiter tenants: {me} waits for {w} of {tn}, needs {need[tn]}, holds {hs[me]}")
                grants += max(0, total - int(q_before.get(f"t\t{tn}", 0)))
    check(grants > 0, "arbiter tenants: nothing was ever granted (the test proves nothing)")
    print(f"arbiter tenants: 2400 steps over 30 seeds, {grants} tenant grants, limits held", flush=True)


def scenario_tenant(tmp, redis):
    # Three processes, each with 8 jobs of tenant X, which has a shared limit of
    # 2 (each process sets it): never more than 2 of X run at once anywhere,
    # where each process alone would run 2. The lane's cap (6) is no bound.
    ms = [Member(tmp, f"tl{i}", redis, "tl", cap=6, tenant="X", jobs=8, job_ms=40, tenant_limit=2) for i in range(3)]
    results = [expect_clean_exit(m, 8) for m in ms]
    iv = intervals(ms)
    check(len(iv) == 24, f"tenant: {len(iv)} of 24 jobs ran")
    check(all(r and r["ok"] == r["accepted"] == 8 for r in results), f"tenant: not every job ended OK: {results}")
    over = max_overlap(iv)
    check(over <= 2, f"tenant: {over} jobs of tenant X ran at once across processes, its shared limit is 2")
    check(over >= 2, f"tenant: at most {over} ran at once: the limit was never reached (the test proves nothing)")
    span = (max(e for (s, e, f, n) in iv.values()) - min(s for (s, e, f, n) in iv.values())) / 1e9
    check(span >= 24 * 0.040 / 2 * 0.95, f"tenant: 24 jobs of 40 ms in {span:.2f} s, faster than 2 at a time")
    print(f"tenant: 24 jobs of one tenant across three processes, at most {over} at once (limit 2), "
          f"{span:.2f} s", flush=True)


SCENARIOS = {"arbiter": scenario_arbiter, "arbiter-cost": scenario_arbiter_cost, "cost": scenario_cost, "arbiter-tenants": scenario_arbiter_tenants, "tenant": scenario_tenant, "api": scenario_api, "rate": scenario_rate, "slow": scenario_slow, "stress": scenario_stress, "cap": scenario_cap, "example": scenario_example, "kill": scenario_kill, "stop": scenario_stop, "redis": scenario_redis, "redis-cluster": scenario_redis_cluster}


def main():
    if shutil.which("redis-server") is None:
        print("cluster_test: redis-server is not installed (scripts/deps.sh installs it)")
        return 1
    names = sys.argv[6:] or list(SCENARIOS)
    for name in names:
        tmp = tempfile.mkdtemp(prefix="lane-cluster-")
        redis = Redis(tmp)
        try:
            t0 = time.time()
            SCENARIOS[name](tmp, redis)
            print(f"scenario {name}: {time.time() - t0:.1f} s", flush=True)
        finally:
            redis.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all scenarios passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
