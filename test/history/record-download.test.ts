// A task's public/promotion.json is read after the task resolved (rollback's report, history's
// reasons). Its bytes come from wherever the Queue's answer points (S3, or a "reference"
// artifact's URL): an answer that never ends must cost a bounded time and leave no request
// open, or a completed rollback waits for its whole command deadline and then fails.
import { describe, expect, it } from 'vitest';
import { downloadRecord } from '../../src/history/records.js';
import { startHostileServer } from '../support/hostile-server.js';

describe('downloadRecord', () => {
  it('gives up on an artifact that trickles forever within its time, and closes the connection', async () => {
    let open = 0;
    const server = await startHostileServer((_req, res, socket) => {
      open++;
      socket.on('close', () => open--);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"outcome": "');
      const timer = setInterval(() => res.write('x'), 100);
      socket.on('close', () => clearInterval(timer));
    });
    try {
      const queue = { latestArtifact: async () => ({ storageType: 'reference', url: `${server.url}/public/promotion.json` }) };
      const started = Date.now();
      await expect(downloadRecord(queue as never, 'fGm3lH6nQvqkRMsaQpNqfA', { timeoutMs: 500 })).rejects.toThrow(/no whole record within 500 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
      for (let i = 0; i < 50 && open > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(open).toBe(0);
    } finally {
      await server.stop();
    }
  }, 20_000);
});
