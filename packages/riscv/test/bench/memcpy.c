/* memcpy: copies a 64 KiB buffer back and forth with 8-byte and byte loops. */
#include "bench.h"
static u64 a[8192], b[8192];
static void copy64(u64 *d, const u64 *s, u64 n) { for (u64 i = 0; i < n; i++) d[i] = s[i]; }
static void copy8(u8 *d, const u8 *s, u64 n) { for (u64 i = 0; i < n; i++) d[i] = s[i]; }
int main(void) {
  for (u64 i = 0; i < 8192; i++) a[i] = i * 0x9e3779b97f4a7c15UL;
  for (int r = 0; r < 10 * SCALE; r++) {
    copy64(b, a, 8192);
    b[r % 8192] += r;
    copy8((u8 *)a, (const u8 *)b, 8192 * 8 / 4);
  }
  u64 sum = 0;
  for (u64 i = 0; i < 8192; i++) sum += a[i] + 3 * b[i];
  report("memcpy", sum);
  return 0;
}
