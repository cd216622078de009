// An operator's session on the console, as the browser holds it: the cookie from a login, and the
// header every state-changing console call must carry (CSRF guard). Answers come back parsed.
export interface ConsoleAnswer {
  status: number;
  type: string;
  body: any;
}

export type ConsoleCall = (method: string, path: string, body?: unknown) => Promise<ConsoleAnswer>;

/** Logs in as `clientId` and returns a caller of the console's API under that session; throws if the login is refused. */
export async function consoleSession(consoleUrl: string, clientSecret: string | undefined, clientId = 'lgsp-operator'): Promise<ConsoleCall> {
  if (!clientSecret) throw new Error(`no client secret for ${clientId}`);
  const login = await fetch(`${consoleUrl}/v1/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId, clientSecret }),
  });
  if (login.status !== 200) throw new Error(`console login as ${clientId} answered ${login.status}: ${await login.text()}`);
  const cookie = login.headers.get('set-cookie')!.split(';')[0];
  return async (method, path, body) => {
    const res = await fetch(consoleUrl + path, {
      method,
      headers: { cookie, ...(method !== 'GET' ? { 'x-lgsp-console': '1' } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  };
}
