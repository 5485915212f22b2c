/** @backplane/aclint — A RISC-V ACLINT/CLINT model: machine timer (mtime/mtimecmp) and software interrupts (msip). */
export {};
