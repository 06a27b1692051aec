// The request pattern of history, measured where the network decides: every request through a
// proxy that adds 40 ms. The tag list and the moving tag's HEAD go out at once; then the
// digests the answer needs go out in one concurrent batch: two round trips, whatever the size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startDelayProxy, type DelayProxy } from '../support/delay-proxy.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { now, seedThreeAm } from '../support/three-am.js';

let reg: RunningRegistry;
let proxy: DelayProxy;

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  await seedThreeAm(reg);
  proxy = await startDelayProxy(reg.url, 40);
});
afterAll(async () => {
  await proxy?.stop();
  await reg?.stop();
});

describe('history round trips', () => {
  it('sends the tag list with the moving tag HEAD, then one batch of HEADs', async () => {
    proxy.clear();
    const result = await runCli(['history', 'signingscript', '--registry', proxy.url, '--json'], { TC_PROMOTE_NOW: now });
    expect(result.code).toBe(0);
    const requests = proxy.requests();
    expect(proxy.roundTrips()).toBe(2);
    const list = requests.find((r) => r.path.includes('/tags/list'))!;
    const moving = requests.find((r) => r.method === 'HEAD' && r.path.endsWith('/manifests/production'))!;
    // At once: each started before the other was answered.
    expect(moving.start).toBeLessThan(list.end);
    expect(list.start).toBeLessThan(moving.end);
    const batch = requests.filter((r) => r !== list && r !== moving);
    expect(batch.length).toBeGreaterThanOrEqual(8);
    expect(batch.every((r) => r.method === 'HEAD' && r.start >= list.end)).toBe(true);
    // One batch: every lookup started before the first of them was answered.
    const firstAnswer = Math.min(...batch.map((r) => r.end));
    expect(batch.every((r) => r.start < firstAnswer)).toBe(true);
  });

  it('plan adds only what the selection and the target need', async () => {
    proxy.clear();
    const result = await runCli(['plan', 'signingscript', '--registry', proxy.url, '--json'], { TC_PROMOTE_NOW: now });
    expect(result.code).toBe(0);
    // tags + moving, one batch, the target's image (provenance: manifest, config, layer); no lookup per deploy.
    expect(proxy.roundTrips()).toBeLessThanOrEqual(6);
  });
});
