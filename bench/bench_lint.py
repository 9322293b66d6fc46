"""Benchmark `cli lint` on a synthetic repository, against baselines measured in the same run.

    .venv/bin/python bench/bench_lint.py [--projects 200] [--flows 10] [--repeat 3] [--keep]

Needs the `bench` extra (fixit, the baseline of (d)): .venv/bin/python -m pip install -e '.[bench]'

Builds 200 projects x 10 flows (~40 lines each, 2% of the files with violations, a
prefect.yaml each) in a temporary folder and prints, with ratios and targets:

  (a) cold lint (no cache) vs one process running libcst.parse_module over the flow files
  (b) warm lint (nothing changed) vs a process that only reads the files
  (c) lint after one flow file changed vs `python -c "import libcst"`
  (d) Fixit 2.2 with one rule doing the flow-name check, vs our cold lint; same violations?
  (e) `cli lint --changed-since HEAD` with one changed flow file (cache warm) vs the warm run
      of (b) plus the git calls it makes (rev-parse, diff, ls-files, each timed as a process)

Every lint is the real CLI in a subprocess (`cli lint --root ...`), start-up included. Times
are the best of --repeat runs (the least disturbed by other work on the machine; the load
average is printed). Nothing here is asserted: the figures are the result.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CLI = str(BIN / "cli")
FIXIT = str(BIN / "fixit")
INSTALL_FIXIT = (f"{BIN / 'python'} -m pip install -e '.[bench]'  (fixit 2.2 pins click<8.2: "
                 "keep it out of a venv that should test the newest click)")
VERBS = ["extract", "load", "clean", "enrich", "report", "sync", "score", "merge", "audit",
         "export", "archive", "notify"]
# violations planted in flow files, in turn: (kind, codes our linter reports on that file)
VIOLATIONS = ["name_wrong", "name_missing", "name_other_project", "function_wrong"]


def flow_source(project: str, flow: str, violation: str | None, other_project: str) -> str:
    name = f"{project}__{flow}_flow"
    deco = f'@flow(name="{name}", log_prints=True)'
    func = f"{flow}_flow"
    if violation == "name_wrong":
        deco = f'@flow(name="{project}__{flow}", log_prints=True)'
    elif violation == "name_missing":
        deco = "@flow(log_prints=True)"
    elif violation == "name_other_project":
        deco = f'@flow(name="{other_project}__{flow}_flow", log_prints=True)'
    elif violation == "function_wrong":
        func = flow
    return textwrap.dedent(f'''\
        """{flow}: a synthetic flow of {project}."""
        from __future__ import annotations

        from prefect import flow, task


        @task(retries=2)
        def fetch_task(day: str, limit: int) -> list[dict]:
            """Fetch the rows of one day."""
            rows = [{{"day": day, "n": i}} for i in range(limit)]
            return [row for row in rows if row["n"] % 2 == 0]


        @task
        def store_task(rows: list[dict]) -> int:
            """Store the rows; return how many."""
            total = 0
            for row in rows:
                total += len(row)
            return total


        @flow(name="{project}__{flow}_step_flow")
        def {flow}_step(day: str, limit: int) -> int:
            rows = fetch_task(day, limit)
            return store_task(rows)


        {deco}
        def {func}(day: str = "2024-01-01", limit: int = 100) -> None:
            """Run {flow} for one day."""
            stored = {flow}_step(day, limit)
            print(f"stored {{stored}} rows for {{day}}")


        if __name__ == "__main__":
            {func}()
        ''')


def config_source(project: str, flows: list[str], bad: bool) -> str:
    out = [f"name: {project}", "", "deployments:"]
    for i, flow in enumerate(flows):
        dep = f"{project}__{flow}"
        params = "      day: '2024-01-01'\n      limit: 100"
        if bad and i == 0:
            dep = f"{flow}_deployment"  # PD002
        if bad and i == 1:
            params = "      dday: '2024-01-01'"  # PD007
        out.append(f"  - name: {dep}\n    entrypoint: flows/{flow}.py:{flow}_flow\n"
                   f"    parameters:\n{params}\n    work_pool:\n      name: default\n"
                   f"    tags: [{project}]\n    schedules: []")
    return "\n".join(out) + "\n"


def build(root: Path, n_projects: int, n_flows: int) -> dict:
    (root / "projects").mkdir(parents=True)
    flow_files: list[Path] = []
    planted: dict[str, int] = dict.fromkeys(VIOLATIONS, 0)
    counter = 0
    bad_configs = 0
    for p in range(n_projects):
        project = f"team{p:03d}"
        other = f"team{(p + 1) % n_projects:03d}"
        folder = root / "projects" / project
        (folder / "flows").mkdir(parents=True)
        flows = [f"{VERBS[(p + j) % len(VERBS)]}_{j}" for j in range(n_flows)]
        for flow in flows:
            counter += 1
            violation = None
            if counter % 50 == 0:  # 2%
                violation = VIOLATIONS[(counter // 50) % len(VIOLATIONS)]
                planted[violation] += 1
            path = folder / "flows" / f"{flow}.py"
            path.write_text(flow_source(project, flow, violation, other))
            flow_files.append(path)
        bad = p % 50 == 25  # 2% of the prefect.yaml files
        bad_configs += bad
        (folder / "prefect.yaml").write_text(config_source(project, flows, bad))
    return {"flow_files": flow_files, "planted": planted, "bad_configs": bad_configs}


FIXIT_RULE = '''
from pathlib import Path

import libcst as cst
from fixit import LintRule
from libcst.metadata import FilePathProvider


class FlowNameRule(LintRule):
    """The main flow of projects/<P>/flows/<F>.py has @flow(name="<P>__<F>_flow")."""

    METADATA_DEPENDENCIES = (FilePathProvider,)

    def visit_Module(self, node):
        path = self.get_metadata(FilePathProvider, node)
        self.flow = path.stem
        self.expected = f"{path.parent.parent.name}__{path.stem}_flow"
        flows = [s for s in node.body if isinstance(s, cst.FunctionDef) and any(
            self._is_flow(d.decorator) for d in s.decorators)]
        named = [f for f in flows if f.name.value == f"{self.flow}_flow"]
        self.main = named[0] if named else (flows[0] if len(flows) == 1 else None)

    @staticmethod
    def _is_flow(expr):
        target = expr.func if isinstance(expr, cst.Call) else expr
        return isinstance(target, cst.Name) and target.value == "flow"

    def visit_FunctionDef(self, node):
        if node is not self.main:
            return
        for deco in node.decorators:
            if not self._is_flow(deco.decorator):
                continue
            call = deco.decorator
            args = call.args if isinstance(call, cst.Call) else ()
            name = [a for a in args if a.keyword is not None and a.keyword.value == "name"]
            if not name:
                self.report(deco, f"@flow has no name=; expected {self.expected!r}")
            elif not (isinstance(name[0].value, cst.SimpleString)
                      and name[0].value.evaluated_value == self.expected):
                self.report(name[0], f"flow name must be {self.expected!r}")
'''


def run(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, cwd=cwd)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:3])}... failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def best(times: list[float]) -> float:
    """Best of the runs (timeit's advice: the others measure the machine, not the code)."""
    return min(times)


def verdict(ok: bool) -> str:
    return "target met" if ok else "target missed"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projects", type=int, default=200)
    ap.add_argument("--flows", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the synthetic repository")
    args = ap.parse_args()
    if not os.access(FIXIT, os.X_OK):  # checked first: (d) comes after minutes of (a)-(c)
        sys.exit(f"error: fixit (the baseline of (d)) is not installed in {BIN.parent}; "
                 f"install it with: {INSTALL_FIXIT}")

    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        # every process would compile the package from source (~0.2-0.5 s a start): not
        # what a user's installed package does
        print("note: PYTHONDONTWRITEBYTECODE unset for the measured processes")
    tmp = Path(tempfile.mkdtemp(prefix="bench-lint-"))
    root = tmp / "repo"
    try:
        info = build(root, args.projects, args.flows)
        flows = info["flow_files"]
        n_files = len(flows) + args.projects
        lines = sum(p.read_text().count("\n") for p in flows[:50]) / 50
        print(f"synthetic repository: {args.projects} projects, {len(flows)} flow files "
              f"(~{lines:.0f} lines), {args.projects} prefect.yaml; planted: "
              f"{info['planted']}, {info['bad_configs']} bad prefect.yaml; {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat}")
        lint = [CLI, "--root", str(root), "lint"]
        list_file = tmp / "flows.txt"
        list_file.write_text("\n".join(map(str, flows)))

        # (a) cold
        cold, out = [], ""
        for _ in range(args.repeat):
            shutil.rmtree(root / ".cache", ignore_errors=True)
            t, out = run(lint)
            cold.append(t)
        findings = out.splitlines()
        # the pool decision is automatic (enough files, idle cores); both sides, forced:
        forced: dict[int, list[float]] = {1: [], os.cpu_count() or 1: []}
        for _ in range(args.repeat):
            for jobs, times in forced.items():
                shutil.rmtree(root / ".cache", ignore_errors=True)
                times.append(run(lint, env={**os.environ, "SCAFFOLD_LINT_JOBS": str(jobs)})[0])
        parse = textwrap.dedent(f"""\
            import libcst
            for path in open({str(list_file)!r}).read().split("\\n"):
                with open(path, encoding="utf-8") as fh:
                    libcst.parse_module(fh.read())
            """)
        base_a = [run([sys.executable, "-c", parse])[0] for _ in range(args.repeat)]
        ratio = best(cold) / best(base_a)
        print(f"(a) cold lint {best(cold):.2f} s vs libcst.parse_module of the {len(flows)} flow "
              f"files {best(base_a):.2f} s: {ratio:.2f}x (target <= 1.0x) -> "
              f"{verdict(ratio <= 1.0)}")
        print("    forced: " + ", ".join(f"{jobs} process{'es' if jobs > 1 else ''} "
                                         f"{best(times):.2f} s" for jobs, times in forced.items()))

        # (b) warm
        run(lint)
        warm = [run(lint)[0] for _ in range(args.repeat)]
        read = textwrap.dedent(f"""\
            import os
            root = {str(root / "projects")!r}
            for project in os.listdir(root):
                with open(os.path.join(root, project, "prefect.yaml"), "rb") as fh:
                    fh.read()
                folder = os.path.join(root, project, "flows")
                for name in os.listdir(folder):
                    with open(os.path.join(folder, name), "rb") as fh:
                        fh.read()
            """)
        base_b = [run([sys.executable, "-c", read])[0] for _ in range(args.repeat)]
        ratio = best(warm) / best(base_b)
        print(f"(b) warm lint, nothing changed {best(warm):.3f} s (target < 0.5 s) -> "
              f"{verdict(best(warm) < 0.5)}; {ratio:.1f}x a process that reads the "
              f"{n_files} files ({best(base_b):.3f} s)")

        # (c) one flow file changed
        changed = []
        target = flows[len(flows) // 2]
        original = target.read_text()
        for i in range(args.repeat):
            target.write_text(original + f"# edit {i}\n")
            changed.append(run(lint)[0])
        target.write_text(original)
        base_c = [run([sys.executable, "-c", "import libcst"])[0] for _ in range(args.repeat)]
        ratio = best(changed) / best(base_c)
        print(f"(c) one flow file changed {best(changed):.3f} s vs `python -c \"import libcst\"` "
              f"{best(base_c):.3f} s: {ratio:.2f}x (target <= 2x) -> {verdict(ratio <= 2)}")

        # (e) --changed-since with one changed file, in a git repository
        git = ["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=b@b"]
        run([*git, "init", "-q"])
        run([*git, "add", "-A"])
        run([*git, "commit", "-qm", "bench"])
        target.write_text(original + "# changed since HEAD\n")
        since = [*lint, "--changed-since", "HEAD"]
        first, _ = run(since)  # the changed file is parsed once
        t_since = [run(since)[0] for _ in range(args.repeat)]
        git_calls = [
            sum(run([*git, *cmd])[0] for cmd in (
                ["rev-parse", "--show-toplevel", "HEAD"], ["merge-base", "HEAD", "HEAD"],
                ["diff", "--name-only", "-z", "HEAD"],
                ["ls-files", "-z", "--others", "--exclude-standard"]))
            for _ in range(args.repeat)]
        budget = best(warm) + best(git_calls)
        ratio = best(t_since) / budget
        print(f"(e) --changed-since HEAD, one file changed: {best(t_since):.3f} s (first run, "
              f"the file parsed: {first:.3f} s) vs warm {best(warm):.3f} s + git "
              f"{best(git_calls):.3f} s = {budget:.3f} s: {ratio:.2f}x (target <= 1.0x) -> "
              f"{verdict(ratio <= 1.0)}")
        target.write_text(original)

        # (d) Fixit with one rule
        rules = tmp / "rules"
        rules.mkdir()
        (rules / "bench_flow_name.py").write_text(FIXIT_RULE)
        env = {**os.environ, "PYTHONPATH": str(rules)}
        t_fixit, fixit_out = run([FIXIT, "--rules", "bench_flow_name:FlowNameRule", "lint",
                                  str(root / "projects")], env=env, cwd=tmp)
        fixit_found = sum(1 for line in fixit_out.splitlines() if "FlowName" in line)
        ours = sum(1 for line in findings if " PF004 " in line or " PF005 " in line)
        expected = (info["planted"]["name_wrong"] + info["planted"]["name_missing"]
                    + info["planted"]["name_other_project"])
        ratio = best(cold) / t_fixit
        print(f"(d) Fixit 2.2, one flow-name rule: {t_fixit:.2f} s vs our cold lint "
              f"{best(cold):.2f} s: {ratio:.3f}x -> {verdict(ratio < 1)}; flow-name "
              f"violations: fixit {fixit_found}, ours (PF004+PF005) {ours}, planted {expected} "
              f"-> {verdict(fixit_found == ours == expected)}")
        print(f"    our full report: {len(findings)} findings "
              f"({', '.join(sorted({line.split()[1] for line in findings}))})")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
