import type { Bucket } from './traffic-series.js';

/**
 * Bounded FIFO of closed buckets: a ring buffer of `capacity` slots, oldest dropped first.
 * Keeps the request counts in a parallel Float64Array so `values()` is one tight copy loop.
 *
 * Cost: `push` O(1) without allocation; `values`/`toArray` O(n); `replace` O(n).
 */
export class BucketRing {
  private readonly slots: (Bucket | undefined)[];
  private readonly requests: Float64Array;
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<Bucket | undefined>(capacity).fill(undefined);
    this.requests = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Append a bucket as the newest; drops the oldest when full. */
  push(bucket: Bucket): void {
    const at = (this.head + this.size) % this.capacity;
    this.slots[at] = bucket;
    this.requests[at] = bucket.requests;
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity;
  }

  /** Bucket at position i, 0 = oldest; undefined outside [0, length). */
  at(i: number): Bucket | undefined {
    if (i < 0 || i >= this.size) return undefined;
    return this.slots[(this.head + i) % this.capacity];
  }

  /** Newest bucket or undefined. */
  newest(): Bucket | undefined {
    return this.at(this.size - 1);
  }

  /** Oldest bucket or undefined. */
  oldest(): Bucket | undefined {
    return this.at(0);
  }

  /** Request counts oldest first, as a new array. */
  values(): number[] {
    const out = new Array<number>(this.size);
    const firstRun = Math.min(this.size, this.capacity - this.head);
    for (let i = 0; i < firstRun; i++) out[i] = this.requests[this.head + i] ?? 0;
    for (let i = firstRun; i < this.size; i++) out[i] = this.requests[i - firstRun] ?? 0;
    return out;
  }

  /** Buckets oldest first, as a new array (the buckets themselves are shared and frozen). */
  toArray(): Bucket[] {
    const out = new Array<Bucket>(this.size);
    for (let i = 0; i < this.size; i++) {
      out[i] = this.slots[(this.head + i) % this.capacity] as Bucket;
    }
    return out;
  }

  /** Replace the whole content with `buckets` (oldest first); keeps the newest `capacity`. */
  replace(buckets: readonly Bucket[]): void {
    this.slots.fill(undefined);
    this.requests.fill(0);
    this.head = 0;
    this.size = 0;
    const from = Math.max(0, buckets.length - this.capacity);
    for (let i = from; i < buckets.length; i++) this.push(buckets[i] as Bucket);
  }
}
