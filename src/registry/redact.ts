/**
 * Redaction of credentials from remote text. A registry (or a proxy in front of it) may echo
 * what it was sent: an `Authorization` header in an error body, a token in a header or a
 * tag name. Every credential value the stack sends is registered here (passwords, identity
 * and bearer tokens, whole Basic and Bearer header values), with its base64 forms; remote
 * text passes through `redact` before it can reach a message. Any `Basic …` or `Bearer …`
 * credential shape is removed too, known or not.
 */
import type { Transport } from './transport.js';

export const redacted = '[REDACTED]';

/** Shorter values are not searched for: a 3-character password would eat ordinary words. */
const minimumLength = 6;

/** Credential shapes in text: an Authorization scheme and its value (base64, JWT, token68). */
const credentialShapes = [/\b(Basic|Bearer)(\s+)[A-Za-z0-9+/._~-]{8,}=*/gi, /\b(token)(\s+)[A-Za-z0-9_]{20,}\b/g];

export class Redactor {
  readonly #needles = new Set<string>();
  /** Longest first, so a whole header value goes before the token inside it. */
  #sorted: string[] | undefined;

  /** Register a secret: the value, and its base64 and base64url forms at every alignment. */
  add(secret: string | undefined | null): void {
    if (!secret || secret.length < minimumLength) return;
    const before = this.#needles.size;
    this.#needles.add(secret);
    for (const form of base64Forms(secret)) this.#needles.add(form);
    // As JSON writes it (--json output; a value quoted in a message, then that message in
    // --json): a " or \ in the secret is escaped there, and the raw value would not match.
    for (let form = secret, level = 0; level < 2; level++) {
      form = JSON.stringify(form).slice(1, -1);
      if (form !== secret) this.#needles.add(form);
    }
    if (this.#needles.size !== before) this.#sorted = undefined;
  }

  /** A `user:password` pair: the password, and the pair as a Basic header carries it. */
  addCredentialPair(username: string, password: string): void {
    this.add(password);
    this.add(`${username}:${password}`);
  }

  get size(): number {
    return this.#needles.size;
  }

  redact(text: string): string {
    let out = text;
    if (this.#needles.size) {
      this.#sorted ??= [...this.#needles].sort((a, b) => b.length - a.length);
      for (const needle of this.#sorted) if (out.includes(needle)) out = out.split(needle).join(redacted);
    }
    for (const shape of credentialShapes) out = out.replace(shape, (_, scheme: string, space: string) => `${scheme}${space}${redacted}`);
    return out;
  }
}

/**
 * The base64 and base64url encodings of `text` as they appear inside a longer encoded string,
 * at each of the three byte alignments (without the edge characters a neighbour changes).
 */
export function base64Forms(text: string): string[] {
  const bytes = Buffer.from(text);
  const forms: string[] = [];
  for (const alphabet of ['base64', 'base64url'] as const) {
    for (let offset = 0; offset < 3; offset++) {
      const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(alphabet);
      const start = offset === 0 ? 0 : 4;
      const end = (offset + bytes.length) % 3 === 0 ? encoded.replace(/=+$/, '').length : Math.floor((offset + bytes.length) / 3) * 4;
      if (end - start >= minimumLength) forms.push(encoded.slice(start, end));
    }
    // The whole value, padded, as a header carries it.
    forms.push(bytes.toString(alphabet));
  }
  return [...new Set(forms)].filter((f) => f.length >= minimumLength);
}

/**
 * The redaction layer, above auth: every header value of every answer, and the body of every
 * answer that is not a success (error text), lose any registered credential before the
 * operations read them. Success bodies are left byte for byte (manifests are hashed): their
 * few values that reach a message pass through the CLI's output redaction.
 */
export function withRedaction(next: Transport, redactor: Redactor): Transport {
  return async (req) => {
    const response = await next(req);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(response.headers)) headers[key] = redactor.redact(value);
    if (response.status >= 200 && response.status < 300) return { ...response, headers };
    const text = response.body.toString('utf8');
    const clean = redactBody(text, redactor);
    return { ...response, headers, body: clean === text ? response.body : Buffer.from(clean) };
  };
}

/**
 * Error text, redacted. A JSON body is redacted in its decoded strings too: a JSON encoder may
 * escape a credential (`\/` for `/`, `\u0041` for `A`) so that the raw text does not hold it,
 * while the message built from the decoded string (and cut short) would.
 */
export function redactBody(text: string, redactor: Redactor): string {
  const raw = redactor.redact(text);
  let changed = false;
  let decoded: unknown;
  try {
    decoded = JSON.parse(text, (_key, value: unknown) => {
      if (typeof value !== 'string') return value;
      const clean = redactor.redact(value);
      if (clean !== value) changed = true;
      return clean;
    });
  } catch {
    return raw;
  }
  return changed ? redactor.redact(JSON.stringify(decoded)) : raw;
}
