// A Queue that does nothing: it reads each createTask body and answers with a task status
// after the latency, without parsing or checking anything. Submitting to it measures what the
// client side alone costs (the floor under the rule-enforcing emulator's figure).
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { latencyMs } = workerData as { latencyMs: number };
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    setTimeout(() => {
      const taskId = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      const text = JSON.stringify({ status: { taskId, state: 'pending', runs: [] } });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    }, latencyMs);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as import('node:net').AddressInfo;
  parentPort!.postMessage({ rootUrl: `http://127.0.0.1:${port}` });
});
