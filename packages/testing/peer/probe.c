/*
 * QEMU peer probe: performs the MMIO accesses listed in ops.h on QEMU's virt
 * board, records every read (and mip CSR samples), then prints the results
 * on the UART and powers off through the SiFive test finisher.
 */
#include <stdint.h>

enum { OP_WRITE = 0, OP_READ = 1, OP_MIP = 2 };
struct op { uint8_t kind; uint8_t width; uint64_t addr; uint64_t value; };
#include "ops.h"

#define UART ((volatile uint8_t *)0x10000000UL)
#define FINISHER ((volatile uint32_t *)0x100000UL)

static uint64_t results[sizeof(ops) / sizeof(ops[0])];

static uint64_t mmio_read(uint64_t addr, int width) {
  switch (width) {
    case 1: return *(volatile uint8_t *)addr;
    case 2: return *(volatile uint16_t *)addr;
    case 4: return *(volatile uint32_t *)addr;
    default: return *(volatile uint64_t *)addr;
  }
}

static void mmio_write(uint64_t addr, int width, uint64_t value) {
  switch (width) {
    case 1: *(volatile uint8_t *)addr = (uint8_t)value; break;
    case 2: *(volatile uint16_t *)addr = (uint16_t)value; break;
    case 4: *(volatile uint32_t *)addr = (uint32_t)value; break;
    default: *(volatile uint64_t *)addr = value; break;
  }
}

static void putc_uart(char c) {
  while (!(UART[5] & 0x20)) {}
  UART[0] = (uint8_t)c;
}

static void put_hex(uint64_t v) {
  for (int shift = 60; shift >= 0; shift -= 4) putc_uart("0123456789abcdef"[(v >> shift) & 0xf]);
}

int main(void) {
  unsigned n = 0;
  for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    const struct op *o = &ops[i];
    if (o->kind == OP_WRITE) mmio_write(o->addr, o->width, o->value);
    else if (o->kind == OP_READ) results[n++] = mmio_read(o->addr, o->width);
    else { uint64_t mip; __asm__ volatile("csrr %0, mip" : "=r"(mip)); results[n++] = mip; }
  }
  /* Put the UART back into a plain transmit state before printing. */
  UART[3] = 0x03; UART[4] = 0x00; UART[2] = 0x00; UART[1] = 0x00;
  for (unsigned i = 0; i < n; i++) { putc_uart('R'); putc_uart(' '); put_hex(results[i]); putc_uart('\n'); }
  putc_uart('E'); putc_uart('N'); putc_uart('D'); putc_uart('\n');
  *FINISHER = 0x5555;
  for (;;) {}
}
