"""Operations on a Prefect server: deploy, pause, resume, delete, status, the embedded server.

The only package of scaffold that imports prefect, and only inside functions: importing
``scaffold.ops`` (or any module in it) must stay cheap, so `cli --help`, `cli lint` and
`cli new-flow` never pay for prefect's import.

Modules:
    api          which Prefect API the commands talk to, reachability check, one client
    embedded     `cli server start|stop|status`: a local server under <root>/.prefect
    deploy       `cli prefect deploy`: Prefect's own deploy code path, in process
    manage       `cli prefect deployment pause|resume|delete`
    status       `cli status`: config against server
    passthrough  anything else: the real `prefect` CLI
    report       progress lines, progress bar and tables
"""
