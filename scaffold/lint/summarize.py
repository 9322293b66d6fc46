"""Parse one file into its summary: the only place that reads Python or YAML syntax.

Flow files are summarized by ``scaffold.flowfile`` (stdlib ``ast``, shared with the
generator); prefect.yaml with ``scaffold.prefect_yaml.load`` (the one loader and shape check). A file
that cannot be read or parsed gives a summary with an ``error`` instead of an exception.
"""

from __future__ import annotations

from scaffold import flowfile
from scaffold.errors import UsageError
from scaffold.flowfile import FileError, FlowSummary, Pos, decode
from scaffold.lint import noqa
from scaffold.lint.model import (
    ConfigSummary,
    DeploymentSummary,
    DuplicateKey,
    NotScalar,
    ParamValue,
    ScheduleItem,
    value_shape,
)


def summarize_flow(path: str, project: str, flow: str, data: bytes) -> FlowSummary:
    """The shared ast summary (``scaffold.flowfile``) with the file's noqa comments."""
    text, error = decode(data)
    if text is None:
        return FlowSummary(path, project, flow, error=error)
    summary = flowfile.summarize_text(path, project, flow, text)
    # also in a file that does not parse: a noqa can suppress its PE001
    summary.noqa = noqa.parse_python(text)
    return summary


# -- prefect.yaml -----------------------------------------------------------------------------


def summarize_config(path: str, project: str, data: bytes) -> ConfigSummary:
    from scaffold import prefect_yaml

    summary = ConfigSummary(path, project)
    text, error = decode(data)
    if error is not None:
        summary.error = error
        return summary
    summary.noqa = noqa.parse_yaml(text)

    def pos(mark: tuple[int, int]) -> Pos:
        return Pos(*mark)

    try:
        doc = prefect_yaml.load(text, path)  # the one loader and shape check
    except UsageError as err:
        summary.error = FileError("yaml", err.line or 1, getattr(err, "column", 1), err.message)
        return summary
    except (MemoryError, ValueError) as err:
        summary.error = FileError("yaml", 1, 1, f"cannot read the YAML: {err}")
        return summary
    name = doc.keys.get("name")
    if name is not None:
        summary.has_name, summary.name_pos = True, pos(name.value_mark)
        summary.name = _plain(doc.data.get("name"))
    for item in doc.items:
        marks = item.keys
        ep = marks.get("entrypoint")
        params = item.data.get("parameters")
        params_key = marks.get("parameters")
        keys: tuple = ()
        if params is None:
            params_kind = "none"
        elif isinstance(params, dict) and params_key is not None \
                and params_key.value.id == "mapping":
            params_kind = "mapping"
            keys = tuple((str(k.name), pos(k.key_mark))
                         for k in prefect_yaml.pairs(params_key.value) if k.name is not None)
        else:
            params_kind = "other"
        summary.deployments.append(DeploymentSummary(
            index=item.index, pos=Pos(item.line, item.column),
            name=_plain(item.data.get("name")),
            name_pos=pos(marks["name"].value_mark) if "name" in marks else None,
            entrypoint=_plain(item.data.get("entrypoint")),
            entrypoint_pos=pos(ep.value_mark) if ep is not None else None,
            params_kind=params_kind, params=keys,
            params_pos=pos(params_key.mark) if params_key is not None else None,
            entrypoint_editable=item.editable("entrypoint"),
            param_values=_param_values(params, params_key) if params_kind == "mapping" else (),
            **_schedules(item),
        ))
    summary.duplicates = tuple(DuplicateKey(Pos(line, col), key, first)
                               for line, col, key, first in doc.duplicates)
    return summary


def _param_values(params: dict, params_key) -> tuple[ParamValue, ...]:
    """Each parameter with its loaded value and where that value is written (PD013)."""
    from scaffold import prefect_yaml

    out = []
    for name, key in prefect_yaml.keys(params_key.value).items():
        if name not in params:
            continue
        # how the entry gets the value: an alias, or a '<<' merge (of the parameters or of the
        # whole entry, as in `- <<: *defaults`)
        via = ("alias" if params_key.alias or key.alias
               else "" if key.own and params_key.own else "merge")
        out.append(ParamValue(str(name), Pos(*key.mark), value_shape(params[name]), via))
    return tuple(out)


def _schedules(item) -> dict:
    """The schedule items of a deployment, each with the marks of its keys (PD008-PD012)."""
    from scaffold import prefect_yaml

    def one(data: object, node, key: str) -> ScheduleItem:
        at = Pos(node.start_mark.line + 1, node.start_mark.column + 1)
        if not isinstance(data, dict) or node.id != "mapping":
            return ScheduleItem(at, key, value_shape(data))
        marks = prefect_yaml.keys(node)
        return ScheduleItem(at, key, {str(k): value_shape(v) for k, v in data.items()},
                            tuple((str(k), Pos(*m.mark)) for k, m in marks.items()))

    found: list[ScheduleItem] = []
    out: dict = {}
    listed, listed_key = item.data.get("schedules"), item.keys.get("schedules")
    if listed_key is not None:
        out["schedules_pos"] = Pos(*listed_key.key_mark)
        node = listed_key.value
        if isinstance(listed, list) and node.id == "sequence":
            found.extend(one(d, n, "schedules") for d, n in zip(listed, node.value))
        elif listed is not None:
            found.append(ScheduleItem(Pos(*listed_key.mark), "schedules", value_shape(listed),
                                      listed=False))
    legacy, legacy_key = item.data.get("schedule"), item.keys.get("schedule")
    if legacy and legacy_key is not None:  # Prefect ignores an empty one
        out["legacy_schedule_pos"] = Pos(*legacy_key.key_mark)
        found.append(one(legacy, legacy_key.value, "schedule"))
    out["schedules"] = tuple(found)
    return out


def _plain(value: object) -> object:
    """Scalars as they are; a collection as a marker of its type (summaries stay small)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return NotScalar(type(value).__name__)
