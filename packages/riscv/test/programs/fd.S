/*
 * F and D extensions (unprivileged spec chapters 11 and 12): arithmetic in
 * every static rounding mode and through frm, fused multiply-add, conversions
 * with out-of-range inputs, NaN canonicalisation and NaN boxing, signed zero,
 * subnormals, FCLASS, comparisons; fflags after each operation.
 */
#include "bp.h"
/* ops on single-precision bit patterns: result bits then flags */
.macro S2 op, name, a, b, rm=dyn
  li t0, \a
  fmv.w.x fa0, t0
  li t0, \b
  fmv.w.x fa1, t0
  \op fa2, fa0, fa1, \rm
  PRINTF \name, fa2
  PRINT_FFLAGS \name\()_fl
.endm
.macro D2 op, name, a, b, rm=dyn
  li t0, \a
  fmv.d.x fa0, t0
  li t0, \b
  fmv.d.x fa1, t0
  \op fa2, fa0, fa1, \rm
  PRINTD \name, fa2
  PRINT_FFLAGS \name\()_fl
.endm
/* ops without rounding mode (min/max/sgnj) */
.macro S2N op, name, a, b
  li t0, \a
  fmv.w.x fa0, t0
  li t0, \b
  fmv.w.x fa1, t0
  \op fa2, fa0, fa1
  PRINTF \name, fa2
  PRINT_FFLAGS \name\()_fl
.endm
.macro D2N op, name, a, b
  li t0, \a
  fmv.d.x fa0, t0
  li t0, \b
  fmv.d.x fa1, t0
  \op fa2, fa0, fa1
  PRINTD \name, fa2
  PRINT_FFLAGS \name\()_fl
.endm
/* comparisons: integer result */
.macro SCMP op, name, a, b
  li t0, \a
  fmv.w.x fa0, t0
  li t0, \b
  fmv.w.x fa1, t0
  \op a0, fa0, fa1
  PRINT \name, a0
  PRINT_FFLAGS \name\()_fl
.endm
.macro DCMP op, name, a, b
  li t0, \a
  fmv.d.x fa0, t0
  li t0, \b
  fmv.d.x fa1, t0
  \op a0, fa0, fa1
  PRINT \name, a0
  PRINT_FFLAGS \name\()_fl
.endm
/* float -> integer conversions */
.macro CVTSI op, name, a, rm=dyn
  li t0, \a
  fmv.w.x fa0, t0
  \op a0, fa0, \rm
  PRINT \name, a0
  PRINT_FFLAGS \name\()_fl
.endm
.macro CVTDI op, name, a, rm=dyn
  li t0, \a
  fmv.d.x fa0, t0
  \op a0, fa0, \rm
  PRINT \name, a0
  PRINT_FFLAGS \name\()_fl
.endm
/* integer -> float */
.macro CVTIS op, name, a, rm=dyn
  li t0, \a
  \op fa0, t0, \rm
  PRINTF \name, fa0
  PRINT_FFLAGS \name\()_fl
.endm
.macro CVTID op, name, a, rm=dyn
  li t0, \a
  \op fa0, t0, \rm
  PRINTD \name, fa0
  PRINT_FFLAGS \name\()_fl
.endm
.macro S3 op, name, a, b, c, rm=dyn
  li t0, \a
  fmv.w.x fa0, t0
  li t0, \b
  fmv.w.x fa1, t0
  li t0, \c
  fmv.w.x fa3, t0
  \op fa2, fa0, fa1, fa3, \rm
  PRINTF \name, fa2
  PRINT_FFLAGS \name\()_fl
.endm
.macro D3 op, name, a, b, c, rm=dyn
  li t0, \a
  fmv.d.x fa0, t0
  li t0, \b
  fmv.d.x fa1, t0
  li t0, \c
  fmv.d.x fa3, t0
  \op fa2, fa0, fa1, fa3, \rm
  PRINTD \name, fa2
  PRINT_FFLAGS \name\()_fl
.endm
.macro ROUNDINGS_S name, op, a, b
  S2 \op, \name\()_rne, \a, \b, rne
  S2 \op, \name\()_rtz, \a, \b, rtz
  S2 \op, \name\()_rdn, \a, \b, rdn
  S2 \op, \name\()_rup, \a, \b, rup
  S2 \op, \name\()_rmm, \a, \b, rmm
.endm
.macro ROUNDINGS_D name, op, a, b
  D2 \op, \name\()_rne, \a, \b, rne
  D2 \op, \name\()_rtz, \a, \b, rtz
  D2 \op, \name\()_rdn, \a, \b, rdn
  D2 \op, \name\()_rup, \a, \b, rup
  D2 \op, \name\()_rmm, \a, \b, rmm
