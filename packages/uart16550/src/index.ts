/** @backplane/uart16550 — An NS16550A UART model, as Linux's 8250 driver uses it. */
export {};
