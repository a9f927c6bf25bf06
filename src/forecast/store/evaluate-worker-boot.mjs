// Worker-thread bootstrap: loader hooks are per thread, so register tsx here, then run the
// TypeScript worker (evaluate-worker.ts).
import { register } from 'tsx/esm/api';

register();
await import('./evaluate-worker.ts');
