/** @backplane/syscon — The SiFive test finisher / syscon poweroff and reboot device. */
export {};
