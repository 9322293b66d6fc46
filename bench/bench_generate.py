"""Benchmark of the generator against baselines measured in the same run.

    .venv/bin/python bench/bench_generate.py [--repeat 7] [--deployments 1000]

(a) `cli new-flow demo f<i> --param season=winter` end to end (a subprocess, start-up
    included, a fresh flow name each repeat, in a scratch repository where `cli new-project
    demo` was run first) against `python -c "import copier"`. Target: at most 1.5x.
(c) `cli new-flow` (whole process) into a project whose prefect.yaml holds --deployments entries
    against `cli new-flow` into a new project (made by `cli new-project`, no deployments), both
    in one repository, a fresh flow name each repeat. Target: at most 1.3x (issue 8 §1: the
    command reads and parses the prefect.yaml once).
(b) appending one deployment to a prefect.yaml of --deployments entries with
    scaffold.yamledit.insert_deployments (its verification included) against a ruamel.yaml
    round trip (YAML() load, dump to a StringIO) of the same file. Target: at least 5x faster.

Times are medians of --repeat runs, ours and the baseline's interleaved so that other load on
the machine weighs on both alike. Nothing is asserted: the figures are the result.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

BIN = Path(sys.executable).parent
CLI = str(BIN / "cli")
HEADER = """\
# Welcome to your prefect.yaml file!
name: bench
prefect-version: 3.9.1

build: null
push: null

pull:
- prefect.deployments.steps.set_working_directory:
    directory: '{{ $SCAFFOLD_ROOT }}/projects/bench'

# the deployments section allows you to provide configuration for deploying flows
deployments:
"""
ENTRY = """\
- name: bench__flow{i}__{season}
  description: Flow {i} of the benchmark, for the {season} season.
  entrypoint: flows/flow{i}.py:flow{i}_flow
  parameters:
    season: {season}
    days: {i}
    tables: [orders, customers]
  work_pool:
    name: default-pool
    job_variables: {{}}
  schedules:
  - cron: "0 {hour} * * *"
    timezone: Europe/Paris
  tags:
  - bench
"""
FOOTER = """\

# Instructions for new deployments
#
# - name: bench__<FLOW_NAME>
#   entrypoint: flows/<FLOW_NAME>.py:<FLOW_NAME>_flow
#   parameters: {}
"""
SEASONS = ["winter", "spring", "summer", "autumn"]


def big_config(n: int) -> str:
    body = "".join(ENTRY.format(i=i, season=SEASONS[i % 4], hour=i % 24) for i in range(n))
    return HEADER + body + FOOTER


def paired_medians(ours: Callable[[], object], base: Callable[[], object],
                   repeat: int) -> tuple[float, float]:
    """Median times of both, runs interleaved so that a busy machine slows both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for func, out in ((ours, times[0]), (base, times[1])):
            start = time.perf_counter()
            func()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def row(label: str, ours: float, base: float, base_label: str, verdict: str) -> str:
    return (f"{label:<44} {ours * 1000:9.1f} ms  {base_label:<30} {base * 1000:9.1f} ms  "
            f"{verdict}")


def bench_insert(n: int, repeat: int) -> str:
    from ruamel.yaml import YAML

    from scaffold.yamledit import insert_deployments

    text = big_config(n)
    entry = {"name": "bench__new__winter", "description": "The new one.",
             "entrypoint": "flows/new.py:new_flow", "parameters": {"season": "winter"},
             "work_pool": {"name": "default-pool"}, "schedules": [], "tags": ["bench"]}
    out = insert_deployments(text, [entry])  # warm-up, and a check that it is a real append
    assert out.count("\n- name: ") == n + 1 and out.endswith(FOOTER)

    def ruamel_round_trip() -> None:
        yaml = YAML()
        data = yaml.load(text)
        yaml.dump(data, io.StringIO())

    ours, base = paired_medians(lambda: insert_deployments(text, [entry]), ruamel_round_trip,
                                repeat)
    ratio = base / ours
    verdict = f"{ratio:5.1f}x faster (target >= 5x: {'target met' if ratio >= 5 else 'target missed'})"
    return row(f"(b) insert 1 entry into {n} deployments", ours, base, "ruamel.yaml load+dump",
               verdict)


