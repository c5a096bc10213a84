"""Shared fixtures of the Python profile suites.

MOCK_IDP_URL is a running mock-idp started with ../config.yaml (or the file
PROFILES_CONFIG names). Only loopback is ever contacted: an offline guard
refuses every other connection, so an SDK that would phone its provider
fails loudly instead.
"""

import base64
import json
import os
import pathlib
import socket

import pytest
import requests
import yaml

BASE = os.environ.get("MOCK_IDP_URL", "http://127.0.0.1:8081").rstrip("/")
CONFIG = yaml.safe_load(
    pathlib.Path(
        os.environ.get("PROFILES_CONFIG")
        or pathlib.Path(__file__).resolve().parent.parent / "config.yaml"
    ).read_text()
)
TIMEOUT = 10

# --- offline guard -----------------------------------------------------------
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
BLOCKED = []
_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and host not in LOOPBACK:
        BLOCKED.append(host)
        raise OSError(f"offline guard: connection to {host} blocked (tests only talk to 127.0.0.1)")
    return _connect(self, address)


socket.socket.connect = _guarded_connect
_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host not in LOOPBACK and host is not None:
        BLOCKED.append(host)
        raise OSError(f"offline guard: name lookup of {host} blocked")
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _guarded_getaddrinfo


# --- config ------------------------------------------------------------------
def persona(name):
    return CONFIG["users"][name]


def issuer(name):
    return CONFIG["issuers"][name]


def client(issuer_name, pick):
    for c in issuer(issuer_name).get("clients", []):
        if c["client_id"] == pick or pick in c.get("grant_types", []):
            return c
    raise KeyError(f"issuer {issuer_name} has no client {pick}")


def mount(name):
    if issuer(name).get("profile") == "keycloak":
        return f"{BASE}/realms/{name}"
    return f"{BASE}/{name}"


# --- HTTP --------------------------------------------------------------------
def get_json(url):
    r = requests.get(url, timeout=TIMEOUT)
    assert r.status_code == 200, f"GET {url}: {r.status_code} {r.text[:300]}"
    return r.json()


def mint(mount_url, **fields):
    """JSON mint at <mount>/token; returns the access token."""
    r = requests.post(f"{mount_url}/token", json=fields, timeout=TIMEOUT)
    assert r.status_code == 200, f"POST {mount_url}/token {fields}: {r.status_code} {r.text[:300]}"
    return r.json()["access_token"]


def tamper(token):
    """The same token with one character of its signature changed."""
    h, p, s = token.split(".")
    i = len(s) // 2
    c = "B" if s[i] == "A" else "A"
    return f"{h}.{p}.{s[:i]}{c}{s[i + 1:]}"


def peek(token):
    h, p, _ = token.split(".")
    pad = lambda x: x + "=" * (-len(x) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(h))), json.loads(base64.urlsafe_b64decode(pad(p)))


@pytest.fixture(scope="session", autouse=True)
def nothing_left_the_machine():
    yield
    assert BLOCKED == [], f"an SDK tried to reach {BLOCKED}"
