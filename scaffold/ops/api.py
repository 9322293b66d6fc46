"""Which Prefect API the operations use, whether it answers, and the one client they share.

Resolution order of the API URL (the first that is set wins):

1. ``PREFECT_API_URL`` in the environment;
2. ``PREFECT_API_URL`` in the active Prefect profile (``$PREFECT_PROFILES_PATH``, default
   ``$PREFECT_HOME/profiles.toml``; the profile named by ``$PREFECT_PROFILE`` or ``active``);
3. the embedded server of `cli server start`: ``http://127.0.0.1:29020/api``
   (port from ``$SCAFFOLD_SERVER_PORT`` when set).

The URL found is handed to prefect in process and to the `prefect` CLI of the pass-through
commands, so `cli prefect deploy` and `cli prefect deployments ls` always see the same server.

Credentials in the URL (``http://user:secret@host/api``, e.g. a server behind basic auth) are
used as Prefect's client uses them (httpx sends them as basic auth; ``PREFECT_API_AUTH_STRING``
works too) and are never printed: every message shows ``mask_url(...)``
(``http://user:***@host/api``).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import tomllib
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffold.errors import OperationError, UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 29020
ENV_PORT = "SCAFFOLD_SERVER_PORT"
ENV_TIMEOUT = "SCAFFOLD_API_TIMEOUT"  # seconds to wait for the server to answer at start
DEFAULT_TIMEOUT = 3.0



def resolution_help(environ: dict[str, str] | None = None) -> str:
    """How the API URL is found, with the embedded server's port in effect."""
    env = os.environ if environ is None else environ
    try:
        url = embedded_api_url(env)
    except UsageError:
        url = f"(${ENV_PORT}={env.get(ENV_PORT)!r} is not a port number)"
    port = (f"${ENV_PORT}, default {DEFAULT_PORT}" if env.get(ENV_PORT, "").strip()
            else f"${ENV_PORT} to change it")
    return f"""\
The API URL of the operations commands (deploy, pause, resume, delete, status and the
prefect pass-through), first found wins:
  1. PREFECT_API_URL in the environment
  2. PREFECT_API_URL in the active Prefect profile ($PREFECT_HOME/profiles.toml)
  3. the embedded server: {url} ({port})"""

# user:password@ (password masked) or a lone user@ (may be a token: masked whole) in a URL
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@\s:]*)"
                       r"(?P<password>:[^/@\s]*)?@")


def mask_url(text: str) -> str:
    """``text`` (a URL or a message holding URLs) with the credentials of every URL masked:
    ``http://user:secret@host/api`` -> ``http://user:***@host/api``; ``http://token@host`` ->
    ``http://***@host``. The one function every printed URL goes through."""
    def repl(m: re.Match[str]) -> str:
        if m.group("password") is not None:
            return f"{m.group('scheme')}{m.group('user')}:***@"
        return f"{m.group('scheme')}***@"

    return _USERINFO.sub(repl, text)


