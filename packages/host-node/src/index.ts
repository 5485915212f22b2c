/** @backplane/host-node — Node.js host adapters for Backplane: files as byte sources, stdio as a character backend, host time. */
export {};
