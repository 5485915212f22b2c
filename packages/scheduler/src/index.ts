/** @backplane/scheduler — Virtual time, timer queues and vCPU scheduling for Backplane machines. */
export {};
