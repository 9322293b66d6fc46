"""`cli prefect deploy`: apply the plan of `cli prefect plan` (see ``scaffold.ops.plan``).

1. Plan (server reads only): Prefect's own deploy path runs for every selected deployment
   with its writes recorded; each is ``create``, ``update``, ``unchanged`` or, for the
   ``-p`` projects, an ``orphan``. Everything is validated here, before the first write:
   the flow imports and is a flow, parameters fit the flow's schema, the work pool exists,
   schedules are valid, every ``{{ prefect.variables.x }}`` / ``{{ prefect.blocks... }}``
   names something that exists. One problem anywhere: nothing is written, every problem is
   listed, exit 1 (``--keep-going``: the valid ones are applied, still exit 1).
2. Apply: the recorded writes are sent for ``create`` and ``update`` (all with ``--force``);
   ``unchanged`` ones are not written. An update never writes the pause state unless
   ``--pause`` or prefect.yaml's ``paused`` asks for it: a pause made meanwhile (by another
   shell, in the dashboard) stays. ``--prune`` then deletes the orphans (asked first).
3. A lost server stops the command at once (Prefect's client retries bounded by
   ``prefect_compat.bounded_client``); it and Ctrl-C print what was applied and what not.
   Re-running converges: the next plan sees what was written.

A flow file that fails to import fails its deployments only (Prefect would fall back to a
placeholder flow parsed from the source; here the flow must import, as the worker needs).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from scaffold.errors import OperationError, UsageError
from scaffold.ops import api
from scaffold.ops import prefect_compat as compat
from scaffold.ops.plan import Plan, Row, Selection, _compute, print_problems
from scaffold.ops.report import Progress, is_tty, table
from scaffold.repo import Repo

REQUEST_TIMEOUT = 15.0  # seconds per request to the server during deploy
RETRIES = 2  # Prefect's client retries per request (2 s, 4 s back-off); its default 5 = ~1 min


class Declined(OperationError):
    def __init__(self) -> None:
        super().__init__("aborted: nothing written (the plan is above)")


@dataclass
class Outcome:
    project: str
    name: str
    action: str = "not applied"  # created | updated | unchanged | deleted | failed | not applied | invalid
    fields: list[str] = field(default_factory=list)
    paused: bool | None = None
    why: str = ""  # pause state: --pause | prefect.yaml | kept | new
    flow_name: str | None = None
    error: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.action not in ("not applied", "invalid")

    @property
    def state(self) -> str:
        if self.paused is None:
            return ""
        text = "paused" if self.paused else "active"
        return {"--pause": f"{text} (--pause)", "prefect.yaml": f"{text} (prefect.yaml)",
                "kept": f"{text} (kept)"}.get(self.why, text)

    def line(self) -> str:
        if self.error is not None:
            return f"{self.name}: FAILED: {self.error}"
        what = self.action + (f" ({', '.join(self.fields)})" if self.fields else "")
        return f"{self.name}: {what}" + (f", {self.state}" if self.state else "")


def deploy(repo: Repo, sel: Selection, pause: bool = False, force: bool = False,
           prune: bool = False, keep_going: bool = False,
           confirm: Callable[[str], bool] | None = None, stream: TextIO | None = None,
           err: TextIO | None = None) -> list[Outcome]:
    """Plan, validate, apply; prints progress and a summary. OperationError when anything
    failed or was invalid. ``confirm(question)`` is asked before pruning (None: no question;
    the CLI refuses --prune without a terminal or --yes)."""
    stream = sys.stdout if stream is None else stream
    err = sys.stderr if err is None else err
    if not sel.deployments and not (prune and (sel.owner_projects or sel.orphans)):
        names = ", ".join(sel.owner_projects)
        raise UsageError(f"no deployments in prefect.yaml of {names}; add one with "
                         "`cli new-flow` or `cli new-deployment`")
    target = api.resolve_api()
    api.check_reachable(target)
    outcomes: list[Outcome] = []
    plan_box: list[Plan] = []
    try:
        api.run(_deploy(repo, sel, target, pause, force, prune, keep_going, confirm, stream,
                        err, outcomes, plan_box), target)
    except KeyboardInterrupt:
        if not outcomes:
            raise OperationError("interrupted while planning: nothing was written") from None
        _summary(outcomes, target, stream, err, interrupted="interrupted (Ctrl-C)")
        raise OperationError("interrupted: the deployments above marked 'not applied' were "
                             "not written; run the command again to finish") from None
    except OperationError as exc:
        if not outcomes:
            raise
        _summary(outcomes, target, stream, err, interrupted=str(exc))
        raise OperationError("stopped: " + str(exc) + "; run the command again once the "
                             "server answers") from None
    if not outcomes and plan_box and plan_box[0].problems:
        raise OperationError(f"{len({p.deployment for p in plan_box[0].problems})} "
                             "deployment(s) cannot be deployed as configured (listed above); "
                             "nothing was written")
    _summary(outcomes, target, stream, err)
    bad = [o for o in outcomes if not o.ok]
    if bad:
        raise OperationError(f"{len(bad)} of {len(outcomes)} deployments not deployed "
                             "(see above)")
    return outcomes


async def _deploy(repo: Repo, sel: Selection, target: api.ApiTarget, pause: bool, force: bool,
                  prune: bool, keep_going: bool, confirm: Callable[[str], bool] | None,
                  stream: TextIO, err: TextIO, outcomes: list[Outcome],
                  plan_box: list[Plan]) -> None:
    with compat.version_info_once(), compat.bounded_client(REQUEST_TIMEOUT, RETRIES):
        async with api.client_session(target, compat.recording_client_class()) as client:
            try:
                plan = await _compute(repo, sel, target, pause, client, steps=True)
            except Exception as exc:
                if compat.connection_lost(exc):
                    raise OperationError(f"Prefect server at {target.shown} went away while "
                                         f"planning ({api.short_error(exc)}); nothing was "
                                         "written") from None
                raise
            plan_box.append(plan)
            if plan.problems:
                print_problems(plan.problems, err)
                if not keep_going:
                    return
            rows = [r for r in plan.rows if r.action and r.action != "orphan"]
            orphans = [r for r in plan.rows if r.action == "orphan"] if prune else []
            if orphans and confirm is not None and not confirm(_question(orphans, target)):
                raise Declined()
            invalid = [r for r in plan.rows if r.problems]
            for r in invalid:
                outcomes.append(Outcome(r.project, r.name, "invalid", flow_name=r.flow,
                                        error="invalid: " + "; ".join(
                                            f"{p.field}: {p.message}" for p in r.problems)))
            pending = [Outcome(r.project, r.name, flow_name=r.flow) for r in rows]
            pending += [Outcome(r.project, r.name, flow_name=r.flow) for r in orphans]
            outcomes.extend(pending)
            total = len(rows) + len(orphans)
            tty = is_tty(stream) and total > 3
            with Progress(total, "deploying", stream, tty=tty) as progress:
                try:
                    for row, out in zip(rows, pending, strict=False):
                        progress.step(row.name)
                        await _apply_one(client, row, out, pause, force)
                        progress.done(out.line(), out.error is None)
                        if out.error is not None and out.action == "lost":
                            out.action = "failed"
                            raise _Lost(out.error)
                    if orphans:
                        await _prune(client, orphans, pending[len(rows):], progress)
                except _Lost as lost:
                    raise OperationError(f"Prefect server at {target.shown} stopped answering "
                                         f"({lost})") from None
                except asyncio.CancelledError:
                    raise KeyboardInterrupt from None
            for note in plan.notes:
                print(f"note: {note}", file=stream)


class _Lost(Exception):
    pass


async def _apply_one(client, row: Row, out: Outcome, pause: bool, force: bool) -> None:
    started = time.perf_counter()
    out.fields = list(row.fields)
    out.notes = list(row.notes)
    if pause:
        out.why = "--pause"
    elif row.explicit_pause:
        out.why = "prefect.yaml"
    elif row.action == "create":
        out.why = "new"
    else:
        out.why = "kept"
    out.paused = row.paused if row.action != "update" or "paused" not in row.fields else (
        row.changes["paused"][1])
    if row.action == "unchanged" and not force:
        out.action = "unchanged"
        out.seconds = time.perf_counter() - started
        return
    try:
        await compat.apply_calls(client, row.calls, write_pause=row.action == "create"
                                 or row.explicit_pause,
                                 write_triggers=row.action == "create" or force
                                 or row.triggers_changed)
        out.action = "created" if row.action == "create" else "updated"
    except Exception as exc:  # noqa: BLE001 - one deployment fails alone, unless the server is gone
        out.error = api.short_error(exc)
        if compat.connection_lost(exc):
            out.action = "lost"
        else:
            out.action = "failed"
    out.seconds = time.perf_counter() - started


async def _prune(client, orphans: list[Row], outs: list[Outcome], progress: Progress) -> None:
    from scaffold.ops.manage import _bulk_delete

    try:
        deleted = await _bulk_delete(client, [r.server.id for r in orphans])
    except Exception as exc:  # noqa: BLE001 - reported per orphan, unless the server is gone
        if compat.connection_lost(exc):
            raise _Lost(api.short_error(exc)) from None
        deleted, error = set(), api.short_error(exc)
    else:
        error = "the server did not delete it"
    for row, out in zip(orphans, outs, strict=True):
        out.flow_name, out.paused = row.flow, row.paused
        if row.server.id in deleted:
            out.action = "deleted"
        else:
            out.action, out.error = "failed", error
        progress.done(f"{row.flow}/{row.name}: orphan "
                      + ("deleted" if out.error is None else f"FAILED: {out.error}"),
                      out.error is None)


def _question(orphans: list[Row], target: api.ApiTarget) -> str:
    return (f"Delete {len(orphans)} orphaned deployment(s) from {target.shown} (on the server, "
            "no longer in prefect.yaml): "
            + ", ".join(f"{r.flow}/{r.name}" for r in orphans) + "?")


def _summary(outcomes: list[Outcome], target: api.ApiTarget, stream: TextIO,
             err: TextIO, interrupted: str | None = None) -> None:
    rows = [(o.name, o.project, o.flow_name or "",
             "FAILED" if o.error and o.action != "invalid" else o.action,
             ", ".join(o.fields), o.state, f"{o.seconds:.2f}s") for o in outcomes]
    print(file=stream)
    table(("deployment", "project", "flow", "result", "changed", "state", "time"), rows,
          stream=stream)
    counts: dict[str, int] = {}
    for o in outcomes:
        key = "failed" if o.error and o.action not in ("invalid",) else o.action
        counts[key] = counts.get(key, 0) + 1
    order = ("created", "updated", "unchanged", "deleted", "failed", "invalid", "not applied")
    parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
    ok = [o for o in outcomes if o.ok]
    print(f"\n{len(ok)} of {len(outcomes)} deployed to {target.shown}: "
          f"{', '.join(parts) or 'nothing to do'} (dashboard: "
          f"{api.dashboard_url(target.url)}/deployments)", file=stream)
    if interrupted:
        print(f"stopped: {interrupted}", file=stream)
    kept = [o.name for o in outcomes if o.ok and o.why == "kept" and o.paused]
    if kept:
        print(f"note: {len(kept)} deployment(s) are paused on the server and stay paused "
              "(prefect.yaml sets no 'paused'): " + ", ".join(kept)
              + "; resume with: cli prefect deployment resume -d NAME", file=stream)
    notes = sorted({n for o in outcomes if o.ok for n in o.notes})
    for note in notes:  # prefect's own warnings, once each, first sentence
        first, _, rest = note.partition(". ")
        print(f"prefect warning: {first}{'. (...)' if rest else ''}", file=stream)
    stream.flush()
    failed = [o for o in outcomes if o.error]
    if failed:
        print("errors:", file=err)
        for o in failed:
            print(f"  {o.project}/{o.name}: {o.error}", file=err)
        err.flush()
