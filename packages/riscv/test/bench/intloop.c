/* Integer loop: arithmetic, shifts and a data-dependent branch in a tight loop. */
#include "bench.h"
int main(void) {
  u64 x = 0x123456789abcdefUL, acc = 0;
  for (u64 i = 0; i < 500000UL * SCALE; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    acc += (x & 1) ? x >> 3 : i * 3;
  }
  report("intloop", acc);
  return 0;
}
