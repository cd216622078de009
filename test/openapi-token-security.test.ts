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
