"""libcst codemods used by the autofixes; they change names and nothing else.

Imported only by ``--fix`` / ``--diff``: libcst takes ~0.1 s to import.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, ScopeProvider


def _top_level_def(module: cst.Module, name: str) -> cst.FunctionDef | None:
    """The module-level ``def name`` (also inside module-level if/try/with blocks)."""
    found: list[cst.FunctionDef] = []

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            if node.name.value == name:
                found.append(node)
            return False  # nested functions are not module attributes

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

    module.visit(Finder())
    return found[0] if len(found) == 1 else None


def rename_function(module: cst.Module, old: str, new: str) -> cst.Module | None:
    """Rename the module-level function ``old`` and every use of it in the module.

    Scope analysis decides what a use is: a local variable that happens to be called ``old``
    is left alone. None when ``new`` is already bound at module level (the rename would
    shadow it) or when ``old`` is not a single module-level def.
    """
    wrapper = MetadataWrapper(module)
    scopes = wrapper.resolve(ScopeProvider)
    tree = wrapper.module
    scope = scopes[tree]
    if new in scope or _top_level_def(tree, new) is not None:
        return None
    assignments = list(scope.assignments[old]) if old in scope else []
    defs = [a.node for a in assignments if isinstance(a.node, cst.FunctionDef)]
    if len(assignments) != 1 or len(defs) != 1:
        return None
    target = defs[0]
    uses = {id(access.node) for access in assignments[0].references
            if isinstance(access.node, cst.Name)}

    class Renamer(cst.CSTTransformer):
        def leave_FunctionDef(self, original: cst.FunctionDef,
                              updated: cst.FunctionDef) -> cst.FunctionDef:
            if original is target:
                return updated.with_changes(name=updated.name.with_changes(value=new))
            return updated

        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            if id(original) in uses:
                return updated.with_changes(value=new)
            return updated

    return tree.visit(Renamer())


def set_flow_name(module: cst.Module, function: str, deco_index: int,
                  value: str) -> cst.Module | None:
    """Make decorator ``deco_index`` of module-level ``function`` read ``...(name="value")``.

    ``@flow`` becomes ``@flow(name="value")``; ``@flow(retries=1)`` gets ``name=`` first,
    laid out like the arguments already there; an existing string literal keeps its quotes.
    None when the present name= is not a plain string literal (a variable, an f-string).
    """
    func = _top_level_def(module, function)
    if func is None or deco_index >= len(func.decorators):
        return None
    decorator = func.decorators[deco_index]
    expr = decorator.decorator
    literal = cst.SimpleString(f'"{value}"')
    if not isinstance(expr, cst.Call):
        new_expr: cst.BaseExpression = cst.Call(
            func=expr, args=[cst.Arg(keyword=cst.Name("name"), value=literal,
                                     equal=cst.AssignEqual(cst.SimpleWhitespace(""),
                                                           cst.SimpleWhitespace("")))])
    else:
        args = list(expr.args)
        named = [i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == "name"]
        if named:
            arg = args[named[0]]
            if not isinstance(arg.value, cst.SimpleString) or arg.value.prefix not in ("", "u"):
                return None
            quote = arg.value.quote
            args[named[0]] = arg.with_changes(value=cst.SimpleString(f"{quote}{value}{quote}"))
        else:
            at = sum(1 for a in args if a.keyword is None and not a.star)
            after_paren = expr.whitespace_before_args
            # between the new argument and the next: a newline + indent when the call is
            # laid out one argument a line, else one space
            if isinstance(after_paren, cst.ParenthesizedWhitespace):
                # the line break and indent, not a comment that follows the parenthesis
                between: cst.BaseParenthesizableWhitespace = after_paren.with_changes(
                    first_line=cst.TrailingWhitespace(), empty_lines=[])
            else:
                between = cst.SimpleWhitespace(" ")
            new_arg = cst.Arg(
                keyword=cst.Name("name"), value=literal,
                equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                comma=cst.Comma(whitespace_after=between),
            )
            if at == len(args):  # last: it takes over the trailing comma (or its absence)
                new_arg = new_arg.with_changes(
                    comma=args[-1].comma if args else cst.MaybeSentinel.DEFAULT)
                if args:
                    args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=between))
            args.insert(at, new_arg)
        new_expr = expr.with_changes(args=args)
    new_decorator = decorator.with_changes(decorator=new_expr)
    new_func = func.with_changes(decorators=[
        new_decorator if i == deco_index else d for i, d in enumerate(func.decorators)])
    return module.deep_replace(func, new_func)