.endm

#define S_ONE 0x3f800000
#define S_THREE 0x40400000
#define S_NEG_ONE 0xbf800000
#define S_INF 0x7f800000
#define S_NINF 0xff800000
#define S_QNAN 0x7fc00000
#define S_SNAN 0x7f800001
#define S_NZERO 0x80000000
#define S_MAX 0x7f7fffff
#define S_MINSUB 0x00000001
#define S_MINNORM 0x00800000
#define D_ONE 0x3ff0000000000000
#define D_THREE 0x4008000000000000
#define D_INF 0x7ff0000000000000
#define D_NINF 0xfff0000000000000
#define D_QNAN 0x7ff8000000000000
#define D_SNAN 0x7ff0000000000001
#define D_NZERO 0x8000000000000000
#define D_MAX 0x7fefffffffffffff
#define D_MINSUB 0x0000000000000001

  .globl main
main:
  mv s11, ra
  li t0, 1 << 13
  csrs mstatus, t0
  csrw fcsr, zero
  /* every rounding mode on an inexact quotient, positive and negative */
  ROUNDINGS_S divs, fdiv.s, S_ONE, S_THREE
  ROUNDINGS_S divsn, fdiv.s, S_NEG_ONE, S_THREE
  ROUNDINGS_D divd, fdiv.d, D_ONE, D_THREE
  ROUNDINGS_D divdn, fdiv.d, 0xbff0000000000000, D_THREE
  /* ties: 1 + 2^-24 (exactly half an ulp) */
  ROUNDINGS_S ties, fadd.s, S_ONE, 0x33800000
  ROUNDINGS_D tied, fadd.d, D_ONE, 0x3ca0000000000000
  /* dynamic rounding through frm */
  .irp rm, 0, 1, 2, 3, 4
  csrwi frm, \rm
  S2 fmul.s, mul_frm\rm, 0x3f8ccccd, 0x3f8ccccd
  D2 fsub.d, sub_frm\rm, D_ONE, 0x3c90000000000001
  .endr
  csrwi frm, 0
  /* overflow in each mode: MAX + MAX */
  ROUNDINGS_S ovfs, fadd.s, S_MAX, S_MAX
  ROUNDINGS_D ovfd, fmul.d, D_MAX, D_THREE
  /* underflow and subnormals */
  S2 fmul.s, subn_s, S_MINNORM, 0x3f000000
  S2 fmul.s, unf_s, S_MINSUB, 0x3f000000
  D2 fmul.d, unf_d, D_MINSUB, 0x3fe0000000000000
  D2 fmul.d, unf_d_rup, D_MINSUB, 0x3fe0000000000000, rup
  /* special values */
  S2 fadd.s, inf_minus_inf, S_INF, S_NINF
  S2 fmul.s, zero_times_inf, 0, S_INF
  S2 fdiv.s, div_zero, S_ONE, 0
  S2 fdiv.s, zero_div_zero, 0, 0
  S2 fadd.s, snan_add, S_SNAN, S_ONE
  S2 fadd.s, qnan_add, 0x7fc12345, S_ONE
  S2 fadd.s, nzero_sum, S_NZERO, S_NZERO
  S2 fsub.s, zero_diff_rdn, S_ONE, S_ONE, rdn
  D2 fadd.d, snan_addd, D_SNAN, D_ONE
  D2 fdiv.d, div_zerod, 0xbff0000000000000, 0
  D2 fsub.d, inf_minus_infd, D_INF, D_INF
  /* sqrt */
  li t0, 0x40000000
  fmv.w.x fa0, t0
  fsqrt.s fa1, fa0
  PRINTF sqrt2, fa1
  PRINT_FFLAGS sqrt2_fl
  fmv.w.x fa0, zero
  li t0, S_NEG_ONE
  fmv.w.x fa0, t0
  fsqrt.s fa1, fa0
  PRINTF sqrt_neg, fa1
  PRINT_FFLAGS sqrt_neg_fl
  li t0, D_NZERO
  fmv.d.x fa0, t0
  fsqrt.d fa1, fa0
  PRINTD sqrt_nzero, fa1
  PRINT_FFLAGS sqrt_nzero_fl
  li t0, 0x4000000000000000
  fmv.d.x fa0, t0
  fsqrt.d fa1, fa0, rup
  PRINTD sqrt2d_rup, fa1
  PRINT_FFLAGS sqrt2d_rup_fl
  /* min/max: signed zero, one NaN, two NaNs, sNaN signals */
  S2N fmin.s, min_zeros, 0, S_NZERO
  S2N fmax.s, max_zeros, S_NZERO, 0
  S2N fmin.s, min_qnan, S_QNAN, S_ONE
  S2N fmax.s, max_snan, S_SNAN, S_ONE
  S2N fmin.s, min_nans, S_SNAN, S_QNAN
  D2N fmin.d, min_zerosd, D_NZERO, 0
  D2N fmax.d, max_snand, D_ONE, D_SNAN
  D2N fmax.d, max_nansd, D_QNAN, D_QNAN
  /* sign injection keeps NaN payloads */
  S2N fsgnj.s, sgnj, S_SNAN, S_NZERO
  S2N fsgnjn.s, sgnjn, S_ONE, S_ONE
  S2N fsgnjx.s, sgnjx, S_NEG_ONE, S_NEG_ONE
  D2N fsgnjn.d, sgnjnd, D_QNAN, D_QNAN
  D2N fsgnjx.d, sgnjxd, D_NINF, D_NZERO
  /* comparisons: feq is quiet, flt/fle signal on any NaN */
  SCMP feq.s, feq_qnan, S_QNAN, S_QNAN
  SCMP feq.s, feq_snan, S_SNAN, S_ONE
  SCMP flt.s, flt_qnan, S_QNAN, S_ONE
  SCMP fle.s, fle_zeros, S_NZERO, 0
  SCMP flt.s, flt_zeros, S_NZERO, 0
  DCMP feq.d, feq_zerosd, D_NZERO, 0
  DCMP fle.d, fle_nand, D_ONE, D_QNAN
  DCMP flt.d, flt_d, D_ONE, D_THREE
  /* fclass: one of every class */
  .irp v, S_NINF, S_NEG_ONE, 0x807fffff, S_NZERO, 0, S_MINSUB, S_ONE, S_INF, S_SNAN, S_QNAN
  li t0, \v
  fmv.w.x fa0, t0
  fclass.s a0, fa0
  PRINT fclass_s, a0
  .endr
  .irp v, D_NINF, 0x800fffffffffffff, D_NZERO, D_MINSUB, D_INF, D_SNAN, D_QNAN
  li t0, \v
  fmv.d.x fa0, t0
  fclass.d a0, fa0
  PRINT fclass_d, a0
  .endr
  /* float -> integer with rounding, NaN, infinities, out of range */
  CVTSI fcvt.w.s, cvtws_rne, 0x3fc00000, rne
  CVTSI fcvt.w.s, cvtws_rmm, 0xc0200000, rmm
  CVTSI fcvt.w.s, cvtws_rdn, 0xbfc00000, rdn
  CVTSI fcvt.w.s, cvtws_rup, 0x3f800001, rup
  CVTSI fcvt.w.s, cvtws_nan, S_QNAN, rtz
  CVTSI fcvt.w.s, cvtws_ninf, S_NINF, rtz
  CVTSI fcvt.w.s, cvtws_big, 0x4f000000, rtz
  CVTSI fcvt.wu.s, cvtwus_neg, S_NEG_ONE, rtz
  CVTSI fcvt.wu.s, cvtwus_negsmall, 0xbf000000, rtz
  CVTSI fcvt.wu.s, cvtwus_big, 0x4f800000, rtz
  CVTSI fcvt.l.s, cvtls_nan, S_SNAN, rtz
  CVTSI fcvt.lu.s, cvtlus_inf, S_INF, rtz
  CVTDI fcvt.w.d, cvtwd_neg, 0xc1e0000000200000, rtz
  CVTDI fcvt.w.d, cvtwd_minexact, 0xc1e0000000000000, rtz
  CVTDI fcvt.l.d, cvtld_big, 0x43e0000000000000, rtz
  CVTDI fcvt.l.d, cvtld_rne, 0x4004000000000000, rne
  CVTDI fcvt.lu.d, cvtlud_neg, 0xbff0000000000000, rtz
  CVTDI fcvt.lu.d, cvtlud_max, 0x43efffffffffffff, rtz
  CVTDI fcvt.wu.d, cvtwud_nan, D_QNAN, rtz
  /* integer -> float */
  CVTIS fcvt.s.w, cvtsw, 0x7fffffff, rne
  CVTIS fcvt.s.w, cvtsw_rtz, 0x7fffffff, rtz
  CVTIS fcvt.s.wu, cvtswu, 0xffffffffffffffff, rdn
  CVTIS fcvt.s.l, cvtsl, 0x8000000000000001, rup
  CVTIS fcvt.s.lu, cvtslu, 0xffffffffffffffff, rne
  CVTID fcvt.d.l, cvtdl, 0x7fffffffffffffff, rtz
  CVTID fcvt.d.lu, cvtdlu, 0xffffffffffffffff, rmm
  li t0, 0xffffffff80000000
  fcvt.d.w fa0, t0
  PRINTD cvtdw, fa0
  li t0, 0xffffffffffffffff
  fcvt.d.wu fa0, t0
  PRINTD cvtdwu, fa0
  PRINT_FFLAGS cvtdw_fl
  /* single <-> double */
  li t0, D_SNAN
  fmv.d.x fa0, t0
  fcvt.s.d fa1, fa0
  PRINTF cvtsd_snan, fa1
  PRINT_FFLAGS cvtsd_snan_fl
  li t0, 0x3ff0000010000000
  fmv.d.x fa0, t0
  fcvt.s.d fa1, fa0, rup
  PRINTF cvtsd_rup, fa1
  PRINT_FFLAGS cvtsd_rup_fl
  li t0, D_MAX
  fmv.d.x fa0, t0
  fcvt.s.d fa1, fa0, rtz
  PRINTF cvtsd_ovf_rtz, fa1
  PRINT_FFLAGS cvtsd_ovf_rtz_fl
  li t0, S_SNAN
  fmv.w.x fa0, t0
  fcvt.d.s fa1, fa0
  PRINTD cvtds_snan, fa1
  PRINT_FFLAGS cvtds_snan_fl
  /* NaN boxing: fmv.w.x boxes, fld of a non-boxed value reads as canonical NaN */
  li t0, S_ONE
  fmv.w.x fa0, t0
  PRINTD boxed, fa0
  la t1, fbuf
  li t0, 0x000000003f800000
  sd t0, 0(t1)
  fld fa0, 0(t1)
  fadd.s fa1, fa0, fa0
  PRINTF unboxed_add, fa1
  PRINT_FFLAGS unboxed_add_fl
  fmv.x.w a0, fa0
  PRINT unboxed_fmv, a0
  flw fa2, 0(t1)
  fsd fa2, 8(t1)
  ld a0, 8(t1)
  PRINT flw_boxed, a0
  fsw fa0, 16(t1)
  lwu a0, 16(t1)
  PRINT fsw_low, a0
  /*
   * fused multiply-add: single rounding and the 0*inf+qNaN case, whose NV flag
   * is implementation-defined (unprivileged spec 11.6); QEMU 7.2 raises it.
   */
  S3 fmadd.s, fmadd, 0x3f800001, 0x3f800001, 0xbf800002, rne
  S3 fmsub.s, fmsub, S_THREE, S_THREE, S_ONE, rtz
  S3 fnmadd.s, fnmadd, S_ONE, S_ONE, S_ONE, rne
  S3 fnmsub.s, fnmsub, S_ONE, S_THREE, S_ONE, rne
  S3 fmadd.s, fmadd_inv, 0, S_INF, S_QNAN, rne
  S3 fmadd.s, fmadd_nzero, S_NZERO, S_ONE, S_NZERO, rne
  D3 fmadd.d, fmaddd, 0x3ff0000000000001, 0x3ff0000000000001, 0xbff0000000000002, rdn
  D3 fnmsub.d, fnmsubd, D_THREE, D_THREE, D_ONE, rup
  D3 fmsub.d, fmsubd_inf, D_INF, D_ONE, D_INF, rne
  D3 fnmadd.d, fnmaddd_snan, D_SNAN, D_ONE, D_ONE, rne
  /* invalid rounding mode in frm traps only when used */
  csrwi frm, 5
  la t0, bp_trap_skip
  csrw mtvec, t0
  li t0, S_ONE
  fmv.w.x fa0, t0
  fadd.s fa1, fa0, fa0
  fadd.s fa1, fa0, fa0, rne
  PRINTF rm_rne_ok, fa1
  csrwi frm, 0
  /* with FS = Off, FP instructions are illegal */
  li t0, 3 << 13
  csrc mstatus, t0
  fadd.s fa1, fa0, fa0
  csrs mstatus, t0
  csrr a0, fcsr
  PRINT fcsr_end, a0
  la t0, bp_unexpected_trap
  csrw mtvec, t0
  mv ra, s11
  li a0, 0
  ret
  .data
  .align 3
fbuf: .space 32
