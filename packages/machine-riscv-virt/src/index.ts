/** @backplane/machine-riscv-virt — A RISC-V 'virt' board matching QEMU's memory map, composed from Backplane packages, with generated device tree. */
export {};
