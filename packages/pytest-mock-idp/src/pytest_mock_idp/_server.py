"""Start and stop a mock-idp process, and mint tokens over HTTP.

Standard library only (``subprocess``, ``urllib``), so the plugin adds no
dependency besides pytest. Usable without pytest too::

    with MockIdp.start(config="mock-idp.yaml") as idp:
        token = idp.token("alice")
"""

from __future__ import annotations

import atexit
import collections
import ipaddress
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, Any, Deque, Dict, Iterable, Mapping, Optional, Sequence, Union

#: The line mock-idp prints to stdout once it serves (the real port with ``--port 0``).
_LISTENING = re.compile(r"mock-idp listening on (https?://\S+)")
#: Named issuers live at ``{url}/{name}`` (the contract's "Issuers" section).
_ISSUER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
#: Lines of the process's output kept for error messages.
_TAIL_LINES = 100

PathLike = Union[str, "os.PathLike[str]"]


class MockIdpError(Exception):
    """mock-idp could not be started, or answered an error.

    For an error answer, ``status`` is the HTTP status and ``error`` /
    ``error_description`` are the server's RFC 6749 fields (else ``None``).
    """

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        error: Optional[str] = None,
        error_description: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.error_description = error_description


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Issuer:
    """One issuer of a mock-idp: its root (a :class:`MockIdp`) or a named one.

    ``url`` is the issuer's base URL (no trailing slash); its endpoints are
    below it: ``{url}/token``, ``{url}/.well-known/jwks.json``, ...
    """

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        #: Seconds an HTTP request to mock-idp may take.
        self.timeout = timeout
        handlers = []
        if _is_loopback(self.url):
            # A loopback server is never reached through an HTTP(S)_PROXY.
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    @property
    def jwks_url(self) -> str:
        """The issuer's JWKS: ``{url}/.well-known/jwks.json``."""
        return f"{self.url}/.well-known/jwks.json"

    @property
    def discovery_url(self) -> str:
        """OIDC discovery: ``{url}/.well-known/openid-configuration``."""
        return f"{self.url}/.well-known/openid-configuration"

    @property
    def token_url(self) -> str:
        """The token endpoint: ``{url}/token``."""
        return f"{self.url}/token"

    def token(self, user: Optional[str] = None, **fields: Any) -> str:
        """Mint an access token with ``POST {url}/token`` and return it.

        ``user`` names a persona (from the users file or the config file's
        ``users:``); ``fields`` are the other request fields: ``sub``,
        ``preset``, ``org_id``, ``org_role``, ``org_slug``, ``aud``, ``iss``,
        ``azp``, ``scope``, ``expires_in``, ``claims`` (a dict), ...

        Raises :class:`MockIdpError` with the server's ``error`` and
        ``error_description`` when it does not answer 200.
        """
        __tracebackhide__ = True  # pytest: show the caller's line, not ours
        body: Dict[str, Any] = dict(fields)
        if user is not None:
            body["user"] = user
        answer = self._post_json(self.token_url, body, user)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise MockIdpError(f"mock-idp POST {self.token_url} answered 200 without an access_token")
        return token

    def _post_json(self, url: str, body: Mapping[str, Any], user: Optional[str]) -> Dict[str, Any]:
        __tracebackhide__ = True
        # Errors name the persona, never the rest of the body (it may carry secrets).
        what = f" for user {user!r}" if user is not None else ""
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, text = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise MockIdpError(f"mock-idp POST {url}{what} failed: {reason}") from err
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if status != 200 or not isinstance(answer, dict):
            if isinstance(answer, dict) and isinstance(answer.get("error"), str):
                error, description = answer["error"], answer.get("error_description")
                reason = f"{error}: {description if isinstance(description, str) else '(no description)'}"
            else:
                error, description, reason = None, None, text[:500]
            raise MockIdpError(
                f"mock-idp POST {url}{what} answered {status}: {reason}",
                status=status,
                error=error,
                error_description=description if isinstance(description, str) else None,
            )
        return answer


