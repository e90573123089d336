/**
 * A FIFO of waiting items that answers "how many are ahead of me" in O(log n) and supports removal
 * from the middle (a cancelled request), so thousands of queued requests can be polled cheaply.
 * Each item gets an ever-increasing ticket when pushed.
 */
export interface FifoQueue<T> {
  /** Live items waiting. */
  readonly size: number;
  push(item: T): number;
  /** Take the oldest live item. */
  shift(): T | undefined;
  /** Drop the item holding `ticket` (no-op if it already left). */
  remove(ticket: number): void;
  /** Live items ahead of `ticket` (0 = next to start). */
  position(ticket: number): number;
  clear(): void;
}

function lowerBound(sorted: number[], from: number, value: number): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function createFifoQueue<T>(): FifoQueue<T> {
  let items: (T | undefined)[] = [];
  let base = 0; // ticket of items[0]
  let head = 0; // index into items of the oldest entry not yet shifted
  // Tickets removed from the middle that the head has not passed yet, sorted; [removedStart, …) are live.
  let removed: number[] = [];
  let removedStart = 0;
  let live = 0;

  const compact = (): void => {
    if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      base += head;
      head = 0;
    }
    if (removedStart > 1024 && removedStart * 2 > removed.length) {
      removed = removed.slice(removedStart);
      removedStart = 0;
    }
  };

  return {
    get size() {
      return live;
    },
    push(item) {
      items.push(item);
      live++;
      return base + items.length - 1;
    },
    shift() {
      while (head < items.length) {
        const ticket = base + head;
        const item = items[head];
        items[head] = undefined;
        head++;
        if (removedStart < removed.length && removed[removedStart] === ticket) {
          removedStart++;
          continue;
        }
        live--;
        compact();
        return item;
      }
      return undefined;
    },
    remove(ticket) {
      const index = ticket - base;
      if (index < head || index >= items.length) return;
      const at = lowerBound(removed, removedStart, ticket);
      if (removed[at] === ticket) return;
      removed.splice(at, 0, ticket);
      items[index] = undefined;
      live--;
    },
    position(ticket) {
      const ahead = ticket - (base + head);
      return Math.max(0, ahead - (lowerBound(removed, removedStart, ticket) - removedStart));
    },
    clear() {
      items = [];
      base = 0;
      head = 0;
      removed = [];
      removedStart = 0;
      live = 0;
    },
  };
}
