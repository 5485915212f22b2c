/* Freestanding helpers for the CPU benchmark guests: output through the test runtime (runtime.S). */
#ifndef BENCH_H
#define BENCH_H
/* SCALE repeats the workload; the bench builds each guest at several scales. */
#ifndef SCALE
#define SCALE 1
#endif
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;
void bp_puts(const char *s);
void bp_puthex(u64 v);
static inline void report(const char *name, u64 value) {
  bp_puts(name);
  bp_puts("=");
  bp_puthex(value);
  bp_puts("\n");
}
#endif
