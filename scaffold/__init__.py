"""scaffold: generator, naming linter and operations CLI for a Prefect 3 monorepo.

Import nothing heavy here: `cli --help`, `cli new-flow` and `cli lint` must start fast
and must never import prefect.
"""

__version__ = "0.1.0"
