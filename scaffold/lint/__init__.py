"""The naming linter: `cli lint` checks the monorepo's conventions across all projects.

Pipeline (data flows one way)::

    discover files -> read + hash -> cached summary, or parse (ast / YAML) into a summary
                   -> file rules on each summary (cached with it)
                   -> cross-file rules on the index of all summaries
                   -> noqa / select / path filters -> report, or fix (libcst / yamledit) and repeat

Checking uses the stdlib ``ast`` (about ten times faster than libcst); libcst is imported only
by ``--fix`` and ``--diff``, to rewrite a file without touching its formatting. prefect is
never imported.
"""
