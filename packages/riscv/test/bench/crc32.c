/* CRC-32 (IEEE 802.3, reflected polynomial 0xedb88320), bitwise, over 16 KiB per round. */
#include "bench.h"
static u8 data[65536];
int main(void) {
  u32 seed = 1;
  for (u32 i = 0; i < sizeof data; i++) {
    seed = seed * 1103515245u + 12345u;
    data[i] = seed >> 16;
  }
  u32 crc = 0xffffffffu;
  for (int s = 0; s < SCALE; s++) {
    for (u32 i = 0; i < sizeof data / 4; i++) {
      crc ^= data[i];
      for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
  }
  report("crc32", ~crc);
  return 0;
}
