// The sender thread's first module. Node 20 does not hand `--import tsx` on to
// worker threads, so the thread registers the TypeScript loader itself before
// loading its entry (src/notify/webhooks/sender-thread-entry.ts).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
