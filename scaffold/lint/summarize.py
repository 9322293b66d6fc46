"""Parse one file into its summary: the only place that reads Python or YAML syntax.

Flow files are summarized by ``scaffold.flowfile`` (stdlib ``ast``, shared with the
generator); prefect.yaml with PyYAML's C loader via ``scaffold.repo.compose``. A file
that cannot be read or parsed gives a summary with an ``error`` instead of an exception.
"""

from __future__ import annotations

from scaffold import flowfile
from scaffold.errors import UsageError
from scaffold.flowfile import FileError, FlowSummary, Pos, decode
from scaffold.lint import noqa
from scaffold.lint.model import ConfigSummary, DeploymentSummary, NotScalar


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
    import yaml

    from scaffold.repo import _mapping_items, compose

    summary = ConfigSummary(path, project)
    text, error = decode(data)
    if error is not None:
        summary.error = error
        return summary
    summary.noqa = noqa.parse_yaml(text)

    def pos(node: yaml.Node) -> Pos:
        return Pos(node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(node: yaml.Node | None, message: str) -> ConfigSummary:
        line, col = pos(node) if node is not None else (1, 1)
        summary.error = FileError("yaml", line, col, message)
        return summary

    try:
        root, value = compose(text, path)
    except UsageError as err:
        summary.error = FileError("yaml", err.line or 1, 1, err.message)
        return summary
    except (RecursionError, MemoryError, ValueError) as err:
        return fail(None, f"cannot read the YAML: {err}")
    if root is None:
        return summary  # an empty file: no name, no deployments (reported by the rules)
    if not isinstance(root, yaml.MappingNode) or not isinstance(value, dict):
        return fail(root, "prefect.yaml must be a mapping of keys (name, deployments, ...), "
                          f"not a {type(value).__name__}")
    deployments_node = None
    for key, node in _mapping_items(root):
        if isinstance(key, yaml.ScalarNode):
            if key.value == "name":
                summary.has_name, summary.name_pos = True, pos(node)
                summary.name = _plain(value.get("name"))
            elif key.value == "deployments":
                deployments_node = node
    items = value.get("deployments")
    if items is None:
        return summary
    if not isinstance(items, list) or not isinstance(deployments_node, yaml.SequenceNode):
        return fail(deployments_node, "'deployments' must be a list of entries "
                                      f"('- name: ...'), not a {type(items).__name__}")
    for index, (item, node) in enumerate(zip(items, deployments_node.value)):
        if not isinstance(item, dict) or not isinstance(node, yaml.MappingNode):
            return fail(node, f"deployment #{index + 1} must be a mapping with 'name' and "
                              f"'entrypoint', not a {type(item).__name__}")
        pairs = {k.value: (k, v) for k, v in _mapping_items(node) if isinstance(k, yaml.ScalarNode)}
        marks = {k: v for k, (_, v) in pairs.items()}
        ep_key, ep_node = pairs.get("entrypoint", (None, None))
        editable = (ep_key is not None and isinstance(ep_node, yaml.ScalarNode)
                    and ep_key.start_mark.index >= node.start_mark.index
                    and ep_node.start_mark.index >= ep_key.end_mark.index)
        params = item.get("parameters")
        params_node = marks.get("parameters")
        keys: tuple = ()
        if params is None:
            params_kind = "none"
        elif isinstance(params, dict) and isinstance(params_node, yaml.MappingNode):
            params_kind = "mapping"
            keys = tuple((str(k.value), pos(k)) for k, _ in _mapping_items(params_node)
                         if isinstance(k, yaml.ScalarNode))
        else:
            params_kind = "other"
        summary.deployments.append(DeploymentSummary(
            index=index, pos=pos(node),
            name=_plain(item.get("name")),
            name_pos=pos(marks["name"]) if "name" in marks else None,
            entrypoint=_plain(item.get("entrypoint")),
            entrypoint_pos=pos(marks["entrypoint"]) if "entrypoint" in marks else None,
            params_kind=params_kind, params=keys,
            params_pos=pos(params_node) if params_node is not None else None,
            entrypoint_editable=editable,
        ))
    return summary


def _plain(value: object) -> object:
    """Scalars as they are; a collection as a marker of its type (summaries stay small)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return NotScalar(type(value).__name__)
