"""`new-deployment` of an existing flow: its signature (read by `scaffold.flowfile`, the function
the linter uses too) and the ``--param`` values checked against its annotations (by
`scaffold.annotations`, the check of the linter's PD013: what fits is what Prefect's pydantic
accepts when a run starts)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from scaffold import annotations, flowfile, naming
from scaffold.errors import UsageError
from scaffold.generate import params as P


def read_signature(path: Path, flow: str) -> flowfile.Signature:
    try:
        return flowfile.read_signature(path, naming.flow_function(flow))
    except flowfile.SignatureError as err:
        raise UsageError(f"{err}; fix the flow file first (cli lint shows the details)",
                         path=path) from None


def _fits(check, value: object) -> bool:
    return annotations.fits(check, annotations.value_shape(value))


def check_params(params: list[P.Param], signature: flowfile.Signature, flow: str,
                 path: Path) -> list[P.Param]:
    """``params`` checked against the flow's signature. A value whose type was inferred and does
    not fit is read as text when the text fits (``region=3`` for ``region: str`` is "3")."""
    function = naming.flow_function(flow)
    out = []
    for p in params:
        declared = signature.param(p.key)
        if declared is None:
            if signature.var_kw:
                out.append(p)
                continue
            names = ", ".join(signature.names) or "no parameters"
            raise UsageError(f"--param {P.show(p.raw)}: {function}() has no parameter "
                             f"{p.key!r} (it takes: {names})", path=path)
        check = annotations.compile_annotation(declared.annotation or "")
        if check is None or _fits(check, p.value):
            out.append(p)
            continue
        if p.forced is None and isinstance(p.value, bool | int | float | list | dict) \
                and _fits(check, p.text):
            out.append(dataclasses.replace(p, value=p.text))
            continue
        raise UsageError(f"--param {P.show(p.raw)}: {function}() takes {p.key}: "
                         f"{declared.annotation}, and this value is "
                         f"{annotations.describe(annotations.value_shape(p.value))}; pass a "
                         "value of that type", path=path)
    return out
