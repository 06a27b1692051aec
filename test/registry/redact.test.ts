// The redaction layer: every credential the auth layer sends is removed from remote text
// (error bodies, header values), with its base64 forms and any Basic/Bearer header value.
import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/client.js';
import { Redactor, redacted, withRedaction } from '../../src/registry/redact.js';
import type { RegistryRequest, RegistryResponse } from '../../src/registry/transport.js';

const password = 'hunter2-Correct-Horse-Battery';

describe('Redactor', () => {
  it('removes a value and its base64 forms at every alignment, inside longer text', () => {
    const r = new Redactor();
    r.addCredentialPair('releng', password);
    const pair = Buffer.from(`releng:${password}`).toString('base64');
    const shifted = Buffer.from(`xy${password}z`).toString('base64url');
    for (const text of [`DENIED: ${password}`, `auth=${pair}`, `blob ${shifted}`, `user releng:${password}!`]) {
      const clean = r.redact(text);
      expect(clean).toContain(redacted);
      expect(clean).not.toContain(password);
      expect(clean).not.toContain(pair);
      expect(clean).not.toContain(Buffer.from(password).toString('base64').slice(4, 20));
    }
  });

  it('removes any Basic or Bearer header value, known or not, and leaves ordinary text alone', () => {
    const r = new Redactor();
    expect(r.redact('DENIED: header Basic cmVsZW5nOnNlY3JldA== here')).toBe(`DENIED: header Basic ${redacted} here`);
    expect(r.redact('Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).toBe(`Authorization: Bearer ${redacted}`);
    expect(r.redact('authorization: token ghp_0123456789abcdefghijABCDEFGHIJ')).toBe(`authorization: token ${redacted}`);
    const ordinary = 'token service http://127.0.0.1:5000/token: credentials refused (HTTP 401) for scope repository:x:pull';
    expect(r.redact(ordinary)).toBe(ordinary);
  });

  it('ignores values too short to search for without eating ordinary words', () => {
    const r = new Redactor();
    r.add('prod');
    expect(r.size).toBe(0);
    expect(r.redact('production')).toBe('production');
  });
});

describe('the redaction layer', () => {
  function answering(response: Partial<RegistryResponse>): (req: RegistryRequest) => Promise<RegistryResponse> {
    return async () => ({ status: 200, headers: {}, body: Buffer.alloc(0), ...response });
  }

  it('cleans the error body and every header, and leaves a success body byte for byte', async () => {
    const r = new Redactor();
    r.add(password);
    const failing = withRedaction(answering({ status: 403, headers: { 'x-echo': `Basic ${password}` }, body: Buffer.from(`{"errors":[{"code":"DENIED","message":"${password}"}]}`) }), r);
    const answer = await failing({ method: 'GET', url: 'http://127.0.0.1:1/v2/' });
    expect(answer.body.toString()).not.toContain(password);
    expect(answer.headers['x-echo']).toBe(`Basic ${redacted}`);
    const body = Buffer.from(`{"tags":["${password}"]}`);
    const ok = await withRedaction(answering({ status: 200, body }), r)({ method: 'GET', url: 'http://127.0.0.1:1/v2/' });
    expect(ok.body).toBe(body);
  });

  it('is in the client stack: credentials the auth layer sends are registered, and error texts lose them', async () => {
    let sent = '';
    const transport = async (req: RegistryRequest): Promise<RegistryResponse> => {
      if (!req.headers?.authorization) return { status: 401, headers: { 'www-authenticate': 'Basic realm="x"' }, body: Buffer.alloc(0) };
      sent = req.headers.authorization;
      return { status: 403, headers: {}, body: Buffer.from(JSON.stringify({ errors: [{ code: 'DENIED', message: `you sent ${sent} (${password})` }] })) };
    };
    const client = new RegistryClient({ transport, credentials: async () => ({ username: 'releng', password }) });
    const error = await client.listTags({ registry: '127.0.0.1:1', repository: 'a/b' }).catch((e: Error) => e);
    expect(sent).toMatch(/^Basic /);
    expect((error as Error).message).toMatch(/access denied \(HTTP 403\) DENIED: you sent Basic \[REDACTED\] \(\[REDACTED\]\)/);
    expect((error as Error).message).not.toContain(password);
    expect(client.redactor.redact(sent)).toBe(`Basic ${redacted}`);
  });
});
