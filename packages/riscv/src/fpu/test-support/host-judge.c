/* Host judge for the FPU tests: reads "op rm a b c" lines (operands as hex bit
 * patterns or integers) and prints "result flags" in hex, computed by the host
 * CPU's IEEE 754 hardware under fesetround, with fflags-encoded exceptions
 * (NX=1 UF=2 OF=4 DZ=8 NV=16). rm 0..3 = RNE RTZ RDN RUP; no RMM on x86.
 * glibc's fma()/fmaf() run the CPU's FMA instructions where it has them. */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#pragma STDC FENV_ACCESS ON

static float f32(uint64_t x) { uint32_t u = (uint32_t)x; float f; memcpy(&f, &u, 4); return f; }
static double f64(uint64_t x) { double d; memcpy(&d, &x, 8); return d; }
static uint64_t b32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static uint64_t b64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

int main(void) {
  static const int modes[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};
  char op[32];
  int rm;
  unsigned long long a, b, c;
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  while (scanf("%31s %d %llx %llx %llx", op, &rm, &a, &b, &c) == 5) {
    volatile float fa = f32(a), fb = f32(b), fc = f32(c);
    volatile double da = f64(a), db = f64(b), dc = f64(c);
    volatile uint64_t r = 0;
    fesetround(modes[rm]);
    feclearexcept(FE_ALL_EXCEPT);
    if (!strcmp(op, "f32Add")) r = b32(fa + fb);
    else if (!strcmp(op, "f32Sub")) r = b32(fa - fb);
    else if (!strcmp(op, "f32Mul")) r = b32(fa * fb);
    else if (!strcmp(op, "f32Div")) r = b32(fa / fb);
    else if (!strcmp(op, "f32Sqrt")) r = b32(sqrtf(fa));
    else if (!strcmp(op, "f32MulAdd")) r = b32(fmaf(fa, fb, fc));
    else if (!strcmp(op, "f32Eq")) r = fa == fb;
    else if (!strcmp(op, "f32Lt")) r = fa < fb;
    else if (!strcmp(op, "f32Le")) r = fa <= fb;
    else if (!strcmp(op, "f32ToF64")) r = b64((double)fa);
    else if (!strcmp(op, "f64Add")) r = b64(da + db);
    else if (!strcmp(op, "f64Sub")) r = b64(da - db);
    else if (!strcmp(op, "f64Mul")) r = b64(da * db);
    else if (!strcmp(op, "f64Div")) r = b64(da / db);
    else if (!strcmp(op, "f64Sqrt")) r = b64(sqrt(da));
    else if (!strcmp(op, "f64MulAdd")) r = b64(fma(da, db, dc));
    else if (!strcmp(op, "f64Eq")) r = da == db;
    else if (!strcmp(op, "f64Lt")) r = da < db;
    else if (!strcmp(op, "f64Le")) r = da <= db;
    else if (!strcmp(op, "f64ToF32")) r = b32((float)da);
    else if (!strcmp(op, "i32ToF32")) { volatile int32_t v = (int32_t)a; r = b32((float)v); }
    else if (!strcmp(op, "u32ToF32")) { volatile uint32_t v = (uint32_t)a; r = b32((float)v); }
    else if (!strcmp(op, "i64ToF32")) { volatile int64_t v = (int64_t)a; r = b32((float)v); }
    else if (!strcmp(op, "u64ToF32")) { volatile uint64_t v = a; r = b32((float)v); }
    else if (!strcmp(op, "i32ToF64")) { volatile int32_t v = (int32_t)a; r = b64((double)v); }
    else if (!strcmp(op, "u32ToF64")) { volatile uint32_t v = (uint32_t)a; r = b64((double)v); }
    else if (!strcmp(op, "i64ToF64")) { volatile int64_t v = (int64_t)a; r = b64((double)v); }
    else if (!strcmp(op, "u64ToF64")) { volatile uint64_t v = a; r = b64((double)v); }
    else { printf("? 0\n"); continue; }
    int e = fetestexcept(FE_ALL_EXCEPT);
    int flags = (e & FE_INEXACT ? 1 : 0) | (e & FE_UNDERFLOW ? 2 : 0) | (e & FE_OVERFLOW ? 4 : 0) |
                (e & FE_DIVBYZERO ? 8 : 0) | (e & FE_INVALID ? 16 : 0);
    printf("%llx %x\n", (unsigned long long)r, flags);
  }
  return 0;
}
