/**
 * Runs async tasks one at a time, in the order they were handed in. A task's failure belongs to its caller
 * alone: the next task runs all the same.
 */
export class SerialQueue {
  /** Settles (never rejects) once the last task handed in has settled. */
  private tail: Promise<void> = Promise.resolve();

  /** Runs `task` after every task handed in before it; resolves or rejects as the task does. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(ignore, ignore);
    return result;
  }

  /** Resolves once every task handed in so far has settled (tasks added later are not waited for). */
  idle(): Promise<void> {
    return this.tail;
  }
}

const ignore = (): void => undefined;
