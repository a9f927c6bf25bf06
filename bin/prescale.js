#!/usr/bin/env node
// Entry point: registers the TypeScript loader (tsx) and runs the CLI from src/.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv);
