/* Sort: heapsort of 4096 pseudo-random 64-bit keys, then a checksum of the order. */
#include "bench.h"
#define N 4096
static u64 v[N];
static void sift(u64 *a, u64 start, u64 end) {
  u64 root = start;
  while (2 * root + 1 <= end) {
    u64 child = 2 * root + 1;
    if (child + 1 <= end && a[child] < a[child + 1]) child++;
    if (a[root] >= a[child]) return;
    u64 t = a[root]; a[root] = a[child]; a[child] = t;
    root = child;
  }
}
int main(void) {
  u64 x = 88172645463325252UL, h = 0, ok = 1;
  for (int round = 0; round < SCALE; round++) {
  for (u64 i = 0; i < N; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    v[i] = x;
  }
  for (u64 s = N / 2; s-- > 0;) sift(v, s, N - 1);
  for (u64 end = N - 1; end > 0; end--) {
    u64 t = v[0]; v[0] = v[end]; v[end] = t;
    sift(v, 0, end - 1);
  }
  for (u64 i = 0; i < N; i++) {
    h = h * 31 + v[i];
    if (i > 0 && v[i - 1] > v[i]) ok = 0;
  }
  }
  report("sorted", ok);
  report("sort", h);
  return ok ? 0 : 1;
}
