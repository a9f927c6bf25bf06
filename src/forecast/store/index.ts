/**
 * The model store's boundary (STYLE.md §12): `models/<id>/` directories holding meta.json (the
 * contract) and training.json (the data it was scored on), the `current` / `previous` pointers,
 * the evaluation that scores models for it, and the imports that seed the traffic log it trains on.
 */
export { FORMAT_VERSION, META_FILE, TRAINING_FILE, isModelId, modelMetaSchema, type ModelMeta, type TrainingFile } from './meta.js';
export { loadModel, resolveStoredModel, saveModel, type LoadedModel, type StoredModelChoice } from './model-store.js';
export { readPointer, setCurrent } from './pointers.js';
export { rollback, type RollbackResult } from './rollback.js';
export { modelProblemOf, type ModelProblem } from './store-error.js';
export { writeFileAtomic } from './atomic-file.js';
export { seriesSha256 } from './series-hash.js';
export { readTrainingSeries, type TrainingSeries } from './training-series.js';
export { evaluateModels, type Evaluation, type EvaluationRequest } from './evaluate.js';
export { evaluateInWorker } from './evaluate-thread.js';
export { importTrace } from './import-trace.js';
export { importPrometheus, parseInstant, type PrometheusImport } from './import-prometheus.js';
export { formatImportSummary, type ImportSummary } from './log-import.js';
