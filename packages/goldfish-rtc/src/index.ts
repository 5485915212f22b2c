/** @backplane/goldfish-rtc — The Android goldfish real-time clock model, with alarm interrupt. */
export {};
