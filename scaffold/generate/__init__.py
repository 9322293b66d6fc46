"""The generator: `cli new-project`, `cli new-flow`, `cli new-deployment`.

Flow files and projects are rendered from the copier templates in ``templates/``; deployment
entries are spliced into prefect.yaml by `scaffold.yamledit` without touching existing bytes.
"""
