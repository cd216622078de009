// How the OpenAPI document says a system authenticates at POST /v1/token, against what the token
// endpoint takes. It takes private_key_jwt (the assertion in the body: no HTTP authentication)
// and client_secret_basic (HTTP Basic), and refuses a wrong secret with `WWW-Authenticate: Basic`;
// the document declared no security for the operation at all, so a generated client offered no
// Basic credentials and a reader of the document did not learn that legacy systems use them.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

type Doc = {
  components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
  paths: Record<string, Record<string, { security?: Record<string, string[]>[]; responses: Record<string, { headers?: Record<string, unknown> }> }>>;
};

t.test('POST /v1/token documents the client authentication it takes', async (t) => {
  const bus = await startTestBus(t, { name: 'openapi-token-security', runner: false });
  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as Doc;
  const op = doc.paths['/v1/token'].post;
  const schemes = (op.security ?? []).map((requirement) => Object.keys(requirement));
  t.ok(schemes.some((names) => names.length === 0), 'no HTTP authentication is one way (private_key_jwt in the body)');
  const basic = schemes.flat().filter((name) => doc.components.securitySchemes[name]?.type === 'http' && doc.components.securitySchemes[name].scheme === 'basic');
  t.equal(basic.length, 1, 'HTTP Basic is the other (client_secret_basic)');
  t.ok(op.responses['401'].headers?.['WWW-Authenticate'], 'the 401 names its WWW-Authenticate challenge');

  // What the document says, the endpoint does.
  const creds = bus.clients.get('so-khdt-qlvb')!;
  const basicToken = (secret: string) =>
    fetch(`${bus.gateway.url}/v1/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${creds.clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
  const ok = await basicToken(creds.clientSecret!);
  t.equal(ok.status, 200, 'a token for client_secret_basic');
  const refused = await basicToken(`${creds.clientSecret!}x`);
  t.equal(refused.status, 401, 'a wrong secret is refused');
  t.equal(refused.headers.get('www-authenticate'), 'Basic realm="lgsp"', 'with the Basic challenge the document names');
});

// Every operation says how it is authenticated: a public one with `security: []` (OpenAPI's "no
// authentication"), not by leaving `security` out, which linters refuse (Redocly's
// security-defined) and a reader cannot tell from a forgotten requirement. And what it says holds:
// a public operation answers without a token, a Bearer one refuses the call without one (401).
t.test('every operation documents its security, and is as public as it says', async (t) => {
  const bus = await startTestBus(t, { name: 'openapi-public-operations', runner: false });
  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as Doc & { security?: unknown };
  t.equal(doc.security, undefined, 'no root-level requirement: each operation names its own');
  const sample: Record<string, string> = { id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', type: 'notice.send', sha256: '0'.repeat(64), documentId: 'x' };
  let publicOperations = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const operation = `${method.toUpperCase()} ${path}`;
      if (!t.ok(Array.isArray(op.security), `${operation} documents its security`)) continue;
      if (op.security!.some((requirement) => Object.keys(requirement).length === 0 && op.security!.length > 1)) continue; // POST /v1/token: several ways, checked above
      const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => sample[name]) + (path === '/v1/documents' ? '?documentId=x' : '');
      const r = await fetch(`${bus.gateway.url}${url}`, { method: method.toUpperCase(), ...(method === 'get' ? {} : { headers: { 'content-type': 'application/json' }, body: '{}' }) });
      if (op.security!.length === 0) {
        publicOperations++;
        t.not(r.status, 401, `${operation} is documented public and answers without a token (${r.status})`);
      } else {
        t.ok(op.security!.some((requirement) => 'bearer' in requirement), `${operation} names its Bearer requirement`);
        t.equal(r.status, 401, `${operation} is documented with a Bearer token and refuses a call without one`);
      }
    }
  }
  t.ok(publicOperations >= 6, `the public operations are said to be (${publicOperations})`);
});
