import { describe, expect, it } from 'vitest';
import { formatReference, parseReference, parseRegistryOverride, registryBaseUrl } from '../../src/registry/reference.js';

describe('image references', () => {
  it.each([
    ['ubuntu', { registry: 'registry-1.docker.io', repository: 'library/ubuntu' }],
    ['docker.io/mozilla/releng-signingscript:production', { registry: 'registry-1.docker.io', repository: 'mozilla/releng-signingscript', tag: 'production' }],
    ['index.docker.io/library/alpine:3', { registry: 'registry-1.docker.io', repository: 'library/alpine', tag: '3' }],
    ['127.0.0.1:5000/a/b:t', { registry: '127.0.0.1:5000', repository: 'a/b', tag: 't' }],
    ['localhost/a', { registry: 'localhost', repository: 'a' }],
    ['[::1]:5000/x/y', { registry: '[::1]:5000', repository: 'x/y' }],
    [`ghcr.io/o/r@sha256:${'a'.repeat(64)}`, { registry: 'ghcr.io', repository: 'o/r', digest: `sha256:${'a'.repeat(64)}` }],
    [`quay.io/o/r:t@sha256:${'b'.repeat(64)}`, { registry: 'quay.io', repository: 'o/r', tag: 't', digest: `sha256:${'b'.repeat(64)}` }],
  ])('parses %s', (text, expected) => {
    expect(parseReference(text)).toEqual(expected);
  });

  it.each(['', 'UPPER/case', 'a b', 'repo:bad tag', 'repo@sha256:zz', 'a//b', 'x:5000:6000/y', 'repo:' + 't'.repeat(200), 'a\nb'])('refuses %j', (text) => {
    expect(() => parseReference(text, 'src')).toThrow(/src: /);
  });

  it('speaks plain HTTP to loopback registries only, unless told', () => {
    expect(registryBaseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(registryBaseUrl('[::1]:5000')).toBe('http://[::1]:5000');
    expect(registryBaseUrl('registry-1.docker.io')).toBe('https://registry-1.docker.io');
    expect(registryBaseUrl('reg.internal:5000', new Set(['reg.internal:5000']))).toBe('http://reg.internal:5000');
    // --registry https://127.0.0.1:5000 names a TLS registry on loopback: it is not downgraded.
    expect(registryBaseUrl('127.0.0.1:5000', new Set(), new Set(['127.0.0.1:5000']))).toBe('https://127.0.0.1:5000');
  });

  it('parses --registry overrides', () => {
    expect(parseRegistryOverride('http://127.0.0.1:5000')).toEqual({ registry: '127.0.0.1:5000', plainHttp: true });
    expect(parseRegistryOverride('https://docker.io')).toEqual({ registry: 'registry-1.docker.io', plainHttp: false });
    expect(() => parseRegistryOverride('http://u:p@host/')).toThrow(/--registry/);
    expect(() => parseRegistryOverride('http://host/path')).toThrow(/--registry/);
  });

  it('formats Hub references the docker way', () => {
    expect(formatReference({ registry: 'registry-1.docker.io', repository: 'mozilla/x', tag: 'dev' })).toBe('docker.io/mozilla/x:dev');
  });
});
