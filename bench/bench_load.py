"""Load with wrk: actor, WebFinger, outbox and the inbox, SQLite against PostgreSQL, 1 against N
web processes.

Each setup is a fresh node (`talentfed migrate`, `talentfed demo`) served by `talentfed serve`
with `--workers N` (PostgreSQL only: SQLite refuses a second writer process). wrk (the Debian
package) then runs, one after the other, for `--seconds` each, with `--connections` keep-alive
connections on 2 threads:

- GET the demo member's actor document (`Accept: application/activity+json`);
- GET her WebFinger document;
- GET the first page of her outbox;
- POST distinct `Create(Note)` activities to the shared inbox, pre-signed (draft-cavage, as
  Mastodon signs) by members of a second node that serves their keys; each is verified and stored.
  wrk's script (below) sends each pre-signed request once; the run is valid only if it did not
  run out of them, and the database must then hold every accepted activity exactly once.

The baseline of each setup is `GET /healthz` (one `SELECT 1`) under the same load, and the
target (issue 15) compares setups measured in the same run: the inbox on PostgreSQL with 2 web
processes at least 1.5 times the inbox on SQLite with one.

    .venv/bin/python bench/bench_load.py [--seconds 10] [--connections 32] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from _common import (
    BenchError,
    ServedNode,
    load_line,
    machine_line,
    run_cli,
    run_in_temp_dir,
    stopped_on_exit,
    throwaway_database,
    verdict,
)
from bench_inbox import (
    MIX,
    ClientPlan,
    Member,
    Request,
    SenderKey,
    Signer,
    create_members,
    create_senders,
    make_post,
    mix_requests,
    stored_counts,
)

TARGET_RATIO = 1.5  # inbox: PostgreSQL with 2 processes against SQLite with 1
MEMBER = "ada"  # the demo's first member
SETUPS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 4))

# In every script: the answers' statuses, counted by each thread, and a RESULT line at the end
# for this file to read (wrk's own summary is for people).
REPORT_LUA = """
local threads, counter = {}, 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local e, seen = summary.errors, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do seen[status] = (seen[status] or 0) + n end
  end
  local answers = {}
  for status, n in pairs(seen) do table.insert(answers, status .. ":" .. n) end
  io.write(string.format(
    "RESULT requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d"
      .. " p50_us=%d p99_us=%d answers=%s\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), table.concat(answers, ",")))
end
"""

# The inbox script: each wrk thread reads the file of pre-signed requests and keeps every
# `threads`-th one, so that no activity is sent twice; past its last one a thread sends its
# requests again (duplicates, answered cheaply), which `sent_more_than` below reports as invalid.
INBOX_LUA = (
    """
local function read_requests(path, index, threads)
  local file = assert(io.open(path, "rb"))
  local data = file:read("*a")
  file:close()
  local list, position, number = {}, 1, 0
  while position <= #data do
    local stop = data:find("\\n", position, true)
    local target = data:sub(position, stop - 1)
    position = stop + 1
    local headers = {}
    while true do
      stop = data:find("\\n", position, true)
      local line = data:sub(position, stop - 1)
      position = stop + 1
      if line == "" then break end
      local name, value = line:match("^([^:]+): (.*)$")
      headers[name] = value
    end
    stop = data:find("\\n", position, true)
    local length = tonumber(data:sub(position, stop - 1))
    position = stop + 1
    local body = data:sub(position, position + length - 1)
    position = position + length + 1
    if number % threads == index then
      list[#list + 1] = wrk.format("POST", target, headers, body)
    end
    number = number + 1
  end
  return list
end

local requests, next_one = {}, 0
function init(args)
  requests = read_requests(args[1], index, tonumber(args[2]))
end

function request()
  next_one = next_one % #requests + 1
  return requests[next_one]
end
"""
    + REPORT_LUA
)

THREADS = 2
WARM_UP_SECONDS, WARM_UP_ACTIVITIES = 2, 3_000


@dataclass(frozen=True)
class WrkResult:
    name: str
    requests: int
    seconds: float
    errors: int  # connect, read, write and timeout errors
    bad_status: int  # answers outside 2xx and 3xx
    p50_ms: float
    p99_ms: float
    answers: Counter[int]  # status: count

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        answers = ", ".join(f"{status}x{n}" for status, n in sorted(self.answers.items()))
        return (
            f"  {self.name:<10} {self.rate:8.1f} req/s  p50 {self.p50_ms:7.2f} ms  p99 {self.p99_ms:7.2f} ms"
            f"  ({self.requests} requests, {self.errors} errors; {answers})"
        )


def run_wrk(
    name: str,
    url: str,
    args: argparse.Namespace,
    script: Path,
    script_args: Sequence[str] = (),
    seconds: int | None = None,
) -> WrkResult:
    """wrk against `url` with `script` (which prints the RESULT line); `script_args` go to its init."""
    seconds = seconds or args.seconds
    command = ["wrk", f"-t{THREADS}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(script), url]
    if script_args:
        command += ["--", *script_args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    found = re.search(r"^RESULT (.*)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or found is None:
        raise BenchError(f"wrk failed for {name}:\n{result.stdout}\n{result.stderr}")
    fields = dict(pair.split("=") for pair in found.group(1).split())
    answers = Counter(
        {int(s): int(n) for s, n in (a.split(":") for a in fields.pop("answers").split(",") if a)}
    )
    numbers = {key: int(value) for key, value in fields.items()}
    return WrkResult(
        name=name,
        requests=numbers["requests"],
        seconds=numbers["duration_us"] / 1e6,
        errors=numbers["connect"] + numbers["read"] + numbers["write"] + numbers["timeout"],
        bad_status=numbers["status"],
        p50_ms=numbers["p50_us"] / 1000,
        p99_ms=numbers["p99_us"] / 1000,
        answers=answers,
    )


def get_script(directory: Path, name: str, headers: dict[str, str]) -> Path:
    lines = [f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items()]
    path = directory / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n" + REPORT_LUA)
    return path


def _write_requests(path: Path, requests: list[Request]) -> Path:
    """Pre-signed requests as INBOX_LUA reads them: each as its target, its headers, a blank
    line, its body's length and its body."""
    with path.open("wb") as out:
        for request in requests:
            assert request.body is not None
            head = "".join(f"{name}: {value}\n" for name, value in request.headers.items())
            target = urlsplit(request.url).path
            out.write(f"{target}\n{head}\n{len(request.body)}\n".encode() + request.body + b"\n")
    return path


@dataclass
class SetupResult:
    backend: str
    processes: int
    results: dict[str, WrkResult]
    exhausted: bool  # the inbox run sent more than it had pre-signed
    stored: Stored

    @property
    def label(self) -> str:
        noun = "process" if self.processes == 1 else "processes"
        return f"{self.backend}, {self.processes} web {noun}"


def measure_setup(
    backend: str, processes: int, senders: list[SenderKey], args: argparse.Namespace, tmp: Path
) -> SetupResult:
    directory = tmp / f"{backend}-{processes}"
    with contextlib.ExitStack() as stack:
        # Several web processes must share the secret that signs sign-in cookies.
        overrides = {"web.session_secret": uuid.uuid4().hex}
        if backend == "postgresql":
            _, overrides["database.url"] = stack.enter_context(throwaway_database("talentfed_load"))
        node = ServedNode(f"{backend}-{processes}", directory, **overrides)
        node.migrate()
        run_cli("demo", "--without-neighbourhood", cwd=node.directory)
        members = asyncio.run(create_members(node))
        serve_args = ["--workers", str(processes)] if processes > 1 else []
        stack.enter_context(stopped_on_exit([node]))
        node.start(serve_args=serve_args)
        results = {
            name: run_wrk(name, url, args, get_script(directory, name, headers))
            for name, (url, headers) in _get_targets(node).items()
            if not args.inbox_only
        }
        run_id = uuid.uuid4().hex[:8]
        plan = _inbox_plan(node, senders, members, run_id, args.activities)
        signer = Signer(plan)
        script = directory / "inbox.lua"
        script.write_text(INBOX_LUA)
        # Warm-up, not counted: each web process fetches the senders' keys and fills its caches.
        # Its plain posts are those the mix's edits and deletions name.
        warm = [signer.request(make_post(plan, "post", n)) for n in range(plan.count)]
        warm_file = _write_requests(directory / "warm-up.txt", warm)
        run_wrk(
            "warm-up", plan.shared_inbox_url, args, script, (str(warm_file), str(THREADS)), WARM_UP_SECONDS
        )
        mix_file = _write_requests(directory / "mix.txt", mix_requests(plan, signer))
        results["inbox"] = run_wrk(
            "inbox", plan.shared_inbox_url, args, script, (str(mix_file), str(THREADS))
        )
        node.stop()
        by_kind = asyncio.run(stored_counts(node, run_id, [f"mix_{kind}" for kind in MIX]))
    stored = Stored(sum(s.rows for s in by_kind.values()), sum(s.distinct for s in by_kind.values()))
    exhausted = results["inbox"].requests > args.activities
    return SetupResult(backend, processes, results, exhausted, stored)


def _get_targets(node: ServedNode) -> dict[str, tuple[str, dict[str, str]]]:
    """What wrk GETs, with the headers a remote server sends: {name: (url, headers)}."""
    base, domain = node.base_url, node.base_url.removeprefix("http://")
    activity_json = {"Accept": "application/activity+json"}
    return {
        "healthz": (f"{base}/healthz", {}),
        "actor": (f"{base}/users/{MEMBER}", activity_json),
        "webfinger": (f"{base}/.well-known/webfinger?resource=acct:{MEMBER}@{domain}", {}),
        "outbox": (f"{base}/users/{MEMBER}/outbox?page=1", activity_json),
    }


def _inbox_plan(
    node: ServedNode, senders: list[SenderKey], members: list[Member], run_id: str, mix_count: int
) -> ClientPlan:
    return ClientPlan(
        shared_inbox_url=f"{node.base_url}/inbox",
        senders=senders,
        members=members,
        run_id=run_id,
        count=WARM_UP_ACTIVITIES,  # plain posts sent first
        mix_count=mix_count,
        concurrency=0,  # wrk sends them
        kinds=(),
        receiver_pid=0,
    )


@dataclass(frozen=True)
class Stored:
    rows: int  # activities of the mix stored
    distinct: int  # distinct ids among them


def report(setups: list[SetupResult], args: argparse.Namespace) -> int:
    problems = []
    for setup in setups:
        print(f"{setup.label}:")
        for result in setup.results.values():
            print(result.line())
        inbox = setup.results["inbox"]
        accepted = inbox.requests - inbox.bad_status
        print(
            f"  stored: {setup.stored.rows} activities, {setup.stored.distinct} distinct"
            f" (accepted {accepted})"
        )
        if setup.exhausted:
            problems.append(
                f"{setup.label}: sent all {args.activities} pre-signed activities; raise --activities"
            )
        elif setup.stored.rows != setup.stored.distinct or setup.stored.distinct < accepted - inbox.errors:
            problems.append(f"{setup.label}: accepted {accepted} activities but stored {setup.stored}")
        if any(r.bad_status or r.errors for r in setup.results.values()):
            problems.append(f"{setup.label}: errors or answers outside 2xx/3xx (see above)")
    by_setup = {(s.backend, s.processes): s for s in setups}
    print("inbox throughput against SQLite with one process (the same run):")
    if ("sqlite", 1) not in by_setup:
        print("no SQLite setup with one process to compare with")
        return 1 if problems else 0
    base = by_setup[("sqlite", 1)].results["inbox"].rate
    for setup in setups:
        print(f"  {setup.label:<32} x{setup.results['inbox'].rate / base:.2f}")
    two = by_setup.get(("postgresql", 2))
    met = two is not None and two.results["inbox"].rate >= TARGET_RATIO * base
    print(f"target: PostgreSQL with 2 processes >= {TARGET_RATIO}x SQLite with 1: {verdict(met)}")
    print(f"at the end: {load_line()}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else (0 if met else 2)


def run(args: argparse.Namespace, tmp: Path) -> int:
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (Debian: apt-get install wrk)")
    print("== load: wrk against actor, WebFinger, outbox and the shared inbox")
    print(machine_line())
    print(f"at the start: {args.load_at_start}")
    print(f"wrk: {THREADS} threads, {args.connections} connections, {args.seconds} s per endpoint")
    sender = ServedNode("sender", tmp / "sender")
    sender.migrate()
    senders = asyncio.run(create_senders(sender, 4))
    setups = []
    with stopped_on_exit([sender]):
        sender.start()
        for backend, processes in args.setups:
            setups.append(measure_setup(backend, processes, senders, args, tmp))
    return report(setups, args)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="seconds of wrk per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk's connections (default 32)")
    parser.add_argument(
        "--activities", type=int, default=25_000, help="pre-signed activities per setup (default 25,000)"
    )
    parser.add_argument("--quick", action="store_true", help="3 s per endpoint and 5,000 activities")
    parser.add_argument(
        "--setups",
        type=parse_setups,
        default=SETUPS,
        help="back-ends and web processes to measure, e.g. sqlite:1,postgresql:2 (default: all four)",
    )
    parser.add_argument("--inbox-only", action="store_true", help="measure the inbox alone, not the GETs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (for its logs)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.activities = 3, 5_000
    return args


def parse_setups(text: str) -> tuple[tuple[str, int], ...]:
    """`sqlite:1,postgresql:2` -> (("sqlite", 1), ("postgresql", 2))."""
    setups = []
    for item in text.split(","):
        backend, _, processes = item.strip().partition(":")
        if backend not in ("sqlite", "postgresql") or not processes.isdigit() or int(processes) < 1:
            raise argparse.ArgumentTypeError(f"not a setup: {item!r} (sqlite:1 or postgresql:N)")
        if backend == "sqlite" and processes != "1":
            raise argparse.ArgumentTypeError("SQLite runs with one web process only")
        setups.append((backend, int(processes)))
    return tuple(setups)


def main(argv: list[str] | None = None) -> int:
    return run_in_temp_dir("talentfed-bench-load-", parse_args(argv), run)


if __name__ == "__main__":
    sys.exit(main())
