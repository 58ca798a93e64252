/** abstract-level's iterator classes that dynalite's stores use, now closed by dynalite's streams. */
export const iteratorClasses: Array<{ prototype: { close(): Promise<void> } }>;