class _Tail:
    """Reads a pipe to its end in a thread, keeping the last lines."""

    def __init__(self, stream: IO[str], on_line: Optional[Any] = None) -> None:
        self.lines: Deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._stream = stream
        self._on_line = on_line
        self._thread = threading.Thread(target=self._run, name="mock-idp-output", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for line in self._stream:
                self.lines.append(line)
                if self._on_line is not None:
                    self._on_line(line)
        except (OSError, ValueError):  # the pipe was closed under us on stop
            pass
        finally:
            if self._on_line is not None:
                self._on_line(None)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def text(self) -> str:
        return "".join(self.lines).strip()


class MockIdp(Issuer):
    """A mock-idp: its root issuer, named issuers via :meth:`issuer`.

    :meth:`start` runs the binary; ``MockIdp(url)`` uses one that is already
    running. A context manager: leaving the ``with`` block stops a process
    this object started.
    """

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        super().__init__(url, timeout=timeout)
        self._process: Optional[subprocess.Popen] = None
        self._outputs: Sequence[_Tail] = ()

    @property
    def pid(self) -> Optional[int]:
        """The process id of a mock-idp started by :meth:`start`, else ``None``."""
        return self._process.pid if self._process is not None else None

    def issuer(self, name: str) -> Issuer:
        """The named issuer ``name``, served at ``{url}/{name}``.

        Its tokens are signed with its own key: verify them with its own
        ``jwks_url`` (``{url}/{name}/.well-known/jwks.json``). mock-idp creates
        it on first use unless ``DYNAMIC_ISSUERS=false``, in which case it must
        be declared under ``issuers:`` in the config file.
        """
        if not isinstance(name, str) or not _ISSUER_NAME.match(name):
            raise ValueError(
                f"issuer name {name!r}: must match [A-Za-z0-9][A-Za-z0-9._-]{{0,63}}"
            )
        return Issuer(f"{self.url}/{name}", timeout=self.timeout)

    @classmethod
    def start(
        cls,
        *,
        binary: Optional[PathLike] = None,
        config: Optional[PathLike] = None,
        args: Iterable[str] = (),
        env: Optional[Mapping[str, str]] = None,
        start_timeout: float = 15.0,
    ) -> "MockIdp":
        """Start ``mock-idp serve --host 127.0.0.1 --port 0`` and wait until it serves.

        ``binary`` defaults to ``$MOCK_IDP_BIN``, else ``mock-idp`` on PATH;
        ``config`` is passed as ``--config``; ``args`` come last; ``env``
        defaults to this process's environment (so ``USERS_FILE``, ``ISSUER``,
        ... apply). Raises :class:`MockIdpError` with the process's output
        when it cannot be found or exits before serving.
        """
        __tracebackhide__ = True
        environ = dict(os.environ if env is None else env)
        exe = os.fspath(binary) if binary is not None else environ.get("MOCK_IDP_BIN") or _on_path(environ)
        cmd = [exe, "serve", "--host", "127.0.0.1", "--port", "0"]
        if config is not None:
            cmd += ["--config", os.fspath(config)]
        cmd += list(args)
        try:
            process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=environ,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except FileNotFoundError as err:
            raise MockIdpError(
                f"mock-idp binary not found: {exe!r}. Set MOCK_IDP_BIN to its path, put mock-idp on "
                "PATH (cargo install --path . in a mock-idp checkout), or set MOCK_IDP_URL to a "
                "running mock-idp"
            ) from err
        except PermissionError as err:
            raise MockIdpError(f"mock-idp binary {exe!r} is not executable") from err

        found: "queue.Queue[Optional[str]]" = queue.Queue()
        seen = threading.Event()

        def on_stdout(line: Optional[str]) -> None:
            if seen.is_set():
                return
            if line is None:
                seen.set()
                found.put(None)
                return
            match = _LISTENING.search(line)
            if match:
                seen.set()
                found.put(match.group(1))

        # Both pipes are drained for the whole life of the process, so a
        # chatty server never blocks on a full pipe.
        stdout = _Tail(process.stdout, on_stdout)  # type: ignore[arg-type]
        stderr = _Tail(process.stderr)  # type: ignore[arg-type]
        try:
            url = found.get(timeout=start_timeout)
        except queue.Empty:
            url = None
            problem = f"printed no 'mock-idp listening on' line within {start_timeout:g} s"
        else:
            problem = ""
        if url is None:
            _terminate(process, grace=2.0)
            stdout.join(2.0)
            stderr.join(2.0)
            if not problem:
                problem = f"exited before serving (exit code {process.returncode})"
            output = stderr.text() or stdout.text()
            message = f"mock-idp ({' '.join(cmd)}) {problem}"
            raise MockIdpError(f"{message}; its output:\n{output}" if output else message)

        idp = cls(url)
        idp._process = process
        idp._outputs = (stdout, stderr)
        atexit.register(idp.stop)
        return idp

    def stop(self, grace: float = 5.0) -> None:
        """Stop a process started by :meth:`start` (SIGTERM, then SIGKILL after ``grace`` s).

        Does nothing for ``MockIdp(url)`` or when already stopped.
        """
        process, self._process = self._process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        _terminate(process, grace)
        for output in self._outputs:
            output.join(2.0)

    def output(self) -> str:
        """The last lines the started process wrote to stderr (its log), for debugging."""
        return self._outputs[1].text() if len(self._outputs) > 1 else ""

    def __enter__(self) -> "MockIdp":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _on_path(environ: Mapping[str, str]) -> str:
    return shutil.which("mock-idp", path=environ.get("PATH")) or "mock-idp"


def _terminate(process: subprocess.Popen, grace: float) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(grace)