@contextlib.contextmanager
def scratch_repo(prefix: str) -> Iterator[tuple[Path, Callable[..., None]]]:
    """An empty monorepo in a temporary folder (removed afterwards) and a function running a
    command in it with a private PREFECT_HOME."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    env = {**os.environ, "PREFECT_HOME": str(scratch / ".prefect"), "DO_NOT_TRACK": "1"}
    env.pop("SCAFFOLD_ROOT", None)
    repo = scratch / "repo"
    (repo / "projects").mkdir(parents=True)

    def run(*args: str) -> None:
        subprocess.run(args, cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    try:
        yield repo, run
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def bench_new_flow(repeat: int) -> str:
    with scratch_repo("bench-generate-") as (repo, run):
        try:
            run(CLI, "new-project", "demo")
            run(CLI, "new-flow", "demo", "warmup", "--param", "season=winter")
        except subprocess.CalledProcessError as err:
            message = (err.stderr or b"").decode(errors="replace").strip().splitlines()
            return f"(a) cli new-flow: not working yet ({message[-1] if message else err})"
        counter = iter(range(10**6))
        ours, base = paired_medians(
            lambda: run(CLI, "new-flow", "demo", f"f{next(counter)}", "--param", "season=winter"),
            lambda: run(sys.executable, "-c", "import copier"), repeat)
        flows = sorted(p.name for p in (repo / "projects" / "demo" / "flows").glob("f*.py"))
        assert len(flows) == repeat, flows  # every run really made a flow
        ratio = ours / base
        verdict = (f"{ratio:5.2f}x the baseline (target <= 1.5x: "
                   f"{'target met' if ratio <= 1.5 else 'target missed'})")
        return row("(a) cli new-flow end to end", ours, base, 'python -c "import copier"', verdict)


def bench_big_project(n: int, repeat: int) -> str:
    with scratch_repo("bench-generate-big-") as (repo, run):
        run(CLI, "new-project", "bench")
        config = repo / "projects" / "bench" / "prefect.yaml"
        template = config.read_text(encoding="utf-8")
        body = "".join(ENTRY.format(i=i, season=SEASONS[i % 4], hour=i % 24) for i in range(n))
        config.write_text(template.replace("deployments: []\n", "deployments:\n" + body, 1),
                          encoding="utf-8")
        for i in range(repeat + 1):
            run(CLI, "new-project", f"fresh{i}")
        run(CLI, "new-flow", "bench", "warmup")  # warm the file cache for both sides
        run(CLI, "new-flow", f"fresh{repeat}", "warmup")
        big, fresh = iter(range(10**6)), iter(range(10**6))
        ours, base = paired_medians(
            lambda: run(CLI, "new-flow", "bench", f"g{next(big)}", "--param", "season=winter"),
            lambda: run(CLI, "new-flow", f"fresh{next(fresh)}", "g", "--param", "season=winter"),
            repeat)
        assert config.read_text(encoding="utf-8").count("\n- name: ") == n + 1 + repeat
        ratio = ours / base
        verdict = (f"{ratio:5.2f}x the baseline (target <= 1.3x: "
                   f"{'target met' if ratio <= 1.3 else 'target missed'})")
        return row(f"(c) cli new-flow into {n} deployments", ours, base,
                   "cli new-flow into a new project", verdict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--deployments", type=int, default=1000)
    args = parser.parse_args()
    print(f"bench_generate: median of {args.repeat} runs, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'case':<44} {'ours':>12}  {'baseline':<30} {'':>12}  result")
    print(bench_new_flow(args.repeat))
    print(bench_big_project(args.deployments, args.repeat))
    print(bench_insert(args.deployments, args.repeat))


if __name__ == "__main__":
    main()
