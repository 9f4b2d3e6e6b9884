/**
 * Keeping collections keyed by ids from Kafka bounded: anything that can publish on a topic can
 * invent ids, so a Map or Set filled from messages keeps only its newest entries.
 */

/** Deletes the oldest entries (in insertion order) until `collection` holds at most `max`. */
export function trimOldest(collection: Map<unknown, unknown> | Set<unknown>, max: number): void {
  // Deleting the entry just visited is safe while iterating a Map or Set.
  for (const key of collection.keys()) {
    if (collection.size <= max) return;
    collection.delete(key);
  }
}