def split_credentials(url: str) -> tuple[str, str | None]:
    """(URL without userinfo, ``user:password`` or None), percent-decoded as httpx does."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    creds = f"{unquote(user)}{colon}{unquote(password)}"
    return urlunsplit(parts._replace(netloc=host)), creds


def embedded_port(environ: dict[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    raw = env.get(ENV_PORT, "").strip()
    if not raw:
        return DEFAULT_PORT
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise UsageError(f"${ENV_PORT}={raw!r} is not a port number; use e.g. {DEFAULT_PORT}")
    return port


def embedded_api_url(environ: dict[str, str] | None = None) -> str:
    return f"http://{DEFAULT_HOST}:{embedded_port(environ)}/api"


def dashboard_url(api_url: str) -> str:
    """The UI of a server given its API URL (``.../api`` stripped); localhost for loopback;
    without credentials (a browser asks for them)."""
    api_url = split_credentials(api_url)[0]
    base = api_url[: -len("/api")] if api_url.rstrip("/").endswith("/api") else api_url
    return base.rstrip("/").replace(f"//{DEFAULT_HOST}:", "//localhost:")


@dataclass(frozen=True)
class ApiTarget:
    url: str  # as configured, credentials included: for connecting only
    source: str  # where the URL came from, for messages

    @property
    def shown(self) -> str:
        """The URL for messages and output: credentials masked."""
        return mask_url(self.url)


def _profile_api_url(env: dict[str, str]) -> tuple[str, str] | None:
    home = Path(env.get("PREFECT_HOME") or "~/.prefect").expanduser()
    path = Path(env.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # prefect itself reports a broken profiles file; nothing to add here
    name = env.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"
    profile = (data.get("profiles") or {}).get(name) or {}
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    if isinstance(url, str) and url.strip():
        return url.strip(), f"profile {name!r} in {path}"
    return None


def resolve_api(environ: dict[str, str] | None = None) -> ApiTarget:
    """The API URL the operations use (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    url = env.get("PREFECT_API_URL", "").strip()
    if url:
        return ApiTarget(url.rstrip("/"), "PREFECT_API_URL")
    found = _profile_api_url(dict(env))
    if found:
        return ApiTarget(found[0].rstrip("/"), found[1])
    return ApiTarget(embedded_api_url(env), "embedded server (`cli server start`)")


def prefect_env(target: ApiTarget, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a `prefect` subprocess that must talk to ``target``."""
    env = dict(os.environ if environ is None else environ)
    env["PREFECT_API_URL"] = target.url
    return env


NOT_PREFECT = "not a Prefect API"  # start of probe's reason when something else answers
NOT_PREFECT_HINT = "is this a Prefect API? the URL usually ends in /api"


def unreachable_message(target: ApiTarget, reason: str) -> str:
    if reason.startswith(NOT_PREFECT):
        return (f"{target.shown} ({target.source}) answers HTTP but is {reason}; "
                f"{NOT_PREFECT_HINT}")
    hint = ("start it with `cli server start`" if target.source.startswith("embedded")
            else f"check the URL (from {target.source}) or unset it to use the embedded "
                 "server (`cli server start`)")
    return f"Prefect server not reachable at {target.shown} ({reason}); {hint}"


def probe(url: str, timeout: float) -> str | None:
    """None when a Prefect API answers at ``url``, else the reason in a few words.

    A Prefect API answers ``GET <url>/health`` (unauthenticated on the server) with 200 and
    the JSON ``true``. 401/403 count as a Prefect API too (an auth problem is prefect's to
    explain). Anything else that answers HTTP (another web server, the dashboard's pages of a
    URL without /api) gives a reason starting with ``NOT_PREFECT``.
    """
    import http.client
    import json

    # urllib reads `user:secret@host` as a host name ("unknown host"): send the credentials
    # as the basic auth httpx (Prefect's client) makes of them; /health needs none anyway
    bare, creds = split_credentials(url)
    creds = creds or os.environ.get("PREFECT_API_AUTH_STRING") or None
    request = urllib.request.Request(f"{bare}/health")
    if creds:
        token = base64.b64encode(creds.encode("utf-8")).decode("ascii")
        request.add_header("Authorization", f"Basic {token}")
    shown = mask_url(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(64)
    except urllib.error.HTTPError as err:
        if err.code in (401, 403):
            return None
        return f"{NOT_PREFECT}: GET {shown}/health answered HTTP {err.code}"
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused"
        if isinstance(reason, socket.timeout | TimeoutError):
            return f"no answer within {timeout:g} s"
        if isinstance(reason, socket.gaierror):
            return "unknown host"
        return mask_url(str(reason))
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except (OSError, ValueError, http.client.HTTPException) as err:  # e.g. not HTTP at all
        return mask_url(str(err) or type(err).__name__)
    try:
        healthy = json.loads(body) is True
    except ValueError:
        healthy = False
    if not healthy:
        return f"{NOT_PREFECT}: GET {shown}/health did not answer `true`"
    return None


def check_reachable(target: ApiTarget, timeout: float | None = None) -> None:
    """OperationError (one line, exit 1) unless the server answers within ``timeout``."""
    if timeout is None:
        try:
            timeout = float(os.environ.get(ENV_TIMEOUT) or DEFAULT_TIMEOUT)
        except ValueError:
            timeout = DEFAULT_TIMEOUT
    reason = probe(target.url, timeout)
    if reason is not None:
        raise OperationError(unreachable_message(target, reason))


@contextlib.asynccontextmanager
async def client_session(target: ApiTarget, client_class: type | None = None
                         ) -> AsyncIterator[Any]:
    """One PrefectClient for the whole command, also returned by prefect's own ``get_client()``
    (so Prefect's deploy code path reuses it instead of opening a client per call).

    ``client_class``: a PrefectClient subclass to use instead (built as ``get_client`` does).
    """
    from prefect.context import AsyncClientContext
    from prefect.settings import (
        PREFECT_API_AUTH_STRING,
        PREFECT_API_KEY,
        PREFECT_API_URL,
        temporary_settings,
    )

    # Settings, not only os.environ: prefect may already be imported (tests, one process).
    with temporary_settings(updates={PREFECT_API_URL: target.url}):
        if client_class is None:
            ctx = AsyncClientContext()
        else:
            client = client_class(target.url, auth_string=PREFECT_API_AUTH_STRING.value(),
                                  api_key=PREFECT_API_KEY.value())
            ctx = AsyncClientContext.model_construct(client=client)
        async with ctx:
            yield ctx.client


def run(coro: Any, target: ApiTarget) -> Any:
    """``asyncio.run`` for a command: a failure talking to the server (HTTP error, lost
    connection, incompatible server version) is one line and exit 1, not a traceback."""
    import asyncio

    import httpx

    try:
        return asyncio.run(coro)
    except httpx.HTTPError as exc:
        raise OperationError(f"Prefect server at {target.shown}: {short_error(exc)}") from None
    except RuntimeError as exc:
        # prefect's client checks the server's version first (see prefect_compat)
        from scaffold.ops.prefect_compat import server_unreachable_reason

        reason = server_unreachable_reason(exc)
        if reason == "not prefect":
            raise OperationError(f"Prefect server at {target.shown} ({target.source}) did not "
                                 f"answer as a Prefect API; {NOT_PREFECT_HINT}") from None
        if reason != "incompatible":
            raise
        raise OperationError(f"Prefect server at {target.shown}: {short_error(exc)}") from None


def short_error(exc: BaseException) -> str:
    """One line for an exception from prefect or httpx: the server's detail when there is one."""
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            detail = response.json().get("detail")
        except (ValueError, AttributeError):  # not JSON (or not an object): use the text below
            detail = None
        if detail:
            return f"HTTP {response.status_code}: {_one_line(mask_url(str(detail)))}"
    text = str(exc) or type(exc).__name__
    from rich.errors import MarkupError
    from rich.text import Text

    with contextlib.suppress(MarkupError):  # markup that does not parse is shown as it is
        text = Text.from_markup(text).plain  # prefect's messages carry rich markup
    return _one_line(mask_url(text))


def _one_line(text: str) -> str:
    return " ".join(text.split())
