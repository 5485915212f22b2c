/**
 * NS16550A register map and bit names, from the National Semiconductor
 * PC16550D UART datasheet (Table II, "Summary of Registers"). Offsets are
 * register numbers (reg-shift 0, as on QEMU virt).
 */

/** Receiver Buffer Register (read, DLAB = 0). */
export const RBR = 0;
/** Transmitter Holding Register (write, DLAB = 0). */
export const THR = 0;
/** Divisor Latch LS (DLAB = 1). */
export const DLL = 0;
/** Interrupt Enable Register (DLAB = 0). */
export const IER = 1;
/** Divisor Latch MS (DLAB = 1). */
export const DLM = 1;
/** Interrupt Identification Register (read). */
export const IIR = 2;
/** FIFO Control Register (write). */
export const FCR = 2;
/** Line Control Register. */
export const LCR = 3;
/** MODEM Control Register. */
export const MCR = 4;
/** Line Status Register. */
export const LSR = 5;
/** MODEM Status Register. */
export const MSR = 6;
/** Scratch Register. */
export const SCR = 7;

/** IER bit 0: Enable Received Data Available Interrupt (and character timeout). */
export const IER_ERBFI = 0x01;
/** IER bit 1: Enable Transmitter Holding Register Empty Interrupt. */
export const IER_ETBEI = 0x02;
/** IER bit 2: Enable Receiver Line Status Interrupt. */
export const IER_ELSI = 0x04;
/** IER bit 3: Enable MODEM Status Interrupt. */
export const IER_EDSSI = 0x08;

/** IIR bit 0 set: no interrupt pending. */
export const IIR_NO_INT = 0x01;
/** IIR identification: receiver line status (priority 1). */
export const IIR_RLS = 0x06;
/** IIR identification: received data available (priority 2). */
export const IIR_RDA = 0x04;
/** IIR identification: character timeout indication (priority 2). */
export const IIR_CTI = 0x0c;
/** IIR identification: transmitter holding register empty (priority 3). */
export const IIR_THRE = 0x02;
/** IIR identification: MODEM status (priority 4). */
export const IIR_MS = 0x00;
/** IIR bits 7:6: set when FCR bit 0 enables the FIFOs. */
export const IIR_FIFOS = 0xc0;

/** FCR bit 0: FIFO Enable. */
export const FCR_FIFO_ENABLE = 0x01;
/** FCR bit 1: RCVR FIFO Reset. */
export const FCR_RCVR_RESET = 0x02;
/** FCR bit 2: XMIT FIFO Reset. */
export const FCR_XMIT_RESET = 0x04;
/** FCR bits 7:6: RCVR FIFO trigger level (1, 4, 8 or 14 bytes). */
export const FCR_RCVR_TRIGGER = 0xc0;

/** LCR bits 1:0: Word Length Select (5 + value bits). */
export const LCR_WLS = 0x03;
/** LCR bit 2: Number of Stop Bits. */
export const LCR_STB = 0x04;
/** LCR bit 3: Parity Enable. */
export const LCR_PEN = 0x08;
/** LCR bit 7: Divisor Latch Access Bit. */
export const LCR_DLAB = 0x80;

/** MCR bit 0: Data Terminal Ready. */
export const MCR_DTR = 0x01;
/** MCR bit 1: Request to Send. */
export const MCR_RTS = 0x02;
/** MCR bit 2: Out 1. */
export const MCR_OUT1 = 0x04;
/** MCR bit 3: Out 2. */
export const MCR_OUT2 = 0x08;
/** MCR bit 4: Loop (diagnostic loopback). */
export const MCR_LOOP = 0x10;

/** LSR bit 0: Data Ready. */
export const LSR_DR = 0x01;
/** LSR bit 1: Overrun Error. */
export const LSR_OE = 0x02;
/** LSR bit 2: Parity Error. */
export const LSR_PE = 0x04;
/** LSR bit 3: Framing Error. */
export const LSR_FE = 0x08;
/** LSR bit 4: Break Interrupt. */
export const LSR_BI = 0x10;
/** LSR bit 5: Transmitter Holding Register Empty. */
export const LSR_THRE = 0x20;
/** LSR bit 6: Transmitter Empty. */
export const LSR_TEMT = 0x40;

/** MSR bit 0: Delta Clear to Send. */
export const MSR_DCTS = 0x01;
/** MSR bit 1: Delta Data Set Ready. */
export const MSR_DDSR = 0x02;
/** MSR bit 2: Trailing Edge Ring Indicator. */
export const MSR_TERI = 0x04;
/** MSR bit 3: Delta Data Carrier Detect. */
export const MSR_DDCD = 0x08;
/** MSR bit 4: Clear to Send. */
export const MSR_CTS = 0x10;
/** MSR bit 5: Data Set Ready. */
export const MSR_DSR = 0x20;
/** MSR bit 6: Ring Indicator. */
export const MSR_RI = 0x40;
/** MSR bit 7: Data Carrier Detect. */
export const MSR_DCD = 0x80;
