import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Nice value of the service's model threads (forecasting, scheduled retraining). 10 gives the
 * thread about a tenth of the CPU weight of the event loop (the kernel's nice-to-weight table:
 * 110 against 1024), so the event loop preempts it at once on a wake-up, yet a busy proxy cannot
 * starve it the way 19 (weight 15) could.
 */
export const SERVICE_THREAD_NICE = 10;

/**
 * Lowers the scheduling priority (raises the nice value) of the calling thread only, so a worker
 * thread that fits models yields the CPU to the proxy's event loop whenever both want it, also
 * when the whole process is pinned to one core.
 *
 * Linux only: threads have their own nice value there (setpriority(2), "NOTES": PRIO_PROCESS
 * with a thread ID affects that thread), and /proc/thread-self names the calling thread's ID.
 * Elsewhere, or when the kernel refuses, it does nothing and returns false; the thread then
 * simply keeps the process's priority.
 * @param nice 0..19 (19, the default, is the lowest priority an unprivileged process may set)
 * @returns whether the priority was changed
 */
export function lowerThreadPriority(nice = 19): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
