"""Benchmark `--changed-since REF` selection on a synthetic git repository, against baselines
measured in the same run.

    .venv/bin/python bench/bench_changes.py [--projects 200] [--flows 10] [--repeat 5] [--keep]

Builds 200 projects x 10 flows in a temporary git repository (each flow imports its
project's ``flows/common.py``, which imports ``flows/util.py``; every flow also imports the
root package ``shared``; each project has a prefect.yaml of 10 entries), commits it, then
measures, each in a fresh process, best of --repeat:

  start-up   `python -c "import scaffold.changes, scaffold.repo"` (what any command pays)
  git        `git status --porcelain` in the repository (the floor of any work-tree diff)
  (a) one changed helper module (projects/p0007/flows/util.py, reached through common.py):
      `affected(repo, "HEAD")` in a process, timed inside it after the imports (git processes
      included): the selection beyond start-up (target <= 0.5 s), also divided by the git
      baseline; start-up samples alternate with these
  (b) one changed prefect.yaml entry
  (c) worst case: the root module every flow imports changed (all 2,000 selected)

Nothing here is asserted: the figures are the result.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}

FLOW = '''"""{flow}: a synthetic flow of {project}."""
from __future__ import annotations

from prefect import flow, task

import common
from shared import clock


@task(retries=2)
def fetch_task(day: str) -> list[dict]:
    return common.rows(day)


@flow(name="{project}__{flow}_flow", log_prints=True)
def {flow}_flow(day: str = "today") -> int:
    rows = fetch_task(day)
    print(clock.now(), len(rows))
    return len(rows)
'''

ENTRY = """- name: {project}__{flow}
  description: Synthetic flow {flow}.
  entrypoint: flows/{flow}.py:{flow}_flow
  parameters:
    day: today
  work_pool:
    name: default-pool
  tags:
  - {project}
"""


def build(root: Path, projects: int, flows: int) -> None:
    (root / "shared").mkdir(parents=True)
    (root / "shared/__init__.py").write_text("")
    (root / "shared/clock.py").write_text("import time\n\ndef now():\n    return time.time()\n")
    for p in range(projects):
        project = f"p{p:04d}"
        folder = root / "projects" / project / "flows"
        folder.mkdir(parents=True)
        (folder / "util.py").write_text("def clean(r):\n    return r\n")
        (folder / "common.py").write_text("from util import clean\n\ndef rows(day):\n"
                                          "    return [clean({'day': day})]\n")
        entries = []
        for f in range(flows):
            flow = f"load_t{f:02d}"
            (folder / f"{flow}.py").write_text(FLOW.format(project=project, flow=flow))
            entries.append(ENTRY.format(project=project, flow=flow))
        (root / "projects" / project / "prefect.yaml").write_text(
            f"name: {project}\npull:\n- prefect.deployments.steps.set_working_directory:\n"
            f"    directory: '{{{{ $SCAFFOLD_ROOT }}}}/projects/{project}'\n"
            "deployments:\n" + "".join(entries))
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True, env=GIT_ENV)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=GIT_ENV)
    subprocess.run(["git", "commit", "-qm", "base"], cwd=root, check=True, env=GIT_ENV)


def best(cmd: list[str], cwd: Path, repeat: int) -> tuple[float, list[float], str]:
    samples, out = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=GIT_ENV,
                              check=False)
        samples.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
        out = proc.stdout
    return min(samples), samples, out


SELECT = ("import sys, time; from scaffold import changes; from scaffold.repo import Repo; "
          "t = time.perf_counter(); s = changes.affected(Repo(sys.argv[1]), 'HEAD'); "
          "print(len(s.deployments), len(s.orphans), f'{time.perf_counter() - t:.4f}')")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--projects", type=int, default=200)
    ap.add_argument("--flows", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-changes-"))
    root = tmp / "repo"
    py = sys.executable
    try:
        t0 = time.perf_counter()
        build(root, args.projects, args.flows)
        print(f"repository: {args.projects} projects x {args.flows} flows, built and committed "
              f"in {time.perf_counter() - t0:.1f} s at {root}; load average "
              f"{os.getloadavg()[0]:.2f}")
        startup, s_samples, _ = best([py, "-c", "import scaffold.changes, scaffold.repo"],
                                     REPO_ROOT, args.repeat)
        gitst, g_samples, _ = best(["git", "status", "--porcelain"], root, args.repeat)
        print(f"start-up   {startup * 1000:7.1f} ms  samples {_ms(s_samples)}")
        print(f"git status {gitst * 1000:7.1f} ms  samples {_ms(g_samples)}")

        def case(label: str, expect: str) -> None:
            # start-up and selection samples alternate, so that load from other work on the
            # machine hits both alike; the selection figure is measured inside the process
            # (after the imports: what start-up does not include), git processes included
            inner, totals, starts = [], [], []
            for _ in range(args.repeat):
                starts.append(best([py, "-c", "import scaffold.changes, scaffold.repo"],
                                   REPO_ROOT, 1)[0])
                total, _, out = best([py, "-c", SELECT, str(root)], REPO_ROOT, 1)
                selected, orphans, seconds = out.split()
                totals.append(total)
                inner.append(float(seconds))
            sel = min(inner)
            print(f"{label}: {selected} selected, {orphans} orphans ({expect})")
            print(f"    selection beyond start-up {sel * 1000:7.1f} ms best, "
                  f"{statistics.median(inner) * 1000:.1f} ms median (target <= 500 ms: "
                  f"{'met' if sel <= 0.5 else 'MISSED'}); {sel / gitst:.1f}x git status; "
                  f"whole process {min(totals) * 1000:.1f} ms vs start-up {min(starts) * 1000:.1f} ms")
            print(f"    samples in-process {_ms(inner)} | process {_ms(totals)} | "
                  f"start-up {_ms(starts)}")

        util = root / "projects/p0007/flows/util.py"
        util.write_text(util.read_text() + "# changed\n")
        case("(a) one changed helper module", f"expected {args.flows}")
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=root, check=True)

        yaml = root / "projects/p0011/prefect.yaml"
        yaml.write_text(yaml.read_text().replace("day: today", "day: yesterday", 1))
        case("(b) one changed prefect.yaml entry", "expected 1")
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=root, check=True)

        clock = root / "shared/clock.py"
        clock.write_text(clock.read_text() + "# changed\n")
        case("(c) root module every flow imports", f"expected {args.projects * args.flows}")
    finally:
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _ms(samples: list[float]) -> str:
    return " ".join(f"{s * 1000:.0f}" for s in samples)


if __name__ == "__main__":
    main()
