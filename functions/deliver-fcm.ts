// Wired in the walking-skeleton issue; see lib/ for the logic.
export const handler = async (): Promise<void> => {};
