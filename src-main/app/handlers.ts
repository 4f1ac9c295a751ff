/**
 * Every contract method that reads or changes the store, assembled from the use cases: the
 * library, the run view, the compare view and the exports. The store worker
 * (hosts/worker/store-worker.ts), which both the browser host and the Electron backend run,
 * answers requests with these, so the database never runs on a request or UI thread.
 *
 * Contract: `createStoreService(store)` → `{ handlers, warmLatest }`; inputs are already validated
 * by the dispatcher; errors are `AppError` (code + one sentence). Deleting a run drops every cache
 * that holds it.
 */
import type { Store } from '../store/types.ts';
import type { Handlers, StoreMethod } from '../contract/contract.ts';
import { libraryHandlers } from './library.ts';
import { RunViews } from './run-view.ts';
import { CompareViews } from './compare-view.ts';
import { matrixOfRuns, MatrixError } from './matrix.ts';
import { AppError } from '../contract/errors.ts';
import { exportHandlers } from './export-files.ts';

export interface StoreService {
  handlers: Handlers<StoreMethod>;
  /** Load the newest run's index ahead of time (the run most likely to be opened next). */
  warmLatest(): Promise<void>;
}

export function createStoreService(store: Store): StoreService {
  const runs = new RunViews(store);
  const compares = new CompareViews(store, runs);
  const runHandlers = runs.handlers();
  const handlers: Handlers<StoreMethod> = {
    ...libraryHandlers(store, (runId) => {
      runs.drop(runId);
      compares.forget();
    }),
    ...runHandlers,
    ...compares.handlers(),
    matrix: async ({ runs: ids }) => {
      try {
        return await matrixOfRuns(store, ids);
      } catch (e) {
        if (e instanceof MatrixError) throw new AppError('not-found', e.message);
        throw e;
      }
    },
    ...exportHandlers(store, runs, compares, runHandlers.graphAt),
  };
  return {
    handlers,
    async warmLatest() {
      const id = await store.latestRunId();
      if (id !== null) await runs.index(id);
    },
  };
}
