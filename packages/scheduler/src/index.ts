/** @backplane/scheduler — Virtual time, timer queues and the hart run loop for Backplane machines. */
export { HostClock, type HostTimeSource, VirtualClock } from "./clock.js";
export {
  type HostServices,
  RunLoop,
  type RunLoopOptions,
  type RunnableHart,
  type StopReason,
} from "./run-loop.js";
export { TimerQueue } from "./timer-queue.js";
