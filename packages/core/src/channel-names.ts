/** Channel names: process-unique names and the set of open channels (`chan names`). */

let channelCounter = 0;
export const openNames = new Set<string>();

/** A fresh process-unique channel name: `prefix` followed by a number (`sock7`). */
export function nextChannelName(prefix = 'sock'): string {
  channelCounter += 1;
  return `${prefix}${channelCounter}`;
}

/** Names of the open channels of this process (`chan names`), in creation order. */
export function channelNames(): string[] {
  return [...openNames];
}
