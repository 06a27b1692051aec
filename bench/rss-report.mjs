// Preloaded into a benchmarked CLI process (node --import): prints its peak RSS to fd 2 at exit.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\nBENCH_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
