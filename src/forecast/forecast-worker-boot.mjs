// Worker-thread bootstrap: loader hooks are per thread, so register tsx here, then run the
// TypeScript worker (forecast-worker.ts).
import { register } from 'tsx/esm/api';

register();
await import('./forecast-worker.ts');
