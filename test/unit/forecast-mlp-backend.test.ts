import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMlp, loadTensorFlow } from '../../src/forecast/mlp.js';
import { day, noisy } from '../helpers/synthetic-series.js';

// The TensorFlow.js runtime is chosen once per thread, so this file (its own process under
// vitest's forks pool) breaks the WASM backend on purpose before anything else loads it.
describe('mlp training backend', () => {
  const muted = ['warn', 'error', 'log'] as const;
  beforeAll(() => {
    for (const method of muted) vi.spyOn(console, method).mockImplementation(() => undefined);
  });
  afterAll(() => vi.restoreAllMocks());

  it('falls back to the cpu backend with a reason when the WASM binaries cannot be loaded, and still trains', async () => {
    const runtime = await loadTensorFlow('wasm', '/nonexistent-wasm-directory');
    expect(runtime.backend).toBe('cpu');
    expect(runtime.fallback).toMatch(/wasm backend did not start.*; training on cpu$/);
    const history = noisy(8, 0, 5, 1);
    const model = createMlp({ intervalsPerDay: day, horizon: 6, hidden: 8, epochs: 5, autoTrain: false });
    const report = await model.train(history);
    expect(report).toMatchObject({ trained: true, backend: 'cpu' });
    expect(report.backendFallback).toBe(runtime.fallback);
    expect(model.forecast(history, 6, 0.9).fallback).toBeUndefined();
  });
});
