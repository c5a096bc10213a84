// The example app's front end: find a token, ask /api/me who we are, show the
// view that matches the org role. No framework, no external assets.
'use strict';

const STORAGE_KEY = 'mock-idp-example.token';

function takeToken() {
  // A test (or a person) can hand a token over as ?token=...; it is moved to
  // localStorage and removed from the address bar.
  const url = new URL(window.location.href);
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) {
    localStorage.setItem(STORAGE_KEY, fromQuery);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromQuery;
  }
  return localStorage.getItem(STORAGE_KEY);
}

function show(id) {
  document.getElementById(id).hidden = false;
}

function setText(selector, text) {
  for (const el of document.querySelectorAll(selector)) el.textContent = text;
}

async function main() {
  const status = document.getElementById('status');
  const token = takeToken();
  if (!token) {
    status.textContent = 'Signed out';
    show('signed-out');
    return;
  }

  let res;
  let body;
  try {
    res = await fetch('/api/me', { headers: { Authorization: `Bearer ${token}` } });
    body = await res.json();
  } catch (err) {
    status.textContent = 'Error';
    setText('[data-testid="error-message"]', `Request failed: ${err}`);
    show('error');
    return;
  }

  if (res.status === 401) {
    status.textContent = 'Unauthorized';
    setText('[data-testid="error-message"]', `401 Unauthorized: ${body.reason || body.error}`);
    show('error');
    return;
  }
  if (!res.ok) {
    status.textContent = 'Error';
    setText('[data-testid="error-message"]', `${res.status}: ${body.reason || body.error}`);
    show('error');
    return;
  }

  const claims = body.claims || {};
  const org = claims.o || {};
  status.textContent = 'Signed in';
  setText('[data-testid="user-name"]', claims.name || claims.sub);
  setText('[data-testid="claims"]', JSON.stringify(claims, null, 2));
  show('claims-box');
  if (org.rol === 'admin') {
    setText('[data-testid="org-slug"]', org.slg || org.id || '(no org)');
    show('admin-view');
  } else {
    setText('[data-testid="org-role"]', org.rol || '(no org)');
    show('member-view');
  }
}

document.getElementById('sign-out').addEventListener('click', () => {
  localStorage.removeItem(STORAGE_KEY);
  window.location.reload();
});

main();
