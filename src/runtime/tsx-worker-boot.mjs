// Worker-thread bootstrap for running our TypeScript sources (src/runtime/module-entry.ts,
// workerEntry): loader hooks are per thread and worker threads do not accept `--import`, so
// register tsx here, then import the module whose URL workerEntry appended to process.argv.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[process.argv.length - 1]);
