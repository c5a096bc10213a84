// mock-idp workbench: mint, decode, verify, and an OIDC code + PKCE debugger.
// Served from the binary as a separate file, so the page's
// Content-Security-Policy needs no 'unsafe-inline'. No dependencies, no
// requests to any origin but this one. See docs/workbench.md.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($('wb-data').textContent);
  const features = data.features || {};
  const enc = new TextEncoder();
  const dec = new TextDecoder('utf-8', { fatal: true });
  const subtle = window.crypto && window.crypto.subtle; // absent outside secure contexts

  for (const el of document.querySelectorAll('[data-js-only]')) el.hidden = false;
  for (const el of document.querySelectorAll('[data-no-js]')) el.remove();

  // ---------------------------------------------------------------- helpers

  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  };
  const pretty = (v) => JSON.stringify(v, null, 2);
  const now = () => Math.floor(Date.now() / 1000);

  function status(message, bad) {
    const s = $('status');
    s.textContent = message;
    s.classList.toggle('bad', !!bad);
  }

  function b64urlDecode(s) {
    if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('is not base64url');
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function b64urlEncode(bytes) {
    let bin = '';
    for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function decodePart(part, what) {
    let text;
    try {
      text = dec.decode(b64urlDecode(part));
    } catch (e) {
      throw new Error(`the ${what} ${e.message === 'is not base64url' ? 'is not base64url' : 'is not UTF-8'}`);
    }
    let value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Error(`the ${what} is not JSON`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`the ${what} is not a JSON object`);
    return value;
  }
  /** Splits and decodes a compact JWS; throws an Error saying what is malformed. */
  function decodeJwt(token) {
    const parts = token.trim().split('.');
    if (parts.length !== 3) throw new Error(`a JWT has 3 parts separated by dots; this has ${parts.length}`);
    return { parts, header: decodePart(parts[0], 'header'), payload: decodePart(parts[1], 'payload') };
  }

  function duration(seconds) {
    const s = Math.abs(Math.trunc(seconds));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const pad = (n) => String(n).padStart(2, '0');
    if (d > 0) return `${d} d ${h} h ${pad(m)} min`;
    if (h > 0) return `${h} h ${pad(m)} min ${pad(r)} s`;
    return `${m}:${pad(r)}`;
  }
  const isoTime = (unix) => {
    const d = new Date(unix * 1000);
    return Number.isNaN(d.getTime()) ? String(unix) : d.toISOString().replace('.000Z', 'Z');
  };
  const relative = (unix) => {
    const delta = unix - now();
    if (delta === 0) return 'now';
    return delta > 0 ? `in ${duration(delta)}` : `${duration(delta)} ago`;
  };
  const shellQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

  async function copyText(text, what) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      // No clipboard API (not a secure context) or no permission: the old way.
      const t = el('textarea', { class: 'offscreen', 'aria-hidden': 'true', tabindex: '-1' });
      t.value = text;
      t.style.position = 'fixed';
      t.style.left = '-9999px';
      document.body.append(t);
      t.select();
      document.execCommand('copy');
      t.remove();
    }
    status(`Copied ${what}.`);
  }

  /** fetch on this origin, never cached; resolves to {status, ok, body (JSON or null), text}. */
  async function call(path, init) {
    const res = await fetch(path, { cache: 'no-store', credentials: 'same-origin', ...init });
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (e) {
      body = null;
    }
    return { status: res.status, ok: res.ok, body, text };
  }
  const errorText = (r) => (r.body && (r.body.error_description || r.body.error)) || r.text || `HTTP ${r.status}`;

  // ---------------------------------------------------------------- copy buttons

  document.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-copy]');
    if (!b) return;
    const source = $(b.dataset.copy);
    const label = b.getAttribute('aria-describedby') && $(b.getAttribute('aria-describedby'));
    copyText(source.textContent, label ? `the ${label.textContent}` : 'it');
  });

  // ---------------------------------------------------------------- issuer switcher

  $('open-issuer').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('open-issuer-name');
    const name = input.value.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
      input.setAttribute('aria-invalid', 'true');
      status('Issuer names are 1 to 64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit.', true);
      input.focus();
      return;
    }
    window.location.assign(`/${encodeURIComponent(name)}/`);
  });

  // ---------------------------------------------------------------- personas

  function personaSummary(name, p) {
    const parts = [p.sub || `user_${name}`];
    const claims = p.claims || {};
    for (const k of ['name', 'email']) if (typeof claims[k] === 'string') parts.push(claims[k]);
    if (p.org_role) parts.push(`${p.org_role} ${p.org_slug || p.org_id || ''}`.trim());
    return parts.join(' · ');
  }
  function usersOf(body) {
    const users = body && typeof body === 'object' && 'users' in body ? body.users : body;
    if (Array.isArray(users)) return users.filter((u) => u && u.name).map((u) => [String(u.name), u]);
    if (users && typeof users === 'object') return Object.entries(users).map(([n, p]) => [n, p || {}]);
    return null;
  }
  async function loadPersonas() {
    if (!features.users) return;
    const r = await call(data.paths.users);
    const users = r.ok ? usersOf(r.body) : null;
    if (!users) return; // keep the server-rendered list
    const list = $('persona-list');
    list.replaceChildren(
      ...users.map(([name, p]) =>
        el('li', {},
          el('button', { type: 'submit', class: 'persona', name: 'user', value: name, text: `Mint for ${name}` }),
          ' ',
          el('span', { class: 'muted', text: personaSummary(name, p) }))));
    $('persona-names').replaceChildren(...users.map(([name]) => el('option', { value: name })));
    $('persona-empty').hidden = users.length > 0;
  }
  $('persona-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const user = e.submitter && e.submitter.value;
    if (user) mint({ user }, user, e.submitter);
  });

  // ---------------------------------------------------------------- mint

  const MINT_FIELDS = ['user', 'sub', 'preset', 'aud', 'iss', 'azp', 'scope', 'expires_in', 'org_id', 'org_role', 'org_slug',
    'variant', 'alg', 'typ', 'claims'];

  if (!features.alg) $('alg-field').hidden = true;
  if (!features.typ) $('typ-field').hidden = true;
  /** The alg choices: the issuer's algorithms as its discovery document lists them. */
  async function loadAlgs() {
    if (!features.alg) return;
    const r = await call(data.paths.discovery);
    const algs = r.ok && r.body && r.body.id_token_signing_alg_values_supported;
    if (Array.isArray(algs) && algs.length) $('alg-names').replaceChildren(...algs.map((a) => el('option', { value: String(a) })));
  }

  function fieldError(input, message) {
    input.setAttribute('aria-invalid', 'true');
    status(message, true);
    input.focus();
  }
  /** The JSON body of the mint form, or null after reporting a bad field. */
  function mintBody() {
    const form = $('mint-form');
    const body = {};
    for (const name of MINT_FIELDS) {
      const input = form.elements.namedItem(name);
      if (!input || input.closest('[hidden]')) continue;
      input.removeAttribute('aria-invalid');
      const raw = input.value.trim();
      if (raw === '') continue;
      if (name === 'aud') {
        const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
        body.aud = list.length === 1 ? list[0] : list;
      } else if (name === 'expires_in') {
        if (!/^-?\d+$/.test(raw)) return fieldError(input, 'expires_in: must be a whole number of seconds.'), null;
        body.expires_in = Number(raw);
      } else if (name === 'claims') {
        let claims;
        try {
          claims = JSON.parse(raw);
        } catch (e) {
          return fieldError(input, `claims: is not valid JSON (${e.message}).`), null;
        }
        if (!claims || typeof claims !== 'object' || Array.isArray(claims)) {
          return fieldError(input, 'claims: must be a JSON object.'), null;
        }
        body.claims = claims;
      } else {
        body[name] = raw;
      }
    }
    return body;
  }
  $('mint-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const body = mintBody();
    if (body) mint(body, body.user || body.sub || 'the form', $('mint-button'));
  });
  $('mint-form').addEventListener('reset', () => {
    for (const i of $('mint-form').querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
    $('variant-help').textContent = '';
  });

  let lastMint = null;
  async function mint(body, label, button) {
    if (button) button.disabled = true;
    try {
      const r = await call(data.paths.token, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });
      if (!r.ok || !r.body || typeof r.body.access_token !== 'string') {
        status(`The token endpoint answered ${r.status}: ${errorText(r)}`, true);
        return;
      }
      lastMint = { body, response: r.body };
      showToken(r.body.access_token, { label, response: r.body, curl: curlFor(body) });
      status(`Minted a token for ${label}.`);
      refreshLedger();
    } catch (e) {
      status(`Could not reach the token endpoint: ${e.message}`, true);
    } finally {
      if (button) button.disabled = false;
    }
  }
  function curlFor(body) {
    return `curl -sS -X POST ${shellQuote(data.urls.token)} \\\n  -H 'Content-Type: application/json' \\\n  -d ${shellQuote(JSON.stringify(body))}`;
  }

  // ---------------------------------------------------------------- decoded token

  let countdownTimer = null;
  function showToken(token, ctx) {
    const section = $('token-section');
    section.hidden = false;
    $('token-out').value = token;
    $('token-response').textContent = ctx.response ? pretty(ctx.response) : '';
    $('curl-out').textContent = ctx.curl || '';
    $('copy-curl').hidden = !ctx.curl;
    $('curl-h').hidden = $('curl-out').hidden = !ctx.curl;
    let decoded;
    try {
      decoded = decodeJwt(token);
    } catch (e) {
      $('token-summary').textContent = `Not a decodable JWT: ${e.message}.`;
      $('token-header').textContent = $('token-payload').textContent = '';
      return;
    }
    const { header, payload } = decoded;
    $('token-header').textContent = pretty(header);
    $('token-payload').textContent = pretty(payload);
    const who = payload.sub !== undefined ? `sub ${payload.sub}` : 'no sub';
    $('token-summary').textContent = `${ctx.label ? `For ${ctx.label}: ` : ''}${who}, ${header.alg || 'no alg'}${header.kid ? `, kid ${header.kid}` : ', no kid'}.`;
    const times = $('token-times');
    times.replaceChildren(
      ...['iat', 'nbf', 'exp', 'auth_time'].filter((k) => typeof payload[k] === 'number').map((k) =>
        el('li', {}, el('code', { text: k }), ` ${payload[k]} = ${isoTime(payload[k])} (${relative(payload[k])})`)));
    clearInterval(countdownTimer);
    const tick = () => {
      const c = $('countdown');
      if (typeof payload.exp !== 'number') {
        c.textContent = 'no exp claim: never expires';
        return;
      }
      const left = payload.exp - now();
      c.textContent = left > 0 ? `${duration(left)} left` : `expired ${duration(left)} ago`;
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
    $('token-h').focus();
  }
  $('copy-token').addEventListener('click', () => copyText($('token-out').value, 'the token'));
  $('copy-curl').addEventListener('click', () => copyText($('curl-out').textContent, 'the curl command'));
  $('to-verify').addEventListener('click', () => {
    $('v-token').value = $('token-out').value;
    $('v-token').focus();
  });

  // ---------------------------------------------------------------- variants

  async function loadVariants() {
    if (!features.variants) return;
    const r = await call(data.paths.variants);
    if (!r.ok || !r.body) return;
    let list = r.body.variants !== undefined ? r.body.variants : r.body;
    if (!Array.isArray(list)) list = Object.entries(list).map(([name, d]) => ({ name, description: d }));
    const select = $('f-variant');
    const help = {};
    for (const v of list) {
      const name = typeof v === 'string' ? v : v.name || v.variant || v.id;
      if (!name) continue;
      const d = typeof v === 'string' ? '' : v.description || v.tests || v.what || '';
      help[name] = typeof d === 'string' ? d : JSON.stringify(d);
      select.append(el('option', { value: name, text: name }));
    }
    select.addEventListener('change', () => {
      $('variant-help').textContent = help[select.value] || '';
    });
    $('variant-field').hidden = false;
  }

  // ---------------------------------------------------------------- verification

  const HASH = { 256: 'SHA-256', 384: 'SHA-384', 512: 'SHA-512' };
  /** WebCrypto parameters per JWS alg: import, verify, key type. */
  function algParams(alg) {
    let m;
    if ((m = /^RS(256|384|512)$/.exec(alg))) {
      return { kty: 'RSA', imp: { name: 'RSASSA-PKCS1-v1_5', hash: HASH[m[1]] }, ver: { name: 'RSASSA-PKCS1-v1_5' } };
    }
    if ((m = /^PS(256|384|512)$/.exec(alg))) {
      return { kty: 'RSA', imp: { name: 'RSA-PSS', hash: HASH[m[1]] }, ver: { name: 'RSA-PSS', saltLength: Number(m[1]) / 8 } };
    }
    if ((m = /^ES(256|384|512)$/.exec(alg))) {
      const crv = { 256: 'P-256', 384: 'P-384', 512: 'P-521' }[m[1]];
      return { kty: 'EC', crv, imp: { name: 'ECDSA', namedCurve: crv }, ver: { name: 'ECDSA', hash: HASH[m[1]] } };
    }
    if (alg === 'EdDSA' || alg === 'Ed25519') return { kty: 'OKP', crv: 'Ed25519', imp: { name: 'Ed25519' }, ver: { name: 'Ed25519' } };
    return null;
  }
  function publicJwk(k) {
    if (k.kty === 'RSA') return { kty: 'RSA', n: k.n, e: k.e };
    if (k.kty === 'EC') return { kty: 'EC', crv: k.crv, x: k.x, y: k.y };
    return { kty: k.kty, crv: k.crv, x: k.x };
  }
  /** true/false, or a string saying why it could not be checked. */
  async function verifySignature(alg, jwk, parts) {
    const p = algParams(alg);
    const signed = enc.encode(`${parts[0]}.${parts[1]}`);
    let sig;
    try {
      sig = b64urlDecode(parts[2]);
    } catch (e) {
      return false;
    }
    if (!subtle) {
      if (alg === 'RS256') return rs256Verify(jwk, signed, sig);
      return `this page is not a secure context (use http://localhost or https), so WebCrypto is off and only RS256 can be checked`;
    }
    let key;
    try {
      key = await subtle.importKey('jwk', publicJwk(jwk), p.imp, false, ['verify']);
    } catch (e) {
      return `this browser cannot import the ${alg} key (${e.message})`;
    }
    try {
      return await subtle.verify(p.ver, key, sig, signed);
    } catch (e) {
      return false;
    }
  }

  let jwksCache = null;
  async function loadJwks() {
    const r = await call(data.paths.jwks);
    if (!r.ok || !r.body || !Array.isArray(r.body.keys)) throw new Error(`the JWKS answered ${r.status}: ${errorText(r)}`);
    jwksCache = r.body;
    return r.body;
  }

  /**
   * Checks `token` against the issuer's JWKS and the expectations; returns
   * {problems: [short names], checks: [{state: 'ok'|'fail'|'info', text}]}.
   */
  async function verifyToken(token, expect) {
    const problems = [];
    const checks = [];
    const ok = (text) => checks.push({ state: 'ok', text });
    const info = (text) => checks.push({ state: 'info', text });
    const fail = (problem, text) => {
      problems.push(problem);
      checks.push({ state: 'fail', text });
    };
    let decoded;
    try {
      decoded = decodeJwt(token);
    } catch (e) {
      fail('malformed', `Format: ${e.message}.`);
      return { problems, checks };
    }
    const { parts, header, payload } = decoded;
    ok(`Format: a JWS with header ${JSON.stringify({ alg: header.alg, typ: header.typ, kid: header.kid })}.`);

    // Signature and key.
    const alg = header.alg;
    if (typeof alg !== 'string' || alg.toLowerCase() === 'none') {
      fail('unsigned', `Signature: alg ${JSON.stringify(alg)}: the token is not signed.`);
    } else if (/^HS/.test(alg)) {
      fail('unverifiable', `Signature: ${alg} is signed with a shared secret, which no JWKS publishes; a verifier that accepts it with a public key is open to key confusion.`);
    } else if (!algParams(alg)) {
      fail('unverifiable', `Signature: alg ${alg} is not one this page can check.`);
    } else {
      let jwks;
      try {
        jwks = await loadJwks();
      } catch (e) {
        fail('no jwks', `Keys: could not load the issuer's JWKS: ${e.message}.`);
      }
      if (jwks) {
        const kids = jwks.keys.map((k) => k.kid).filter(Boolean);
        let candidates;
        if (header.kid === undefined) {
          fail('no kid', `Key: the header has no kid; verifiers that pick the key by kid reject the token.`);
          candidates = jwks.keys.filter((k) => (!k.alg || k.alg === alg) && k.kty === algParams(alg).kty);
        } else {
          candidates = jwks.keys.filter((k) => k.kid === header.kid);
          if (candidates.length === 0) {
            fail('unknown kid', `Key: unknown kid ${JSON.stringify(header.kid)}; the issuer's JWKS has ${kids.length ? kids.map((k) => JSON.stringify(k)).join(', ') : 'no keys'}.`);
          } else {
            ok(`Key: kid ${JSON.stringify(header.kid)} is in the issuer's JWKS.`);
          }
        }
        const usable = candidates.filter((k) => (!k.alg || k.alg === alg) && k.kty === algParams(alg).kty);
        if (candidates.length > 0 && usable.length === 0) {
          fail('wrong alg', `Signature: the header says ${alg} but key ${JSON.stringify(candidates[0].kid)} is ${candidates[0].alg || candidates[0].kty}.`);
        }
        let verdict = null;
        let reason = null;
        for (const k of usable) {
          const r = await verifySignature(alg, k, parts);
          if (r === true) {
            verdict = k;
            break;
          }
          if (typeof r === 'string') reason = r;
        }
        if (verdict) ok(`Signature: valid (${alg}, key ${JSON.stringify(verdict.kid)}).`);
        else if (reason) fail('unverifiable', `Signature: not checked: ${reason}.`);
        else if (usable.length > 0) fail('bad signature', `Signature: invalid signature: it does not match ${usable.length === 1 ? `key ${JSON.stringify(usable[0].kid)}` : 'any of the issuer\'s keys'}; the token was altered or signed by another key.`);
      }
    }
    if (header.typ !== undefined && !['jwt', 'at+jwt', 'application/at+jwt'].includes(String(header.typ).toLowerCase())) {
      fail('wrong typ', `Type: typ ${JSON.stringify(header.typ)} is neither JWT nor at+jwt.`);
    }

    // Time.
    const t = now();
    const leeway = expect.leeway;
    if (typeof payload.exp !== 'number') {
      fail('no exp', 'Expiry: the token has no numeric exp: it never expires.');
    } else if (t >= payload.exp + leeway) {
      fail('expired', `Expiry: expired ${duration(t - payload.exp)} ago (exp ${isoTime(payload.exp)}).`);
    } else {
      ok(`Expiry: valid for ${duration(payload.exp - t)} more (exp ${isoTime(payload.exp)}).`);
    }
    if (payload.nbf !== undefined) {
      if (typeof payload.nbf !== 'number') fail('not yet valid', `Not before: nbf ${JSON.stringify(payload.nbf)} is not a number.`);
      else if (t + leeway < payload.nbf) fail('not yet valid', `Not before: not yet valid; it becomes valid in ${duration(payload.nbf - t)} (nbf ${isoTime(payload.nbf)}).`);
      else ok(`Not before: valid since ${isoTime(payload.nbf)}.`);
    }
    if (typeof payload.iat === 'number' && payload.iat > t + leeway) info(`Issued at: iat is ${duration(payload.iat - t)} in the future.`);

    // Issuer and audience.
    if (expect.iss) {
      if (payload.iss === expect.iss) ok(`Issuer: ${JSON.stringify(payload.iss)}.`);
      else fail('wrong issuer', `Issuer: wrong issuer ${JSON.stringify(payload.iss)}; expected ${JSON.stringify(expect.iss)}.`);
    } else {
      info('Issuer: not checked (no expected issuer).');
    }
    if (expect.aud) {
      const auds = Array.isArray(payload.aud) ? payload.aud : payload.aud === undefined ? [] : [payload.aud];
      if (auds.includes(expect.aud)) ok(`Audience: ${JSON.stringify(payload.aud)} includes ${JSON.stringify(expect.aud)}.`);
      else fail('wrong audience', `Audience: wrong audience ${payload.aud === undefined ? '(the token has no aud)' : JSON.stringify(payload.aud)}; expected ${JSON.stringify(expect.aud)}.`);
    } else {
      info(`Audience: not checked (enter an expected audience)${payload.aud !== undefined ? `; the token's aud is ${JSON.stringify(payload.aud)}` : ''}.`);
    }
    if (payload.sub === undefined) fail('missing sub', 'Subject: the token has no sub.');
    return { problems, checks };
  }

  $('verify-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = $('v-token').value.trim();
    const box = $('verify-result');
    if (!token) {
      fieldError($('v-token'), 'Paste a token to verify.');
      return;
    }
    $('v-token').removeAttribute('aria-invalid');
    const leeway = Math.max(0, Number($('v-leeway').value) || 0);
    const result = await verifyToken(token, { aud: $('v-aud').value.trim(), iss: $('v-iss').value.trim(), leeway });
    const valid = result.problems.length === 0;
    box.hidden = false;
    box.className = `verdict ${valid ? 'ok' : 'bad'}`;
    $('verify-verdict').textContent = valid ? 'Valid: every check passed.' : `Invalid: ${[...new Set(result.problems)].join(', ')}.`;
    $('verify-checks').replaceChildren(
      ...result.checks.map((c) => el('li', { class: c.state === 'ok' ? null : c.state, text: c.text })));
    status(valid ? 'The token is valid.' : `The token is invalid: ${[...new Set(result.problems)].join(', ')}.`, !valid);
  });

  // ---------------------------------------------------------------- JWKS, replicas, ledger

  async function showJwks() {
    try {
      const jwks = await loadJwks();
      $('jwks-table').tBodies[0].replaceChildren(
        ...jwks.keys.map((k) => el('tr', {}, el('td', {}, el('code', { text: k.kid || '' })), el('td', { text: k.kty || '' }),
          el('td', { text: k.alg || '' }), el('td', { text: k.use || '' }))));
      $('jwks-json').textContent = pretty(jwks);
    } catch (e) {
      $('jwks-json').textContent = e.message;
    }
  }
  $('jwks-reload').addEventListener('click', () => showJwks().then(() => status('Keys reloaded.')));

  async function showCluster() {
    const [health, cluster] = await Promise.all([call(data.paths.health), call(data.paths.cluster)]);
    const c = cluster.body || {};
    const peers = Array.isArray(c.peers) ? c.peers : [];
    const mine = (c.issuers && c.issuers[data.name]) || {};
    const parts = [`Health: ${health.body && health.body.status ? health.body.status : `HTTP ${health.status}`}.`];
    if (c.enabled) {
      parts.push(`Federation: on, ${c.peers_up || 0} peer(s) up, ${c.peers_down || 0} down${c.instance_id ? `; instance ${c.instance_id}` : ''}.`);
    } else {
      parts.push('Federation: off (no peers).');
    }
    if (Array.isArray(mine.served_kids)) parts.push(`This issuer serves ${mine.served_kids.length} key(s).`);
    $('cluster-summary').textContent = parts.join(' ');
    $('peers-table').hidden = peers.length === 0;
    $('peers-table').tBodies[0].replaceChildren(
      ...peers.map((p) => el('tr', {}, el('td', {}, el('code', { text: p.url || '' })), el('td', { text: p.state || '' }),
        el('td', { text: String(p.key_count ?? '') }), el('td', { text: p.last_error || '' }))));
    $('cluster-json').textContent = pretty({ health: health.body, cluster: cluster.body });
  }
  $('cluster-reload').addEventListener('click', () => showCluster().then(() => status('Replica state reloaded.')));

  async function refreshLedger() {
    if (!features.ledger) return;
    const r = await call(`${data.paths.requests}?limit=50`);
    const entries = r.ok && r.body ? (Array.isArray(r.body) ? r.body : r.body.requests || r.body.entries) : null;
    if (!Array.isArray(entries)) {
      $('ledger-section').hidden = true;
      return;
    }
    $('ledger-section').hidden = false;
    const cell = (v) => el('td', { text: v === undefined || v === null ? '' : String(v) });
    $('ledger-table').tBodies[0].replaceChildren(
      ...entries.map((x) => el('tr', {}, cell(typeof x.time === 'number' ? isoTime(x.time) : x.time), cell(x.method),
        el('td', {}, el('code', { text: `${x.path || ''}${x.query ? `?${x.query}` : ''}` })), cell(x.status), cell(x.client_id),
        cell(x.sub), cell(x.duration_ms))));
  }
  $('ledger-reload').addEventListener('click', () => refreshLedger().then(() => status('Ledger reloaded.')));

  // ---------------------------------------------------------------- OIDC debugger

  const OIDC_KEY = 'mock-idp-workbench:oidc:';
  const randomToken = (n) => b64urlEncode(crypto.getRandomValues(new Uint8Array(n)));
  const sha256 = async (bytes) => (subtle ? new Uint8Array(await subtle.digest('SHA-256', bytes)) : sha256js(bytes));

  $('oidc-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const verifier = randomToken(32); // 43 characters (RFC 7636 §4.1)
    const challenge = b64urlEncode(await sha256(enc.encode(verifier)));
    const state = randomToken(16);
    const nonce = randomToken(16);
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: 'workbench',
      redirect_uri: data.page,
      scope: $('o-scope').value.trim() || 'openid',
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const hint = $('o-hint').value.trim();
    if (hint) params.set('login_hint', hint);
    const url = `${data.paths.authorize}?${params}`;
    sessionStorage.setItem(OIDC_KEY + state, JSON.stringify({ verifier, challenge, nonce, url, redirect: data.page, mount: data.mount, started: now() }));
    window.location.assign(url);
  });

  function step(title, ...content) {
    const li = el('li', {}, el('h3', { text: title }), ...content);
    $('oidc-steps').append(li);
    return li;
  }
  const codeBlock = (text, label) => el('pre', { class: 'code', tabindex: '0', 'aria-label': label, text });
  const mark = (good, text) => el('p', { class: good ? 'ok' : 'bad', text });
  const queryOf = (params) => [...params].map(([k, v]) => `${k}=${v}`).join('\n');

  function decodedStep(title, token, extra) {
    try {
      const { header, payload } = decodeJwt(token);
      return step(title, ...(extra || []), codeBlock(`${pretty(header)}\n${pretty(payload)}`, title));
    } catch (e) {
      return step(title, mark(false, `Not a decodable JWT: ${e.message}.`));
    }
  }

  let oidcSession = null;
  async function showTokens(title, r) {
    step(title, mark(r.ok, `HTTP ${r.status}${r.ok ? '' : `: ${errorText(r)}`}`), codeBlock(r.body ? pretty(r.body) : r.text, title));
    if (!r.ok || !r.body) return;
    const tokens = r.body;
    if (tokens.access_token) {
      decodedStep('Access token (decoded)', tokens.access_token);
      showToken(tokens.access_token, { label: 'the OIDC debugger', response: tokens });
    }
    if (tokens.id_token) {
      const extra = [];
      try {
        const { payload } = decodeJwt(tokens.id_token);
        if (oidcSession && oidcSession.nonce) {
          extra.push(mark(payload.nonce === oidcSession.nonce, payload.nonce === oidcSession.nonce
            ? 'nonce matches the one this page sent.' : `nonce ${JSON.stringify(payload.nonce)} is not the one this page sent.`));
        }
        if (payload.at_hash && tokens.access_token) {
          const h = await sha256(enc.encode(tokens.access_token));
          const want = b64urlEncode(h.slice(0, 16));
          extra.push(mark(payload.at_hash === want, payload.at_hash === want ? 'at_hash matches the access token.' : `at_hash should be ${want}.`));
        }
      } catch (e) {
        // decodedStep reports it
      }
      decodedStep('ID token (decoded)', tokens.id_token, extra);
    }
    if (oidcSession) {
      oidcSession.access = tokens.access_token || oidcSession.access;
      oidcSession.refresh = tokens.refresh_token || null;
    }
    $('oidc-refresh').hidden = !(oidcSession && oidcSession.refresh);
    $('oidc-userinfo').hidden = !(oidcSession && oidcSession.access);
  }

  function formBody(fields) {
    return new URLSearchParams(fields).toString();
  }
  async function tokenRequest(title, fields) {
    const body = formBody(fields);
    step(title, codeBlock(`POST ${data.urls.token}\nContent-Type: application/x-www-form-urlencoded\n\n${body.replace(/&/g, '\n&')}`, title));
    const r = await call(data.paths.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
    });
    await showTokens(title.replace('request', 'response'), r);
    refreshLedger();
    return r;
  }

  async function oidcReturn(params) {
    const section = $('oidc-result');
    section.hidden = false;
    // The code is single-use and the URL is shared in history: drop the query at once.
    window.history.replaceState(null, '', window.location.pathname);
    const state = params.get('state') || '';
    const saved = sessionStorage.getItem(OIDC_KEY + state);
    sessionStorage.removeItem(OIDC_KEY + state);
    oidcSession = saved ? JSON.parse(saved) : null;
    if (oidcSession) step('Authorization request', codeBlock(`GET ${oidcSession.url.replace('?', '\n  ?').replace(/&/g, '\n  &')}`, 'Authorization request'));
    const response = step('Authorization response', codeBlock(queryOf(params), 'Authorization response'));
    $('oidc-h').focus();
    if (!oidcSession) {
      response.append(mark(false, `state ${JSON.stringify(state)} is not one this page started: a replayed or foreign response (or another tab).`));
      status('OIDC debugger: unknown state in the authorization response.', true);
      return;
    }
    response.append(mark(true, 'state matches the one this page sent.'));
    const iss = params.get('iss');
    if (iss !== null) {
      response.append(mark(iss === data.iss, iss === data.iss ? 'iss is this issuer (RFC 9207).' : `iss ${JSON.stringify(iss)} is not this issuer ${JSON.stringify(data.iss)} (RFC 9207): a mix-up.`));
    }
    if (params.get('error')) {
      response.append(mark(false, `The issuer answered ${params.get('error')}: ${params.get('error_description') || ''}`));
      status(`OIDC debugger: ${params.get('error')}.`, true);
      return;
    }
    const r = await tokenRequest('Token request', {
      grant_type: 'authorization_code',
      code: params.get('code') || '',
      redirect_uri: oidcSession.redirect,
      client_id: 'workbench',
      code_verifier: oidcSession.verifier,
    });
    status(r.ok ? 'OIDC debugger: signed in and exchanged the code for tokens.' : `OIDC debugger: the code exchange failed (${r.status}).`, !r.ok);
    $('oidc-h').focus();
  }

  $('oidc-refresh').addEventListener('click', async () => {
    if (!oidcSession || !oidcSession.refresh) return;
    const r = await tokenRequest('Refresh request', { grant_type: 'refresh_token', refresh_token: oidcSession.refresh, client_id: 'workbench' });
    status(r.ok ? 'OIDC debugger: tokens refreshed.' : `OIDC debugger: refresh failed (${r.status}).`, !r.ok);
  });
  $('oidc-userinfo').addEventListener('click', async () => {
    if (!oidcSession || !oidcSession.access) return;
    step('UserInfo request', codeBlock(`GET ${data.urls.userinfo}\nAuthorization: Bearer <the access token>`, 'UserInfo request'));
    const r = await call(data.paths.userinfo, { headers: { authorization: `Bearer ${oidcSession.access}`, accept: 'application/json' } });
    step('UserInfo response', mark(r.ok, `HTTP ${r.status}`), codeBlock(r.body ? pretty(r.body) : r.text, 'UserInfo response'));
    status(r.ok ? 'OIDC debugger: userinfo answered.' : `OIDC debugger: userinfo failed (${r.status}).`, !r.ok);
  });

  // ---------------------------------------------------------------- fallbacks without WebCrypto
  // Outside a secure context (plain http on a host other than localhost)
  // crypto.subtle does not exist: SHA-256 (PKCE, at_hash) and RS256 in JS.

  function sha256js(bytes) {
    const K = new Uint32Array([
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
      0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
      0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
      0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
      0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
      0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
    const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const len = bytes.length;
    const padded = new Uint8Array(((len + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[len] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(len / 0x20000000));
    view.setUint32(padded.length - 4, (len << 3) >>> 0);
    const W = new Uint32Array(64);
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    for (let off = 0; off < padded.length; off += 64) {
      for (let i = 0; i < 16; i++) W[i] = view.getUint32(off + i * 4);
      for (let i = 16; i < 64; i++) {
        const s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
        const s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) >>> 0;
      }
      let [a, b, c, d, e, f, g, h] = H;
      for (let i = 0; i < 64; i++) {
        const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) >>> 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) ov.setUint32(i * 4, H[i]);
    return out;
  }

  const toBig = (bytes) => bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  function modPow(base, exp, mod) {
    let result = 1n;
    base %= mod;
    while (exp > 0n) {
      if (exp & 1n) result = (result * base) % mod;
      base = (base * base) % mod;
      exp >>= 1n;
    }
    return result;
  }
  /** RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2), without WebCrypto. */
  function rs256Verify(jwk, signed, sig) {
    let nBytes = b64urlDecode(jwk.n);
    while (nBytes.length > 0 && nBytes[0] === 0) nBytes = nBytes.slice(1);
    const n = toBig(nBytes);
    const k = nBytes.length;
    if (sig.length !== k) return false;
    const s = toBig(sig);
    if (s >= n) return false;
    let m = modPow(s, toBig(b64urlDecode(jwk.e)), n);
    const em = new Uint8Array(k);
    for (let i = k - 1; i >= 0; i--) {
      em[i] = Number(m & 0xffn);
      m >>= 8n;
    }
    const prefix = [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];
    const t = [...prefix, ...sha256js(signed)];
    const expected = new Uint8Array(k);
    expected[1] = 0x01;
    expected.fill(0xff, 2, k - t.length - 1);
    expected.set(t, k - t.length);
    let diff = 0;
    for (let i = 0; i < k; i++) diff |= expected[i] ^ em[i];
    return diff === 0;
  }

  // ---------------------------------------------------------------- start

  const query = new URLSearchParams(window.location.search);
  if (query.has('state') && (query.has('code') || query.has('error'))) oidcReturn(query);
  loadPersonas();
  loadVariants();
  loadAlgs();
  showJwks();
  showCluster();
  refreshLedger();
  // For tests and the curious: the pure functions, nothing that holds state.
  window.mockIdpWorkbench = Object.freeze({ decodeJwt, verifyToken, sha256js, rs256Verify, b64urlDecode, b64urlEncode });
})();
