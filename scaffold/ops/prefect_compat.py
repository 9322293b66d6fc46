"""The one seam between scaffold and Prefect's internals (pinned: prefect 3.9.1).

Everything here depends on a name Prefect does not promise to keep (a module or function
whose name starts with ``_``, a client method's exact call sequence, a message text). Nothing
else in ``scaffold/`` may import a private Prefect module (``tests/ops/test_prefect_compat.py``
checks every module's imports with ``ast``). Public Prefect names (``prefect.exceptions``,
``prefect.client.schemas``, ``prefect.flows.load_flow_from_entrypoint``,
``prefect.utilities.templating``) may be used elsewhere in ``scaffold.ops``.

Seams, why each exists, and what to check when upgrading Prefect:

1. ``load_deploy_config`` uses ``prefect.cli.deploy._config._load_deploy_configs_and_actions``
   and ``_format_validation_error`` and ``prefect.cli.deploy._models.PrefectYamlModel``.
   Why: Prefect's own reading of prefect.yaml (its schema, its defaults for build/push/pull
   actions, its merging of ``definitions``), so we deploy what `prefect deploy` would.
   Check: the three names exist with the same signatures; the function still returns
   ``(deploy_configs, actions)``; a schema error is still a pydantic ``ValidationError``.

2. ``run_single_deploy`` calls ``prefect.cli.deploy._core._run_single_deploy``.
   Why: the function `prefect deploy --all` runs for every deployment (templating, variables
   and blocks, schedules, triggers, parameter schema, pull steps, defaults from the flow);
   calling it is how `cli prefect deploy` and `cli prefect plan` can never disagree with
   Prefect about what a deployment is. Check: the keyword arguments (``client``,
   ``prefect_file``, ``console``, ``is_interactive``); that it still ends in
   ``RunnerDeployment.apply`` → ``client.read_deployment_by_name`` then
   ``client.create_deployment(**payload)`` or ``client.update_deployment(id, DeploymentUpdate)``,
   then ``client.delete_resource_owned_automations`` + ``client.create_automation`` for
   triggers (the client subclass below relies on these calls). The parity test
   ``tests/ops/test_ops_deploy.py::test_same_result_as_prefect_deploy`` compares what the
   server stores after `prefect deploy --all` and after `cli prefect deploy`: run it first.

3. ``DeployClient`` and ``RecordingClient``: ``PrefectClient`` subclasses, defined here once.
   ``DeployClient`` overrides seven methods: ``read_deployment_by_name``, ``read_work_pool``,
   ``read_workers_for_work_pool``, ``create_flow_from_name``, ``create_deployment``,
   ``delete_resource_owned_automations`` and ``create_automation``. Why: Prefect's deploy
   path repeats reads per deployment (work pool twice, workers for a hint never printed, the
   flow upsert, the deployment by name): within one command they are asked once.
   ``RecordingClient`` (a DeployClient) also overrides ``update_deployment``,
   ``delete_deployment_schedule`` and ``apply_slas_for_deployment``: while recording, the
   writes of Prefect's path are recorded (``Call``), not sent; ``apply_calls`` sends them
   later, placeholders ids replaced by real ones. That is how `cli prefect plan` compares
   the exact payload Prefect would send, and `cli prefect deploy` sends exactly that, only
   for what changed. Check: the signatures of those methods on
   ``prefect.client.orchestration.PrefectClient``; that Prefect's deploy path still writes
   only through them (a new write method would be sent unrecorded during a plan: the
   plan tests compare the server before and after); that ``get_client()`` inside an
   ``AsyncClientContext`` still returns the context's client (``api.client_session``).

4. ``deploy_path_memo`` patches ``prefect.cli.deploy._core.load_flow_from_entrypoint`` and
   ``parameter_schema`` (also the one ``prefect.deployments.runner`` imported) for one
   command. Why: Prefect re-imports the flow file and builds the flow's parameter schema
   twice for every deployment; with 50 deployments of 10 flows that is most of a plan's
   time. Check: both names are still looked up on those modules at call time.

   ``version_info_once`` patches ``prefect.deployments.runner.get_inferred_version_info``
   (imported there from ``prefect._internal.versioning``).
   Why: Prefect infers each deployment's version from git (up to nine `git` processes per
   deployment); in one command from one checkout the answer is the same. Check: the name is
   still looked up on ``prefect.deployments.runner`` at call time, same signature.

5. ``server_unreachable_reason``: Prefect's client checks the server version first and
   raises a plain ``RuntimeError`` whose *text* says "Failed to reach API" or
   "incompatible versions"; there is no exported type for either. Check: the two texts in
   ``prefect/client/orchestration/__init__.py`` (``raise_for_api_version_mismatch``).

6. ``is_not_found``: ``prefect.exceptions.ObjectNotFound`` (exported, matched by type).
   ``is_missing_work_pool``: Prefect's deploy path turns the work pool's ``ObjectNotFound``
   into a ``ValueError`` with the text "references work pool … which does not exist"; no
   type to match, so the text is matched here. Check both texts in ``_core.py``.

7. ``connection_lost``: which exceptions mean the server went away (httpx transport errors,
   matched by type), so a deploy stops instead of failing each remaining deployment after
   its own time-out; ``bounded_client`` sets Prefect's request time-out and retry count
   (``PREFECT_API_REQUEST_TIMEOUT``, ``PREFECT_CLIENT_MAX_RETRIES``) for one command.
   Check: the setting names; that the client still retries only what those settings bound.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# -- 1. prefect.yaml as Prefect reads it -----------------------------------------------------


def load_deploy_config(prefect_file: Path) -> tuple[list[dict], dict, str | None]:
    """``(deploy configs, actions, problem)``: Prefect's own reading of a prefect.yaml.

    Prefect skips the whole file on a schema error with a warning; here the error is returned
    (Prefect's description of it) so the caller fails that project's deployments.
    """
    import yaml
    from prefect.cli.deploy._config import (
        _format_validation_error,
        _load_deploy_configs_and_actions,
    )
    from prefect.cli.deploy._models import PrefectYamlModel
    from pydantic import ValidationError

    from scaffold.ops.api import short_error

    try:
        raw = yaml.safe_load(prefect_file.read_text(encoding="utf-8")) or {}
        PrefectYamlModel.model_validate(raw)
    except ValidationError as exc:
        return [], {}, "invalid prefect.yaml: " + short_error(
            Exception(_format_validation_error(exc, raw)))
    except (OSError, yaml.YAMLError) as exc:
        return [], {}, f"cannot read prefect.yaml: {short_error(exc)}"
    configs, actions = _load_deploy_configs_and_actions(prefect_file, console=quiet_console())
    return configs, actions, None


def quiet_console() -> Any:
    """A rich console that prints into a string (Prefect's deploy code prints panels)."""
    from rich.console import Console

    return Console(file=io.StringIO(), width=200, no_color=True, force_terminal=False)


# -- 2. Prefect's per-deployment deploy path --------------------------------------------------


async def run_single_deploy(config: dict, actions: dict, client: Any, console: Any) -> None:
    """`prefect deploy`'s own code for one deployment, never interactive, prefect.yaml kept."""
    from prefect.cli.deploy._core import _run_single_deploy

    await _run_single_deploy(config, actions, client=client, prefect_file=Path("prefect.yaml"),
                             console=console, is_interactive=lambda: False)


# -- 3. the client subclasses -----------------------------------------------------------------


def deploy_client_class() -> type:
    """PrefectClient that spares the server the round trips whose answer is already known.

    On the SQLite server every request counts (the deploy is server-bound), and Prefect's
    deploy code repeats some per deployment. Within one command:
    - the work pool (read twice per deployment), its online workers (read for a hint that is
      not printed) and the flow upsert (once per deployment, a write) are asked once;
    - ``read_deployment_by_name`` is answered once from the bulk read made before deploying
      (``seed_deployments``); deployments not in it are asked as usual (create path);
    - ``delete_resource_owned_automations`` is called twice per deployment (by the update and
      again before creating the triggers' automations); the second is skipped when nothing
      was created for that deployment since the first (it would delete nothing), and both
      for a deployment this command has just created (a new id owns nothing).
    What the server ends up with is the same as with one request per call.
    """
    from prefect.client.orchestration import PrefectClient

    class DeployClient(PrefectClient):
        _memo: dict[Any, Any]
        _seeded: dict[str, Any]
        _clean: set[str]  # resources whose owned automations were just deleted

        async def _once(self, key: Any, call: Any) -> Any:
            memo = self.__dict__.setdefault("_memo", {})
            if key not in memo:
                memo[key] = await call()  # errors are not remembered: raised each time
            return memo[key]

        def seed_deployments(self, by_full_name: dict[str, Any]) -> None:
            self._seeded = dict(by_full_name)

        async def read_deployment_by_name(self, name: str) -> Any:
            seeded = self.__dict__.get("_seeded", {})
            if name in seeded:
                return seeded.pop(name)  # once: a later read of it goes to the server
            return await super().read_deployment_by_name(name)

        async def delete_resource_owned_automations(self, resource_id: str) -> None:
            clean = self.__dict__.setdefault("_clean", set())
            if resource_id in clean:
                return  # deleted just before and nothing created since: nothing to delete
            await super().delete_resource_owned_automations(resource_id)
            clean.add(resource_id)

        async def create_deployment(self, *args: Any, **kwargs: Any) -> Any:
            deployment_id = await super().create_deployment(*args, **kwargs)
            self.__dict__.setdefault("_clean", set()).add(f"prefect.deployment.{deployment_id}")
            return deployment_id

        async def create_automation(self, automation: Any) -> Any:
            clean = self.__dict__.setdefault("_clean", set())
            owner = getattr(automation, "owner_resource", None)
            if owner:
                clean.discard(owner)
            else:
                clean.clear()  # cannot tell whose it is: delete for real from now on
            return await super().create_automation(automation)

        async def read_work_pool(self, work_pool_name: str) -> Any:
            parent = super().read_work_pool
            return await self._once(("pool", work_pool_name), lambda: parent(work_pool_name))

        async def read_workers_for_work_pool(self, work_pool_name: str, *args: Any,
                                             **kwargs: Any) -> Any:
            parent = super().read_workers_for_work_pool
            key = ("workers", work_pool_name, repr(args), repr(kwargs))
            return await self._once(key, lambda: parent(work_pool_name, *args, **kwargs))

        async def create_flow_from_name(self, flow_name: str) -> Any:
            parent = super().create_flow_from_name
            return await self._once(("flow", flow_name), lambda: parent(flow_name))

    return DeployClient


@dataclass
class Call:
    """One write of Prefect's deploy path, recorded: ``await client.<name>(*args, **kwargs)``;
    ``result`` is the placeholder id handed back to Prefect (created flow/deployment)."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    result: Any = None


def recording_client_class() -> type:
    """A DeployClient whose writes are recorded (between ``start_recording`` and
    ``stop_recording``) instead of sent; reads go to the server (memoized as in DeployClient).

    While recording, ``read_deployment_by_name`` answers from the seeded bulk read only (a
    name not in it does not exist: ObjectNotFound, no request), and ``create_flow_from_name``
    reads the flow by name (a placeholder id when it does not exist yet).
    """
    from prefect.exceptions import ObjectNotFound

    base = deploy_client_class()

    class RecordingClient(base):  # type: ignore[misc, valid-type]
        _calls: list[Call] | None = None

        def start_recording(self) -> None:
            self._calls = []

        def stop_recording(self) -> list[Call]:
            calls, self._calls = self._calls or [], None
            return calls

        def _record(self, call: Call) -> Any:
            assert self._calls is not None
            self._calls.append(call)
            return call.result

        async def read_deployment_by_name(self, name: str) -> Any:
            if self._calls is None:
                return await super().read_deployment_by_name(name)
            seeded = self.__dict__.get("_seeded", {})
            if name in seeded:
                return seeded[name]
            raise ObjectNotFound(http_exc=None, help_message=f"{name} is not on the server")

        async def create_flow_from_name(self, flow_name: str) -> Any:
            if self._calls is None:
                return await super().create_flow_from_name(flow_name)

            async def read() -> Any:
                try:
                    return (await self.read_flow_by_name(flow_name)).id
                except Exception as exc:
                    if is_not_found(exc):
                        return placeholder_id()
                    raise
            flow_id = await self._once(("flow-read", flow_name), read)
            return self._record(Call("create_flow_from_name", (flow_name,), {}, flow_id))

        async def create_deployment(self, *args: Any, **kwargs: Any) -> Any:
            if self._calls is None:
                return await super().create_deployment(*args, **kwargs)
            return self._record(Call("create_deployment", args, kwargs, placeholder_id()))

        async def update_deployment(self, *args: Any, **kwargs: Any) -> Any:
            if self._calls is None:
                return await super().update_deployment(*args, **kwargs)
            return self._record(Call("update_deployment", args, kwargs))

        async def delete_resource_owned_automations(self, resource_id: str) -> None:
            if self._calls is None:
                return await super().delete_resource_owned_automations(resource_id)
            return self._record(Call("delete_resource_owned_automations", (resource_id,)))

        async def create_automation(self, automation: Any) -> Any:
            if self._calls is None:
                return await super().create_automation(automation)
            return self._record(Call("create_automation", (automation.model_copy(deep=True),),
                                     {}, placeholder_id()))

        async def delete_deployment_schedule(self, *args: Any, **kwargs: Any) -> Any:
            if self._calls is None:
                return await super().delete_deployment_schedule(*args, **kwargs)
            return self._record(Call("delete_deployment_schedule", args, kwargs))

        async def apply_slas_for_deployment(self, *args: Any, **kwargs: Any) -> Any:
            if self._calls is None:
                return await super().apply_slas_for_deployment(*args, **kwargs)
            return self._record(Call("apply_slas_for_deployment", args, kwargs))

    return RecordingClient


def placeholder_id() -> uuid.UUID:
    return uuid.uuid4()


def deployment_payload(calls: list[Call]) -> dict[str, Any] | None:
    """The deployment fields Prefect would send (JSON values), from the recorded calls."""
    for call in calls:
        if call.name == "create_deployment":
            out = {}
            for key, value in call.kwargs.items():
                out[key] = value.model_dump(mode="json") if hasattr(value, "model_dump") else (
                    [v.model_dump(mode="json") if hasattr(v, "model_dump") else v
                     for v in value] if isinstance(value, list) else value)
            return out
        if call.name == "update_deployment":
            update = call.kwargs.get("deployment") or call.args[1]
            out = update.model_dump(mode="json", exclude_unset=True)
            if out.get("schedules") and update.schedules:
                # the schedule itself with its defaults (day_or...), as the server stores it
                out["schedules"] = [
                    {**item.model_dump(mode="json", exclude_unset=True),
                     "schedule": item.schedule.model_dump(mode="json")}
                    for item in update.schedules]
            return out
    return None


def recorded_automations(calls: list[Call]) -> list[Any]:
    return [c.args[0] for c in calls if c.name == "create_automation"]


def _without_pause(update: Any) -> Any:
    """The DeploymentUpdate without ``paused``: the server keeps the state of the moment."""
    fields = {k: getattr(update, k) for k in update.model_fields_set if k != "paused"}
    return type(update).model_construct(_fields_set=set(fields), **fields)


def _swap_ids(model: Any, ids: dict[Any, Any]) -> Any:
    if not ids:
        return model
    text = model.model_dump_json()
    for old, new in ids.items():
        text = text.replace(str(old), str(new))
    return type(model).model_validate_json(text)


async def apply_calls(client: Any, calls: list[Call], write_pause: bool,
                      write_triggers: bool = True) -> Any:
    """Send the recorded writes of one deployment; its id.

    ``write_pause``: False leaves ``paused`` out of an update, so a pause made meanwhile by
    someone else stays. ``write_triggers``: False skips rewriting the deployment's
    trigger automations (they are the same as on the server).
    """
    ids: dict[Any, Any] = {}
    deployment_id = None
    for call in calls:
        args, kwargs = list(call.args), dict(call.kwargs)
        if call.name == "create_flow_from_name":
            ids[call.result] = await client.create_flow_from_name(*args)
        elif call.name == "create_deployment":
            if kwargs.get("flow_id") in ids:
                kwargs["flow_id"] = ids[kwargs["flow_id"]]
            deployment_id = ids[call.result] = await client.create_deployment(*args, **kwargs)
        elif call.name == "update_deployment":
            deployment_id = args[0] if args else kwargs["deployment_id"]
            if not write_pause:
                if "deployment" in kwargs:
                    kwargs["deployment"] = _without_pause(kwargs["deployment"])
                else:
                    args[1] = _without_pause(args[1])
            await client.update_deployment(*args, **kwargs)
        elif call.name in ("delete_resource_owned_automations", "create_automation"):
            if not write_triggers:
                continue
            if call.name == "create_automation":
                await client.create_automation(_swap_ids(args[0], ids))
            else:
                resource = str(args[0])
                for old, new in ids.items():
                    resource = resource.replace(str(old), str(new))
                await client.delete_resource_owned_automations(resource)
        else:  # delete_deployment_schedule, apply_slas_for_deployment
            args = [ids.get(a, a) if isinstance(a, uuid.UUID) else a for a in args]
            await getattr(client, call.name)(*args, **kwargs)
    return deployment_id


# -- 4. the version inferred from git, once per folder -----------------------------------------


@contextlib.contextmanager
def version_info_once() -> Iterator[None]:
    """Prefect infers a deployment's version from git on every deployment (up to nine `git`
    processes each); in one command from one checkout the answer is the same, so it is asked
    once per folder and version type and copied."""
    from prefect.deployments import runner

    original = runner.get_inferred_version_info
    memo: dict[tuple[str, Any], Any] = {}

    async def once(version_type: Any = None) -> Any:
        key = (os.getcwd(), version_type)
        if key not in memo:
            memo[key] = await original(version_type)
        return copy.deepcopy(memo[key])  # prefect sets .version on the object it gets

    runner.get_inferred_version_info = once
    try:
        yield
    finally:
        runner.get_inferred_version_info = original


@contextlib.contextmanager
def deploy_path_memo(load_flow: Any) -> Iterator[None]:
    """Within one command, Prefect's deploy path loads each deployment's flow file again and
    builds the flow's parameter schema twice per deployment (pydantic schema generation, the
    costliest step of a plan). Here the flow comes from ``load_flow(entrypoint)`` (the
    caller's cache, loaded once per entrypoint) and each schema is built once per flow and
    copied (Prefect marks frozen parameters read-only in the copy it gets)."""
    from prefect.cli.deploy import _core
    from prefect.deployments import runner

    memo: dict[int, tuple[Any, Any]] = {}
    original = {"core_load": _core.load_flow_from_entrypoint,
                "core_schema": _core.parameter_schema, "runner_schema": runner.parameter_schema}

    def schema(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return original["core_schema"](fn, *args, **kwargs)
        if id(fn) not in memo:  # the object is kept in the memo: its id stays its own
            memo[id(fn)] = (fn, original["core_schema"](fn))
        return memo[id(fn)][1].model_copy(deep=True)

    def load(entrypoint: str, *args: Any, **kwargs: Any) -> Any:
        return load_flow(entrypoint)

    _core.load_flow_from_entrypoint = load
    _core.parameter_schema = schema
    runner.parameter_schema = schema
    try:
        yield
    finally:
        _core.load_flow_from_entrypoint = original["core_load"]
        _core.parameter_schema = original["core_schema"]
        runner.parameter_schema = original["runner_schema"]


# -- 5.-6. errors ---------------------------------------------------------------------------


def server_unreachable_reason(exc: BaseException) -> str | None:
    """``"not prefect"`` / ``"incompatible"`` for the RuntimeErrors of Prefect's server-version
    check (matched by text: Prefect exports no type for them), None for anything else."""
    if not isinstance(exc, RuntimeError):
        return None
    text = str(exc)
    if "Failed to reach API" in text:
        return "not prefect"
    if "incompatible versions" in text:
        return "incompatible"
    return None


def is_not_found(exc: BaseException) -> bool:
    """ObjectNotFound, or the HTTP 404 some client reads raise as it is (read_flow_by_name)."""
    import httpx
    from prefect.exceptions import ObjectNotFound

    return isinstance(exc, ObjectNotFound) or (
        isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 404)


def is_missing_work_pool(message: str) -> bool:
    """Prefect's deploy path words a missing work pool as a ValueError text (no own type)."""
    return "references work pool" in message and "does not exist" in message


def connection_lost(exc: BaseException) -> bool:
    """The server went away or stopped answering (not: it answered with an error)."""
    import httpx

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx.TransportError):  # connect/read/write errors, time-outs
            return True
        current = current.__cause__ or current.__context__
    return False


@contextlib.contextmanager
def bounded_client(timeout: float, retries: int = 1) -> Iterator[None]:
    """Prefect's client waits at most ``timeout`` per request and retries ``retries`` times
    (its defaults: 60 s and 5 retries with back-off: minutes on a dead server)."""
    from prefect.settings import (
        PREFECT_API_REQUEST_TIMEOUT,
        PREFECT_CLIENT_MAX_RETRIES,
        temporary_settings,
    )

    with temporary_settings(updates={PREFECT_API_REQUEST_TIMEOUT: timeout,
                                     PREFECT_CLIENT_MAX_RETRIES: retries}):
        yield
