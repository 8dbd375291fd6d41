// StreamingQuery: the handle of a running query (Spark's StreamingQuery): progress$, lastProgress,
// stop() (finishes the batch in flight), awaitTermination(), processAllAvailable().

import { type Observable, Subject } from 'rxjs';
import type { MicroBatchExecution } from './engine.js';
import type { StreamingQueryListener, StreamingQueryProgress } from './progress.js';

const RECENT_PROGRESS = 100;

export class StreamingQuery {
  private readonly progressSubject = new Subject<StreamingQueryProgress>();
  /** Every batch's progress, as it finishes. Completes when the query terminates (errors if it failed). */
  readonly progress$: Observable<StreamingQueryProgress> = this.progressSubject.asObservable();
  /** The last RECENT_PROGRESS (100) progress reports, oldest first. */
  readonly recentProgress: StreamingQueryProgress[] = [];
  private error: Error | null = null;
  private active = true;
  private readonly terminated: Promise<void>;

  /** @internal Created by DataStreamWriter.start(). */
  constructor(
    private readonly execution: MicroBatchExecution,
    readonly name: string | null,
    listener: StreamingQueryListener,
  ) {
    this.terminated = this.runLoop(listener);
    this.terminated.catch(() => {}); // surfaced by awaitTermination / progress$
  }

  private async runLoop(listener: StreamingQueryListener): Promise<void> {
    try {
      await this.execution.run();
    } catch (error) {
      this.error = error instanceof Error ? error : new Error(String(error));
    } finally {
      await this.execution.close();
      this.active = false;
      listener.onQueryTerminated?.({ id: this.id, runId: this.runId, exception: this.error });
      if (this.error) this.progressSubject.error(this.error);
      else this.progressSubject.complete();
    }
    if (this.error) throw this.error;
  }

  /** @internal */
  onProgress(progress: StreamingQueryProgress): void {
    this.recentProgress.push(progress);
    if (this.recentProgress.length > RECENT_PROGRESS) this.recentProgress.shift();
    this.progressSubject.next(progress);
  }

  /** The query id: stable across restarts of the same checkpoint (the Delta txn appId). */
  get id(): string {
    return this.execution.queryId;
  }

  /** This run's id (new on every start). */
  get runId(): string {
    return this.execution.runId;
  }

  get isActive(): boolean {
    return this.active;
  }

  /** The error that terminated the query, or null. */
  get exception(): Error | null {
    return this.error;
  }

  get lastProgress(): StreamingQueryProgress | undefined {
    return this.recentProgress[this.recentProgress.length - 1];
  }

  /** Stops after the batch in flight has committed (or failed); resolves when everything is closed. */
  async stop(): Promise<void> {
    this.execution.requestStop();
    await this.terminated.catch(() => {});
  }

  /** Resolves when the query ends (trigger once/availableNow, or stop()); rejects with its failure. */
  awaitTermination(): Promise<void> {
    return this.terminated;
  }

  /**
   * Resolves once every row available in the source has been processed (the loop found no new
   * data), or when the query terminates; rejects if it fails. For tests and examples.
   */
  async processAllAvailable(): Promise<void> {
    if (!this.active) return this.terminated;
    await Promise.race([this.execution.whenIdle(), this.terminated]);
    if (this.error) throw this.error;
  }
}
