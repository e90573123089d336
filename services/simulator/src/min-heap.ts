/** A binary min-heap ordered by a numeric key (render finish times, in ms). */
export interface MinHeap<T> {
  readonly size: number;
  push(key: number, value: T): void;
  peekKey(): number | undefined;
  pop(): { key: number; value: T } | undefined;
  clear(): void;
}

export function createMinHeap<T>(): MinHeap<T> {
  let keys: number[] = [];
  let values: T[] = [];
  const swap = (a: number, b: number): void => {
    [keys[a], keys[b]] = [keys[b]!, keys[a]!];
    [values[a], values[b]] = [values[b]!, values[a]!];
  };
  return {
    get size() {
      return keys.length;
    },
    push(key, value) {
      keys.push(key);
      values.push(value);
      let i = keys.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (keys[parent]! <= keys[i]!) break;
        swap(i, parent);
        i = parent;
      }
    },
    peekKey() {
      return keys[0];
    },
    pop() {
      if (keys.length === 0) return undefined;
      const top = { key: keys[0]!, value: values[0]! };
      const lastKey = keys.pop()!;
      const lastValue = values.pop()!;
      if (keys.length > 0) {
        keys[0] = lastKey;
        values[0] = lastValue;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let smallest = i;
          if (l < keys.length && keys[l]! < keys[smallest]!) smallest = l;
          if (r < keys.length && keys[r]! < keys[smallest]!) smallest = r;
          if (smallest === i) break;
          swap(i, smallest);
          i = smallest;
        }
      }
      return top;
    },
    clear() {
      keys = [];
      values = [];
    },
  };
}
