// Entry point of a cluster worker process (forked by src/cluster/primary.ts with tsx's loader):
// runs the data plane until the primary tells it to stop.
import { runWorker } from './worker.js';

await runWorker();
